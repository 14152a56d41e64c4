"""`analyze`: which CRM segments win more or less often, with intervals and a plain verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from persona_assistant.cli.common import JsonOpt, WorkspaceOpt, emit_json, notice, notices
from persona_assistant.cli.warehouse_opts import SourceOpt, TableOpt, cli_source


def analyze(
    files: Annotated[Optional[list[Path]], typer.Argument(
        help="CRM exports (CSV/XLSX). Default: the workspace's crm/ folder.", show_default=False, metavar="FILES")] = None,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
    min_support: Annotated[Optional[int], typer.Option(
        "--min-support", metavar="N", help="Closed deals a segment needs before it is tested "
        "(default: [analysis].min_support in the workspace settings, else 30).", show_default=False)] = None,
    dimension: Annotated[Optional[list[str]], typer.Option(
        "--dimension", help="Analyse this column (repeatable; default: every dimension with data).",
        show_default=False, metavar="COL")] = None,
    map_file: Annotated[Optional[Path], typer.Option(
        "--map", metavar="FILE", help="Column/stage mapping file (default: the workspace's mapping.toml if present).",
        show_default=False)] = None,
    no_pairs: Annotated[bool, typer.Option("--no-pairs", help="Only single dimensions, no pairs.")] = False,
    source: SourceOpt = None,
    table: TableOpt = None,
    wait: Annotated[bool, typer.Option("--wait", help="If a draft or campaign is running on the workspace, wait "
                                       "for it to finish instead of stopping.")] = False,
) -> None:
    """Win rates per segment with 95% intervals, a corrected significance verdict, ICP and anti-ICP."""
    from persona_assistant.services.analysis import analyze as run
    from persona_assistant.workspace import open_workspace

    ws = open_workspace(workspace)
    result = run(ws, files or None, mapping_file=map_file, min_support=min_support, dimensions=dimension or None,
                 pairs=not no_pairs, wait=wait, progress=notice, source=cli_source(ws, source, table))
    notices(result.notices)
    if json_out:
        emit_json(result.analysis)
        return
    from persona_assistant.analysis.render import print_analysis

    print_analysis(result.analysis)
