"""`export`: the playbook as Markdown, JSON, CSV (assets) or a self-contained HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from persona_assistant.cli.common import JsonOpt, WorkspaceOpt, emit_json, notice


def export(
    format: Annotated[str, typer.Option("--format", help="md, json, csv (assets) or html.")],
    workspace: WorkspaceOpt = Path("."),
    out: Annotated[Optional[Path], typer.Option("--out", help="Output file (default: output/<name> in the workspace).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Export the latest ICP, personas and campaign."""
    from persona_assistant.services.export import export as run
    from persona_assistant.workspace import open_workspace

    result = run(open_workspace(workspace), format, out)
    if json_out:
        emit_json(result.to_json())
    else:
        notice(f"wrote {result.path}" + "".join(f" and {p}" for p in result.also))
