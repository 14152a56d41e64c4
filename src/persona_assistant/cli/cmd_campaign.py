"""`campaign`: copy for the matrix personas x channels x stages x variants, resumable.

The run itself is `messaging.campaign.run_campaign`; this module adds the progress bar
(stderr, terminals only) and prints the outcome. `demo` uses the same bar and report.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from persona_assistant.cli.common import JsonOpt, MaxTokensOpt, WorkspaceOpt, emit_json, notice
from persona_assistant.llm import DEFAULT_CONCURRENCY

if TYPE_CHECKING:
    from persona_assistant.messaging.campaign import ItemSpec
    from persona_assistant.services.campaign import CampaignOutcome


class ProgressBar:
    """A transient rich progress bar on stderr, fed by run_campaign's on_start/on_item callbacks;
    with `show` false it draws nothing."""

    def __init__(self, show: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("campaign"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 console=Console(stderr=True), disable=not show, transient=True)
        self.task = None

    def start(self, total: int, done_before: int) -> None:
        self.progress.start()
        self.task = self.progress.add_task("items", total=total, completed=done_before)

    def advance(self, spec: ItemSpec, ok: bool) -> None:
        if self.task is not None:
            self.progress.advance(self.task)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        if self.task is not None:  # started
            self.progress.stop()


def report(outcome: CampaignOutcome, json_out: bool, allow_lint_failures: bool = False) -> None:
    """Print the outcome (JSON on stdout or notices on stderr), then the summary; exit 130 after an
    interrupt, 1 when items are still missing, and 1 when saved assets fail lint unless
    `allow_lint_failures` (the version is saved either way)."""
    result, version = outcome.result, outcome.version
    if json_out:
        emit_json({"campaign_id": outcome.campaign_id, "summary": result.summary(), "done": len(result.done),
                   "failed": result.failed,
                   "failure_causes": {r: len(ids) for r, ids in result.failures_by_cause().items()},
                   "stopped": result.stopped, "pending": result.pending, "generated": len(result.generated),
                   "interrupted": result.interrupted, "engine": outcome.engine,
                   "items_dir": str(outcome.items_dir), "assets_with_lint_errors": outcome.lint_errors,
                   "lint_failures": outcome.lint_failed, "map_only": outcome.map_only,
                   "version": version.number if version else None,
                   "unchanged": bool(version and version.unchanged)})
    else:
        for line in result.failure_lines():
            notice(line)
        if version is not None and version.unchanged:
            notice(f"unchanged: campaign {outcome.campaign_id} is identical to campaign {version.label} "
                   f"({version.path}); no new version saved")
        elif version is not None:
            notice(f"saved campaign {outcome.campaign_id} as {version.path}")
            if outcome.map_only:
                notice(f"{outcome.map_only} assets are message-map entries only: the offline engine had no "
                       "good copy for them (see their note)")
            for line in outcome.lint_failed[:10]:
                notice(f"lint: {line}")
            if outcome.lint_errors:
                notice(f"{outcome.lint_errors} assets kept lint errors "
                       f"(shown in {version.path.with_suffix('.md').name})")
    notice(result.summary())
    if not result.complete:
        notice("run the same command again to generate only the missing items")
        raise typer.Exit(130 if result.interrupted else 1)
    if outcome.lint_errors and not allow_lint_failures:
        if not json_out:
            notice("exit 1: assets fail lint (--allow-lint-failures keeps them and exits 0)")
        raise typer.Exit(1)


def campaign(
    workspace: WorkspaceOpt = Path("."),
    channel: Annotated[Optional[list[str]], typer.Option(
        "--channel", help="Channel to write (repeatable; default all, incl. custom [channels.*], "
                          "content_ideas and journey).")] = None,
    stage: Annotated[Optional[list[str]], typer.Option(
        "--stage", help="awareness, consideration or decision (repeatable; default all).")] = None,
    variants: Annotated[int, typer.Option("--variants", help="Variants per asset; angles cycle pain, proof, insight.")] = 3,
    concurrency: Annotated[int, typer.Option(
        "--concurrency", help="Most model requests at a time; a local server starts at 2 and the run learns "
                              "what it takes.")] = DEFAULT_CONCURRENCY,
    persona: Annotated[Optional[list[str]], typer.Option("--persona", help="Persona id (repeatable; default all).")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Use the offline engine even if a model is configured.")] = False,
    allow_lint_failures: Annotated[bool, typer.Option(
        "--allow-lint-failures", help="Exit 0 even when saved assets still fail lint (they are kept either way).")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="If another campaign or draft is running on the workspace, "
                                                      "wait for it to finish instead of stopping.")] = False,
    max_tokens: MaxTokensOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write campaign copy per persona; a rerun generates only what is missing."""
    run_and_report(workspace, json_out=json_out, allow_lint_failures=allow_lint_failures, channels=channel,
                   stages=stage, variants=variants, concurrency=concurrency, persona_ids=persona, offline=offline,
                   wait=wait, max_tokens=max_tokens)


def run_and_report(workspace: Path, *, json_out: bool, allow_lint_failures: bool = False, **options) -> None:
    """`run_campaign` with the progress bar (terminals, not --json) and the printed outcome; `demo`
    runs its campaign step through here too."""
    from persona_assistant.services.campaign import run_campaign

    with ProgressBar(sys.stderr.isatty() and not json_out) as bar:
        outcome = run_campaign(workspace, on_notice=notice, on_start=bar.start, on_item=bar.advance, **options)
    report(outcome, json_out, allow_lint_failures)
