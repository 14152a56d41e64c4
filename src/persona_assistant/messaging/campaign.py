"""The campaign matrix (personas x channels x stages x variants), generated concurrently
and resumably (messaging/items.py: one file per item under
<state>/campaign/<campaign id>/, a rerun asks only for what is missing).

The campaign id hashes the selection, the personas, the brief, the channel limits and
the engine, so changed inputs never reuse stale copy. The offline engine and the model
(`llm_generator`: one structured-output call per asset, llm/loop.py, whose checks are the
references and the copy lint) plug into the same loop.

`run_campaign` is the whole run from a workspace (inputs, settings, the loop, assembly and
the saved version) for the CLI command, the demo and anything else; callers get progress
through callbacks and print what they like from the `CampaignOutcome`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from persona_assistant.errors import UsageError
from persona_assistant.llm.capacity import DEFAULT_CONCURRENCY
from persona_assistant.llm.loop import Check
from persona_assistant.messaging.asset_answer import AssetDraft, asset_answer
from persona_assistant.messaging.channels import Channel, LintConfig, lint_config, select_channels, workspace_channels
from persona_assistant.messaging.attribution import QuotePolicy, public_sources, quote_policy
from persona_assistant.messaging.claims import known_text
from persona_assistant.messaging.items import (  # noqa: F401 (ItemSpec, RunResult, run_items: re-exported)
    GenerateItem, ItemSpec, RunResult, load_item, plan_items, run_items,
)
from persona_assistant.messaging.lint import errors, lint_asset
from persona_assistant.messaging.message_map import build_message_map, check_brief, map_for_prompt
from persona_assistant.messaging.offline_copy import STAGES, offline_asset
from persona_assistant.messaging.planning import content_ideas, journey_map
from persona_assistant.messaging.quality import repetition_findings
from persona_assistant.schemas import (
    ICP, PERSONA_ITEM_FIELDS, Asset, Brief, Campaign, ItemRef, LintFinding, MessageMap, Persona, PersonaSet, Stage,
)
from persona_assistant.workspace import Version, Workspace, load_brief, open_workspace
from persona_assistant.workspace_lock import one_writer

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


# --------------------------------------------------------------------------- the whole run

@dataclass
class CampaignOutcome:
    """What `run_campaign` did: the run's counts, where its items are, the saved version (only
    when every item is on disk) and the notice about falling back to the offline engine."""

    campaign_id: str
    result: RunResult
    engine: str  # "offline" or the model name
    items_dir: Path
    version: Version | None = None
    lint_errors: int = 0  # assets saved with lint errors
    notice: str | None = None
    lint_failed: list[str] = field(default_factory=list)  # "asset id: rule, rule" per failing asset
    map_only: int = 0  # assets the offline engine left as their message map entries


@one_writer("campaign")
def run_campaign(ws: Workspace | str | Path, *, channels: list[str] | None = None,
                 stages: list[str] | None = None, variants: int = 3, concurrency: int = DEFAULT_CONCURRENCY,
                 persona_ids: list[str] | None = None, offline: bool = False, max_tokens: int | None = None,
                 on_notice: Callable[[str], None] | None = None,
                 on_start: Callable[[int, int], None] | None = None,
                 on_item: Callable[[ItemSpec, bool], None] | None = None) -> CampaignOutcome:
    """Generate the campaign for the latest personas draft: the items missing from an earlier run
    with the same selection and inputs, then (when every item is on disk) save a campaign version.

    `channels`, `stages` and `persona_ids` default to all; bad values raise UsageError before
    anything is written. `on_notice(message)` hears the offline-engine notice when it is decided,
    `on_start(total, already_on_disk)` is called once before the first item and `on_item(spec, ok)`
    after each item. Ctrl-C stops generation: finished items stay on disk and the outcome says
    `result.interrupted`. Holds the writer lock (`wait=True` waits for a holder); a campaign equal
    to the latest version is not saved again (`outcome.version.unchanged`).
    """
    from persona_assistant.draft.markdown import campaign_markdown
    from persona_assistant.llm.settings import resolve_settings

    if variants < 1:
        raise UsageError(f"--variants: must be at least 1, got {variants}")
    if concurrency < 1:
        raise UsageError(f"--concurrency: must be at least 1, got {concurrency}")
    if not isinstance(ws, Workspace):
        ws = open_workspace(ws)
    pset = ws.load_version("personas", PersonaSet)
    if pset is None or not pset.personas:
        raise UsageError(f"no personas in {ws.drafts_dir / 'personas'}; run `persona-assistant draft personas` first")
    icp = ws.load_version("icp", ICP)
    brief = load_brief(ws)
    check_brief(brief, ws.brief_path)
    all_channels = workspace_channels(ws)
    selected = select_channels(channels, all_channels)
    stage_list = select_stages(stages)
    pids = select_personas(persona_ids, pset.personas)
    settings = resolve_settings(ws, offline=offline, max_tokens=max_tokens)
    engine = "offline" if settings.offline else settings.model
    notice = settings.offline_notice if settings.offline and not offline else None
    if notice and on_notice:
        on_notice(notice)

    ctx = Context(personas={p.id: p for p in pset.personas}, brief=brief, channels=all_channels,
                  config=lint_config(ws.config(), str(ws.config_path)),
                  known=known_text(brief, pset.personas, icp), icp=icp, public_sources=public_sources(ws))
    cid = campaign_id(ctx, pids, selected, stage_list, variants, engine)
    specs = plan_items(pids, selected, stage_list, variants)
    out_dir = ws.make_dir(items_dir(ws, cid))

    async def generate() -> RunResult:
        async with contextlib.AsyncExitStack() as stack:
            if settings.offline:
                generator = offline_generator(ctx)
            else:
                from persona_assistant.llm.client import LLM

                llm = await stack.enter_async_context(LLM(settings, ws=ws, concurrency=concurrency))
                generator = llm_generator(ctx, llm, ws)
            return await run_items(specs, generator, out_dir, concurrency=concurrency, on_item=on_item,
                                   on_start=on_start)

    try:
        result = asyncio.run(generate())
    except KeyboardInterrupt:
        result = RunResult(total=len(specs), interrupted=True,
                           done=[s.id for s in specs if load_item(out_dir, s) is not None])

    outcome = CampaignOutcome(campaign_id=cid, result=result, engine=engine, items_dir=out_dir, notice=notice)
    if result.complete:
        camp = assemble(cid, specs, out_dir, ctx, pids, selected, stage_list, variants)
        outcome.lint_errors = sum(1 for a in camp.assets if errors(a.lint))
        outcome.lint_failed = [f"{a.id}: {', '.join(dict.fromkeys(f.rule for f in errors(a.lint)))}"
                               for a in camp.assets if errors(a.lint)]
        outcome.map_only = sum(1 for a in camp.assets if a.map_only)
        outcome.version = ws.save_version("campaign", camp, campaign_markdown(camp, pset.personas))
    return outcome
