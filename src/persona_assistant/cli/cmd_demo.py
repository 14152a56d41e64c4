"""`demo`: the whole pipeline on the sample workspace shipped with the package.

It calls the same functions a user's commands run one by one (the analyze,
draft icp, draft personas and export commands; for campaign copy the command's
core with the command's progress bar and report, `cmd_campaign.run_and_report`),
so the demo cannot drift from the real commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from persona_assistant.cli.common import notice

DEMO_MARKER = ".persona-assistant-demo"


def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo workspace and its outputs.")] = Path(
        "persona-assistant-demo"),
    offline: Annotated[bool, typer.Option(
        "--offline", help="Use the offline engine even if a model endpoint is configured.")] = False,
    variants: Annotated[int, typer.Option("--variants", help="Copy variants per asset.")] = 2,
) -> None:
    """Run analyze, draft icp, draft personas, campaign and export on a bundled sample workspace.

    Offline by default (no model endpoint configured); with PERSONA_ASSISTANT_BASE_URL or
    OPENAI_API_KEY set, drafting and copy go through the model. Running it again reuses the
    folder: drafts get new versions, finished campaign items are not generated twice.
    """
    import shutil
    from importlib import resources

    from persona_assistant.cli import cmd_analyze, cmd_campaign, cmd_draft, cmd_export
    from persona_assistant.errors import UsageError

    if out.exists() and any(out.iterdir()) and not (out / DEMO_MARKER).exists():
        raise UsageError(f"--out: {out} exists and is not a demo folder; choose another with --out")
    if not (out / DEMO_MARKER).exists():
        sample = resources.files("persona_assistant").joinpath("sample_workspace")
        with resources.as_file(sample) as src:
            shutil.copytree(src, out, dirs_exist_ok=True)
        (out / DEMO_MARKER).write_text("created by `persona-assistant demo`\n")
        notice(f"copied the sample workspace (Closewise, a month-end close product) to {out}")

    notice("1/5 analyze: segment win rates from the CRM export")
    cmd_analyze.analyze(files=None, workspace=out, json_out=False)
    notice("2/5 draft icp")
    cmd_draft.draft_icp_command(workspace=out, offline=offline)
    notice("3/5 draft personas")
    cmd_draft.draft_personas_command(workspace=out, offline=offline)
    notice("4/5 campaign copy per persona")
    cmd_campaign.run_and_report(out, json_out=False, variants=variants, offline=offline)
    notice("5/5 export")
    for fmt in ("md", "json", "csv", "html"):
        cmd_export.export(format=fmt, workspace=out, out=None, json_out=False)
    report = (out / "output" / "report.html").resolve()
    typer.echo(f"Demo finished. Open the report: {report}")
    typer.echo(f"Playbook: {(out / 'output' / 'playbook.md').resolve()}")
