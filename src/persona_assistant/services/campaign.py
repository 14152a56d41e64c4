"""`campaign`: a whole run from a workspace (inputs, settings, the engine, assembly, a saved version).

The items themselves are messaging.campaign's (matrix, bounded concurrency, one file per finished item,
resume); this module decides what is drafted from (the latest personas and ICP, the brief) and with
which engine (engine.engine_for), and reports progress through callbacks, never by printing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from persona_assistant.errors import UsageError
from persona_assistant.llm import DEFAULT_CONCURRENCY
from persona_assistant.messaging.attribution import public_sources
from persona_assistant.messaging.campaign import (
    Context, ItemSpec, RunResult, assemble, campaign_id, items_dir, load_item, plan_items, run_items,
    select_personas, select_stages,
)
from persona_assistant.messaging.channels import lint_config, select_channels, workspace_channels
from persona_assistant.messaging.claims import known_text
from persona_assistant.messaging.lint import errors
from persona_assistant.messaging.message_map import check_brief
from persona_assistant.schemas import ICP, PersonaSet
from persona_assistant.workspace import Version, Workspace, load_brief, open_workspace
from persona_assistant.workspace_lock import one_writer


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
    from persona_assistant.engine import engine_for
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
    engine = engine_for(resolve_settings(ws, offline=offline, max_tokens=max_tokens), offline_requested=offline)
    notice = engine.notice
    if notice and on_notice:
        on_notice(notice)

    ctx = Context(personas={p.id: p for p in pset.personas}, brief=brief, channels=all_channels,
                  config=lint_config(ws.config(), str(ws.config_path)),
                  known=known_text(brief, pset.personas, icp), icp=icp, public_sources=public_sources(ws))
    cid = campaign_id(ctx, pids, selected, stage_list, variants, engine.label)
    specs = plan_items(pids, selected, stage_list, variants)
    out_dir = ws.make_dir(items_dir(ws, cid))

    async def generate() -> RunResult:
        async with engine.client(ws, concurrency) as client:  # offline: no client
            generator = engine.copy_generator(ctx, ws, client)
            return await run_items(specs, generator, out_dir, concurrency=concurrency, on_item=on_item,
                                   on_start=on_start)

    try:
        result = asyncio.run(generate())
    except KeyboardInterrupt:
        result = RunResult(total=len(specs), interrupted=True,
                           done=[s.id for s in specs if load_item(out_dir, s) is not None])

    outcome = CampaignOutcome(campaign_id=cid, result=result, engine=engine.label, items_dir=out_dir, notice=notice)
    if result.complete:
        camp = assemble(cid, specs, out_dir, ctx, pids, selected, stage_list, variants)
        outcome.lint_errors = sum(1 for a in camp.assets if errors(a.lint))
        outcome.lint_failed = [f"{a.id}: {', '.join(dict.fromkeys(f.rule for f in errors(a.lint)))}"
                               for a in camp.assets if errors(a.lint)]
        outcome.map_only = sum(1 for a in camp.assets if a.map_only)
        outcome.version = ws.save_version("campaign", camp, campaign_markdown(camp, pset.personas))
    return outcome
