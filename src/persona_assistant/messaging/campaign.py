"""The campaign matrix (personas x channels x stages x variants), generated concurrently
and resumably (messaging/items.py: one file per item under
<state>/campaign/<campaign id>/, a rerun asks only for what is missing).

The campaign id hashes the selection, the personas, the brief, the channel limits and
the engine, so changed inputs never reuse stale copy. The offline engine and the model
(`llm_generator`: one structured-output call per asset, llm/loop.py, whose checks are the
references and the copy lint) plug into the same loop.

The whole run from a workspace (inputs, the engine, the loop, assembly, the saved version) is
`services.campaign.run_campaign`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from persona_assistant.errors import UsageError
from persona_assistant.llm.loop import Check
from persona_assistant.messaging.asset_answer import AssetDraft, asset_answer
from persona_assistant.messaging.channels import Channel, LintConfig
from persona_assistant.messaging.attribution import QuotePolicy, quote_policy
from persona_assistant.messaging.items import (  # noqa: F401 (re-exported for callers of the campaign)
    GenerateItem, ItemSpec, RunResult, load_item, plan_items, run_items,
)
from persona_assistant.messaging.lint import errors, lint_asset
from persona_assistant.messaging.message_map import build_message_map, map_for_prompt
from persona_assistant.messaging.offline_copy import STAGES, offline_asset
from persona_assistant.messaging.planning import content_ideas, journey_map
from persona_assistant.messaging.quality import repetition_findings
from persona_assistant.schemas import (
    ICP, PERSONA_ITEM_FIELDS, Asset, Brief, Campaign, ItemRef, LintFinding, MessageMap, Persona, Stage,
)
from persona_assistant.workspace import Workspace

# Re-asks of one asset, within the loop's answer budget (llm/loop.py): references that point
# nowhere once, lint errors twice; then the asset is kept with what still fails left out or
# reported as findings. At most llm.loop.ANSWERS_PER_CALL answers per asset either way.
REF_REASKS = 1
LINT_REASKS = 2


@dataclass
class Context:
    """What every item is generated from."""

    personas: dict[str, Persona]
    brief: Brief
    channels: dict[str, Channel]
    config: LintConfig
    known: str
    icp: ICP | None = None
    public_sources: tuple[str, ...] = ()  # note ids whose front matter says `consent: public`
    _built: dict = field(default_factory=dict, repr=False)  # what map_for/quotes built, with their inputs

    def map_for(self, persona_id: str) -> MessageMap:
        """The persona's message map, built once per persona object."""
        persona = self.personas[persona_id]
        key = ("map", persona_id)
        if key not in self._built or self._built[key][0] is not persona:
            self._built[key] = (persona, build_message_map(persona, self.brief))
        return self._built[key][1]

    def answer_for(self, persona_id: str, channel: str) -> type[AssetDraft]:
        """The asset answer model narrowed to the persona and channel (messaging/asset_answer.py),
        built once per persona object and channel: every stage and variant asks with the same one."""
        persona = self.personas[persona_id]
        key = ("answer", persona_id, channel)
        if key not in self._built or self._built[key][0] is not persona:
            self._built[key] = (persona, asset_answer(self.channels[channel], persona, self.brief))
        return self._built[key][1]

    @property
    def quotes(self) -> QuotePolicy:
        """Which interview quotes copy may show, built once per set of personas."""
        ids = tuple(id(p) for p in self.personas.values())
        if self._built.get("quotes", (None,))[0] != ids:
            self._built["quotes"] = (ids, quote_policy(self.personas.values(), self.brief, self.public_sources))
        return self._built["quotes"][1]


