"""`campaign`: copy for the matrix personas x channels x stages x variants, resumable."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from persona_assistant.cli.app import JsonOpt, WorkspaceOpt, app, emit_json, notice


@app.command("campaign")
def campaign(
    workspace: WorkspaceOpt = Path("."),
    channel: Annotated[Optional[list[str]], typer.Option(
        "--channel", help="Channel to write (repeatable; default all, incl. custom [channels.*], "
                          "content_ideas and journey).")] = None,
    stage: Annotated[Optional[list[str]], typer.Option(
        "--stage", help="awareness, consideration or decision (repeatable; default all).")] = None,
    variants: Annotated[int, typer.Option("--variants", help="Variants per asset; angles cycle pain, proof, insight.")] = 3,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Model requests at a time.")] = 8,
    persona: Annotated[Optional[list[str]], typer.Option("--persona", help="Persona id (repeatable; default all).")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Use the offline engine even if a model is configured.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Write campaign copy per persona; a rerun generates only what is missing."""
    import asyncio

    from persona_assistant.errors import UsageError
    from persona_assistant.export.markdown import campaign_markdown
    from persona_assistant.llm.settings import resolve_settings
    from persona_assistant.messaging import campaign as cm
    from persona_assistant.messaging.channels import lint_config, select_channels, workspace_channels
    from persona_assistant.messaging.claims import known_text
    from persona_assistant.schemas import ICP, PersonaSet
    from persona_assistant.workspace import load_brief, open_workspace

    if variants < 1:
        raise UsageError(f"--variants: must be at least 1, got {variants}")
    if concurrency < 1:
        raise UsageError(f"--concurrency: must be at least 1, got {concurrency}")
    ws = open_workspace(workspace)
    pset = ws.load_version("personas", PersonaSet)
    if pset is None or not pset.personas:
        raise UsageError(f"no personas in {ws.drafts_dir / 'personas'}; run `persona-assistant draft personas` first")
    icp = ws.load_version("icp", ICP)
    brief = load_brief(ws)
    channels = workspace_channels(ws)
    selected = select_channels(channel, channels)
    stages = cm.select_stages(stage)
    persona_ids = cm.select_personas(persona, pset.personas)
    settings = resolve_settings(ws, offline=offline)
    engine = "offline" if settings.offline else settings.model
    if settings.offline and not offline:
        notice(settings.offline_notice)

    ctx = cm.Context(personas={p.id: p for p in pset.personas}, brief=brief, channels=channels,
                     config=lint_config(ws.config(), str(ws.config_path)),
                     known=known_text(brief, pset.personas, icp), icp=icp)
    cid = cm.campaign_id(ctx, persona_ids, selected, stages, variants, engine)
    specs = cm.plan_items(persona_ids, selected, stages, variants)
    out_dir = cm.items_dir(ws, cid)
    show_bar = sys.stderr.isatty() and not json_out

    async def main() -> cm.RunResult:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        progress = Progress(TextColumn("campaign"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=Console(stderr=True), disable=not show_bar, transient=True)
        with progress:
            done_before = sum(1 for s in specs if cm.load_item(out_dir, s) is not None)
            bar = progress.add_task("items", total=len(specs), completed=done_before)

            def on_item(spec, ok) -> None:
                progress.advance(bar)

            if settings.offline:
                return await cm.run_items(specs, cm.offline_generator(ctx), out_dir, concurrency=concurrency,
                                          on_item=on_item)
            from persona_assistant.llm.client import LLM

            async with LLM(settings, ws=ws) as llm:
                return await cm.run_items(specs, cm.llm_generator(ctx, llm, ws), out_dir,
                                          concurrency=concurrency, on_item=on_item)

    try:
        result = asyncio.run(main())
    except KeyboardInterrupt:
        result = cm.RunResult(total=len(specs), interrupted=True,
                              done=[s.id for s in specs if cm.load_item(out_dir, s) is not None])

    version = None
    lint_errors = 0
    if result.complete:
        camp = cm.assemble(cid, specs, out_dir, ctx, persona_ids, selected, stages, variants)
        lint_errors = sum(1 for a in camp.assets if any(f.severity == "error" for f in a.lint))
        version = ws.save_version("campaign", camp, campaign_markdown(camp, pset.personas))
    if json_out:
        emit_json({"campaign_id": cid, "summary": result.summary(), "done": len(result.done),
                   "failed": result.failed, "pending": result.pending, "generated": len(result.generated),
                   "interrupted": result.interrupted, "engine": engine, "items_dir": str(out_dir),
                   "assets_with_lint_errors": lint_errors,
                   "version": version.number if version else None})
    else:
        for item_id, reason in sorted(result.failed.items()):
            notice(f"failed {item_id}: {reason}")
        if version is not None:
            notice(f"saved campaign {cid} as {version.path}")
            if lint_errors:
                notice(f"{lint_errors} assets kept lint errors (shown in {version.path.with_suffix('.md').name})")
    notice(result.summary())
    if not result.complete:
        notice("run the same command again to generate only the missing items")
        raise typer.Exit(130 if result.interrupted else 1)
