"""`export`: the playbook as Markdown, JSON, CSV (assets) or a self-contained HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from persona_assistant.cli.app import JsonOpt, WorkspaceOpt, app, emit_json, json_text, notice

FORMATS = {"md": "playbook.md", "json": "playbook.json", "csv": "assets.csv", "html": "report.html"}


@app.command("export")
def export(
    format: Annotated[str, typer.Option("--format", help="md, json, csv (assets) or html.")],
    workspace: WorkspaceOpt = Path("."),
    out: Annotated[Optional[Path], typer.Option("--out", help="Output file (default: output/<name> in the workspace).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Export the latest ICP, personas and campaign."""
    from persona_assistant.errors import UsageError
    from persona_assistant.export.json_export import export_json, load_all
    from persona_assistant.workspace import atomic_write, open_workspace

    if format not in FORMATS:
        raise UsageError(f"--format: unknown format {format!r} (use {', '.join(FORMATS)})")
    ws = open_workspace(workspace)
    parts = load_all(ws)
    personas = parts["personas"].personas if parts["personas"] else []
    if parts["icp"] is None and not personas and parts["campaign"] is None:
        raise UsageError(f"nothing to export in {ws.root}: run `persona-assistant draft icp` / "
                         "`draft personas` / `campaign` first")
    path = out if out is not None else ws.output_dir / FORMATS[format]
    if path.is_dir():
        raise UsageError(f"--out: {path} is a folder; give a file name")
    # --out is the user's explicit choice; output/ in the workspace must stay inside it.
    within = None if out is not None else ws.root

    also: list[Path] = []  # files written beside `path` (the message maps beside the assets CSV)

    def write(text: str) -> None:
        atomic_write(path, text, within=within)
    if format == "csv":
        from persona_assistant.export.csv_assets import write_campaign_csv

        if parts["campaign"] is None:
            raise UsageError("--format csv: no campaign yet; run `persona-assistant campaign` first")
        also = write_campaign_csv(path, parts["campaign"], personas, within=within)[1:]
    elif format == "json":
        write(json_text(export_json(parts), indent=2) + "\n")
    elif format == "md":
        from persona_assistant.draft.markdown import playbook_markdown

        write(playbook_markdown(parts["icp"], personas, parts["campaign"], parts["analysis"]))
    else:
        from persona_assistant.export.html import render_report

        write(render_report(parts["icp"], personas, parts["campaign"], parts["analysis"]))
    if json_out:
        emit_json({"format": format, "path": str(path), "also": [str(p) for p in also]})
    else:
        notice(f"wrote {path}" + "".join(f" and {p}" for p in also))