def campaign_id(ctx: Context, persona_ids: list[str], channels: list[str], stages: list[str], variants: int,
                engine: str) -> str:
    """Same selection + same inputs + same engine -> same id (so a rerun resumes)."""
    payload = {
        "personas": [ctx.personas[p].model_dump(mode="json") for p in persona_ids],
        "channels": channels, "stages": stages, "variants": variants, "engine": engine,
        "brief": ctx.brief.model_dump(mode="json"),
        "limits": {c: asdict(ctx.channels[c]) for c in channels if c in ctx.channels},
        "lint": asdict(ctx.config), "public_sources": sorted(ctx.public_sources),
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    return "c" + digest[:12]


def items_dir(ws: Workspace, cid: str) -> Path:
    return ws.state_dir / "campaign" / cid


# --------------------------------------------------------------------------- generators


def offline_generator(ctx: Context) -> GenerateItem:
    async def generate(spec: ItemSpec) -> Asset:
        return offline_asset(ctx.personas[spec.persona_id], ctx.channels[spec.channel], spec.stage, spec.variant,
                             brief=ctx.brief, config=ctx.config, known=ctx.known, mmap=ctx.map_for(spec.persona_id),
                             quotes=ctx.quotes)
    return generate


def persona_items(persona: Persona) -> list[dict]:
    """The persona's items as the prompt lists them: field, index, text."""
    return [{"field": f, "index": i, "text": c.text}
            for f in PERSONA_ITEM_FIELDS for i, c in enumerate(getattr(persona, f))
            if c.text.strip() and c.text.lower() != "unknown"]


def check_refs(draft: AssetDraft, persona: Persona, brief: Brief, channel: Channel) -> list[str]:
    """Problems a re-ask can fix: addresses that point nowhere, proof points not in the brief,
    field names the channel does not have."""
    problems = []
    for ref in draft.addresses:
        items = getattr(persona, ref.field, None) if ref.field in PERSONA_ITEM_FIELDS else None
        if items is None or ref.index >= len(items):
            problems.append(f"addresses: {ref.field}[{ref.index}] is not an item of persona {persona.id}")
    claims = {p.claim for p in brief.proof_points}
    for p in draft.proof_points:
        if p not in claims:
            problems.append(f"proof_points: {p[:80]!r} is not a proof point of the brief (copy it exactly)")
    names = {r.name for r in channel.fields}
    for f in draft.fields:
        if f.name not in names:
            problems.append(f"fields: {channel.name} has no field {f.name!r} (fields: {', '.join(sorted(names))})")
    return problems


def draft_to_asset(draft: AssetDraft, spec: ItemSpec, persona: Persona, channel: Channel, brief: Brief,
                   engine: str) -> tuple[Asset, list[str]]:
    """(asset, dropped): the asset from the model's draft without what still points nowhere after
    the one re-ask (a server that ignored the closed sets), one line per part left out."""
    fields: dict[str, str | list[str]] = {}
    dropped: list[str] = []
    for f in draft.fields:
        rule = channel.rule(f.name)
        if rule is None:
            dropped.append(f"fields: {channel.name} has no field {f.name!r}")
            continue
        fields[f.name] = list(f.items) if rule.is_list else f.text
    refs = []
    for r in draft.addresses:
        items = getattr(persona, r.field, None) if r.field in PERSONA_ITEM_FIELDS else None
        if items is None or not 0 <= r.index < len(items):
            dropped.append(f"addresses: {r.field}[{r.index}] is not an item of persona {persona.id}")
            continue
        refs.append(ItemRef(field=r.field, index=r.index, text=items[r.index].text))
    claims = {p.claim for p in brief.proof_points}
    proofs = [p for p in dict.fromkeys(draft.proof_points) if p in claims]
    dropped += [f"proof_points: {p[:80]!r} is not a proof point of the brief" for p in draft.proof_points
                if p not in claims]
    asset = Asset(id=spec.id, persona_id=spec.persona_id, channel=spec.channel, stage=spec.stage,
                  variant=spec.variant, angle=spec.angle, fields=fields, addresses=refs,
                  proof_points=proofs, engine=engine)
    return asset, dropped


def llm_generator(ctx: Context, llm, ws: Workspace | None) -> GenerateItem:
    """Assets written by the model: one structured-output call per asset whose checks (llm/loop.py)
    are the references (REF_REASKS) and the copy lint (LINT_REASKS); an asset still failing lint
    when the re-asks are spent is saved with its findings."""
    from persona_assistant import prompts

    async def generate(spec: ItemSpec) -> Asset:
        persona = ctx.personas[spec.persona_id]
        channel = ctx.channels[spec.channel]
        rendered = prompts.render(
            "asset", ws, channel={"name": channel.name, "description": channel.description,
                                  "fields": [{"name": r.name, "limits": r.describe()} for r in channel.fields],
                                  "cta_field": channel.cta_field},
            stage=spec.stage, angle=spec.angle, variant=spec.variant,
            persona={"id": persona.id, "name": persona.name, "role": persona.role,
                     "archetype": persona.archetype, "vocabulary": persona.vocabulary},
            items=persona_items(persona), objections=[c.text for c in persona.objections],
            brief=ctx.brief.model_dump(mode="json"), merge_fields=ctx.config.merge_fields,
            ai_phrases=ctx.config.ai_phrases, message_map=map_for_prompt(ctx.map_for(persona.id), spec.stage))
        answer = ctx.answer_for(persona.id, channel.name)  # closed sets: the channel's fields, the persona's items

        last: dict = {}  # the draft linted last (the loop's check) and its asset: the kept one is linted once

        def linted(draft: AssetDraft, notes: list[str] = ()) -> Asset:
            if last.get("draft") is not draft:
                asset, dropped = draft_to_asset(draft, spec, persona, channel, ctx.brief, llm.settings.model)
                ids = {e.id for e in ctx.map_for(persona.id).entries}
                asset.map_entries = [i for r in asset.addresses if (i := f"{r.field}[{r.index}]") in ids]
                last.update(draft=draft, asset=lint_asset(asset, channel, brief=ctx.brief, config=ctx.config,
                                                          known=ctx.known, persona=persona, quotes=ctx.quotes),
                            dropped=dropped)
            asset, dropped = last["asset"], last["dropped"]
            kept = [LintFinding(rule="answer_item_dropped", field="answer", message=n, severity="warning")
                    for n in [n for n in notes if n.startswith("dropped ")] + dropped]
            return asset.model_copy(update={"lint": asset.lint + kept})

        result = await llm.structured_async(
            "asset", rendered.messages(), answer,
            checks=[Check("references", lambda d: check_refs(d, persona, ctx.brief, channel), reasks=REF_REASKS),
                    Check("lint", lambda d: [f"{f.field}: {f.rule}: {f.message}" for f in errors(linted(d).lint)],
                          reasks=LINT_REASKS)],
            cache_key_parts={"prompt": rendered.name, "version": rendered.version, "item": spec.id})
        return linted(result.value, result.notes)
    return generate


# --------------------------------------------------------------------------- assembly


def assemble(cid: str, specs: list[ItemSpec], out_dir: Path, ctx: Context, persona_ids: list[str],
             channels: list[str], stages: list[Stage], variants: int) -> Campaign:
    """The Campaign from the saved items plus journeys and content ideas (planned offline from data)."""
    assets = [a for a in (load_item(out_dir, s) for s in specs) if a is not None]
    repeated = repetition_findings(assets)  # the one rule that needs the whole campaign
    assets = [a.model_copy(update={"lint": [f for f in a.lint if f.rule != "repetition"] + repeated[a.id]})
              if a.id in repeated else a for a in assets]
    personas = [ctx.personas[p] for p in persona_ids]
    journeys = [journey_map(p, ctx.brief, channels) for p in personas] if "journey" in channels else []
    ideas = content_ideas(ctx.icp, personas, ctx.brief) if "content_ideas" in channels else []
    return Campaign(id=cid, personas=persona_ids, channels=channels, stages=stages, variants=variants,
                    assets=assets, journeys=journeys, content_ideas=ideas,
                    message_maps=[ctx.map_for(p) for p in persona_ids])


def select_personas(requested: list[str] | None, personas: list[Persona]) -> list[str]:
    ids = [p.id for p in personas]
    if not requested:
        return ids
    for r in requested:
        if r not in ids:
            raise UsageError(f"--persona: no persona {r!r} in the latest personas draft (ids: {', '.join(ids)})")
    return list(dict.fromkeys(requested))


def select_stages(requested: list[str] | None) -> list[Stage]:
    if not requested:
        return list(STAGES)
    for s in requested:
        if s not in STAGES:
            raise UsageError(f"--stage: unknown stage {s!r} (use {', '.join(STAGES)})")
    return [s for s in STAGES if s in requested]
