"""The campaign matrix (personas x channels x stages x variants), generated concurrently
and resumably.

Why files per item: a run may be interrupted (Ctrl-C, kill, a failing endpoint) after
paying for half its items. Each finished item is written at once, atomically, to
<state>/campaign/<campaign id>/<item>.json; a rerun with the same selection and inputs
gets the same campaign id, skips every item already on disk and asks only for the rest.
The campaign id hashes the selection, the personas, the brief, the channel limits and
the engine, so changed inputs never reuse stale copy.

The loop takes any async `generate_item(spec) -> Asset`: the offline engine and the LLM
path plug into the same loop (and tests plug in a slow fake).

The whole run from a workspace (inputs, the engine, the loop, assembly, the saved version) is
`services.campaign.run_campaign`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydantic import ValidationError

from persona_assistant.errors import StorageError, UsageError
from persona_assistant.llm.answers import check_once
from persona_assistant.messaging.asset_answer import AssetDraft, asset_answer
from persona_assistant.messaging.channels import (
    PLANNING_CHANNELS, Channel, LintConfig, select_channels,
)
from persona_assistant.messaging.attribution import QuotePolicy, public_sources, quote_policy
from persona_assistant.messaging.lint import errors, lint_asset
from persona_assistant.messaging.message_map import build_message_map, map_for_prompt
from persona_assistant.messaging.offline_copy import STAGES, angle_for, asset_id, offline_asset
from persona_assistant.messaging.planning import content_ideas, journey_map
from persona_assistant.messaging.quality import repetition_findings
from persona_assistant.schemas import (
    ICP, PERSONA_ITEM_FIELDS, Asset, Brief, Campaign, Contract, ItemRef, LintFinding, MessageMap, Persona,
    Stage,
)
from persona_assistant.workspace import Workspace, atomic_write

MAX_LINT_REASKS = 2


@dataclass(frozen=True)
class ItemSpec:
    """One cell of the matrix."""

    persona_id: str
    channel: str
    stage: Stage
    variant: int

    @property
    def id(self) -> str:
        return asset_id(self.persona_id, self.channel, self.stage, self.variant)

    @property
    def angle(self):
        return angle_for(self.variant)

    @property
    def filename(self) -> str:
        return re.sub(r"[^\w.-]+", "_", self.id.replace("/", "--")) + ".json"


def plan_items(persona_ids: list[str], channels: list[str], stages: list[Stage], variants: int) -> list[ItemSpec]:
    """Copy items of the matrix, in a stable order; planning channels are not items."""
    return [ItemSpec(p, c, s, v) for p in persona_ids for c in channels if c not in PLANNING_CHANNELS
            for s in stages for v in range(1, variants + 1)]


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


# --------------------------------------------------------------------------- the loop


@dataclass
class RunResult:
    total: int
    done: list[str] = field(default_factory=list)  # on disk (earlier runs and this one)
    generated: list[str] = field(default_factory=list)  # written by this run
    failed: dict[str, str] = field(default_factory=dict)  # item id -> one-line reason
    interrupted: bool = False
    stopped: str | None = None  # why the run stopped starting items (the endpoint refusing), one line

    @property
    def pending(self) -> int:
        return self.total - len(self.done) - len(self.failed)

    @property
    def complete(self) -> bool:
        return len(self.done) == self.total

    def summary(self) -> str:
        return f"{len(self.done)} done / {len(self.failed)} failed / {self.pending} pending"

    def failures_by_cause(self) -> dict[str, list[str]]:
        """Failed item ids grouped by their one-line reason, in item order."""
        causes: dict[str, list[str]] = {}
        for item_id, reason in sorted(self.failed.items()):
            causes.setdefault(reason, []).append(item_id)
        return causes

    def failure_lines(self, limit: int = 20) -> list[str]:
        """One line per cause: "failed ITEM: REASON", or "N items failed: REASON (first: ITEM)" when
        several items share it, so a failure storm (an endpoint down, a quota) is one line, not N; at
        most `limit` lines; then why the run stopped."""
        lines = [f"failed {ids[0]}: {reason}" if len(ids) == 1 else f"{len(ids)} items failed: {reason} (first: {ids[0]})"
                 for reason, ids in self.failures_by_cause().items()]
        if len(lines) > limit:
            lines = lines[:limit] + [f"... and {len(lines) - limit} more distinct failures (--json lists all)"]
        if self.stopped:
            lines.append(f"stopped: {self.stopped}; finished items are saved")
        return lines


def load_item(out_dir: Path, spec: ItemSpec) -> Asset | None:
    path = out_dir / spec.filename
    if path.is_symlink() or not path.is_file():  # the tool never writes a link: one is not its item
        return None
    try:
        asset = Asset.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, UnicodeDecodeError):
        return None  # unreadable: generate again
    return asset if asset.id == spec.id else None


GenerateItem = Callable[[ItemSpec], Awaitable[Asset]]


async def run_items(specs: list[ItemSpec], generate_item: GenerateItem, out_dir: Path, *,
                    concurrency: int = 8, on_item: Callable[[ItemSpec, bool], None] | None = None,
                    on_start: Callable[[int, int], None] | None = None) -> RunResult:
    """Generate the items missing from `out_dir`, at most `concurrency` at a time, each saved
    as soon as it is finished. Cancellation (Ctrl-C) or a StorageError (disk full: no item's fault,
    raised once) stops the rest; what is saved stays. An error marked `stops_run` (the LLM's
    circuit breaker, llm/faults.EndpointRefusing; a prompt template over its budget,
    prompts.TemplateBudgetError) stops starting items: they stay pending, `result.stopped` says
    why. `on_start(total, already on disk)` is called once, before the first item."""
    result = RunResult(total=len(specs))
    todo = []
    for spec in specs:
        if load_item(out_dir, spec) is not None:
            result.done.append(spec.id)
        else:
            todo.append(spec)
    if on_start:
        on_start(len(specs), len(result.done))
    sem = asyncio.Semaphore(max(1, concurrency))

    async def one(spec: ItemSpec) -> None:
        async with sem:
            if result.stopped or result.interrupted:  # the item stays pending for a rerun
                return
            try:
                asset = await generate_item(spec)
                atomic_write(out_dir / spec.filename, asset.model_dump_json(indent=2) + "\n")
            except (asyncio.CancelledError, StorageError):
                result.interrupted = True  # no item waiting for a slot starts after a failed write
                raise
            except Exception as exc:  # one failing item must not stop the others...
                message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
                if getattr(exc, "stops_run", False):  # ...unless it would stop every one the same way
                    result.stopped = result.stopped or " ".join(str(message).split())[:300]
                    return
                result.failed[spec.id] = " ".join(str(message).split())[:300]
                if on_item:
                    on_item(spec, False)
                return
            result.done.append(spec.id)
            result.generated.append(spec.id)
            if on_item:
                on_item(spec, True)

    tasks = [asyncio.create_task(one(s)) for s in todo]
    try:
        await asyncio.gather(*tasks)
    except (asyncio.CancelledError, KeyboardInterrupt, StorageError) as exc:
        result.interrupted = True
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if isinstance(exc, StorageError):
            raise
    return result


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
    """Assets written by the model: validated and ref-checked by the LLM layer, then linted here;
    an asset with lint errors is re-asked with the findings at most MAX_LINT_REASKS times and
    then saved with its findings."""
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
        messages = rendered.messages()
        answer = asset_answer(channel, persona, ctx.brief)  # closed sets: the channel's fields, the persona's items
        asset: Asset | None = None
        previous: AssetDraft | None = None
        for attempt in range(MAX_LINT_REASKS + 1):
            result = await llm.structured_async(
                "asset", messages, answer,
                check=check_once(lambda d: check_refs(d, persona, ctx.brief, channel)),
                cache_key_parts={"prompt": rendered.name, "version": rendered.version, "item": spec.id,
                                 "attempt": attempt})
            asset, dropped = draft_to_asset(result.value, spec, persona, channel, ctx.brief, llm.settings.model)
            ids = {e.id for e in ctx.map_for(persona.id).entries}
            asset.map_entries = [i for r in asset.addresses if (i := f"{r.field}[{r.index}]") in ids]
            asset = lint_asset(asset, channel, brief=ctx.brief, config=ctx.config, known=ctx.known,
                               persona=persona, quotes=ctx.quotes)
            kept = [LintFinding(rule="answer_item_dropped", field="answer", message=n, severity="warning")
                    for n in [n for n in result.notes if n.startswith("dropped ")] + dropped]
            asset = asset.model_copy(update={"lint": asset.lint + kept})
            bad = errors(asset.lint)
            if not bad or result.value == previous:  # the same copy again: another re-ask would not change it
                break
            previous = result.value
            messages = messages + [
                {"role": "assistant", "content": result.value.model_dump_json()},
                {"role": "user", "content": "The copy breaks these rules; fix every one and answer with the "
                                            "corrected JSON only:\n- "
                                            + "\n- ".join(f"{f.field}: {f.rule}: {f.message}" for f in bad)},
            ]
        assert asset is not None
        return asset
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
