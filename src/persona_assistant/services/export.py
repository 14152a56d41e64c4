"""`export`: the latest drafts as a Markdown playbook, JSON, a formula-safe assets CSV or the HTML report.

Reads the stored versions only (the analysis as services.analysis keeps it). The default path is
output/<name> inside the workspace (written through its containment check); `out` is the user's
explicit choice and may be anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from persona_assistant.errors import UsageError
from persona_assistant.workspace import Workspace

FORMATS = {"md": "playbook.md", "json": "playbook.json", "csv": "assets.csv", "html": "report.html"}


@dataclass
class ExportRun:
    format: str
    path: Path
    also: list[Path] = field(default_factory=list)  # files written beside `path` (message maps beside assets)

    def to_json(self) -> dict:
        return {"format": self.format, "path": str(self.path), "also": [str(p) for p in self.also]}


def export(ws: Workspace, format: str, out: Path | None = None) -> ExportRun:
    """Write the latest ICP, personas, campaign (and kept analysis) in `format`; UsageError when there is
    nothing to export, the format is unknown or `out` is a folder."""
    from persona_assistant.export.json_export import export_json, load_all
    from persona_assistant.strict_json import json_text
    from persona_assistant.workspace import atomic_write

    if format not in FORMATS:
        raise UsageError(f"--format: unknown format {format!r} (use {', '.join(FORMATS)})")
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
    also: list[Path] = []

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
    return ExportRun(format, path, also)
