"""`analyze`, and the one rule for which analysis a run uses.

The rule: every run that uses the workspace's figures to decide something (analyze, draft icp, score's
gates, chat) computes the analysis fresh from the workspace's CRM exports with its settings: it is
deterministic and takes seconds, so it is never stale. The runs that hold the writer lock (analyze and
draft icp) keep what they computed as the latest `analysis` version (an identical one is not saved
again), and the readers that only show figures (export, the HTML report) show that stored version: the
figures of the last analyze or ICP draft, so a report never pairs an ICP with older figures.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from persona_assistant.schemas import Analysis
from persona_assistant.workspace import Version, Workspace


@dataclass
class AnalyzeRun:
    analysis: Analysis
    version: Version | None  # None when named files were analysed (nothing kept)
    notices: list[str] = field(default_factory=list)


def workspace_analysis(ws: Workspace, *, keep: bool) -> Analysis | None:
    """The workspace's analysis by the rule above; None without CRM exports. `keep`: the caller holds the
    writer lock and the result becomes the latest `analysis` version."""
    from persona_assistant.analysis.segments import analyze_workspace

    from persona_assistant.analysis.segments import workspace_source

    if not ws.crm_files() and workspace_source(ws) is None:  # [source]: the workspace's data is a warehouse table
        return None
    analysis = analyze_workspace(ws)
    if keep:
        ws.save_version("analysis", analysis)
    return analysis


def stored_analysis(ws: Workspace) -> Analysis | None:
    """The analysis kept by the last analyze or ICP draft (what exports show); None before either."""
    return ws.load_version("analysis", Analysis)


def analyze(ws: Workspace, files: Sequence[Path] | None = None, *, mapping_file: Path | None = None,
            min_support: int | None = None, dimensions: Sequence[str] | None = None, pairs: bool = True,
            wait: bool = False, progress=None, source=None) -> AnalyzeRun:
    """`analyze`: the workspace's own data (its exports, or its [source] table) is kept as a version, under
    the writer lock; named FILES, or a warehouse `source` named on the command line, are analysed and
    nothing is saved."""
    from persona_assistant.analysis.segments import analyze_workspace
    from persona_assistant.workspace_lock import writer_lock

    named = bool(files) or source is not None
    with writer_lock(ws, "analyze", wait=wait) if not named else contextlib.nullcontext():
        if progress:
            progress("reading CRM exports ..." if source is None else f"querying {source.where()} ...")
        result = analyze_workspace(ws, files or None, mapping_file=mapping_file, min_support=min_support,
                                   dimensions=dimensions or None, pairs=pairs, source=source)
        if named:
            return AnalyzeRun(result, None)
        version = ws.save_version("analysis", result)  # keeps the latest version when nothing changed
    notices = [] if version.unchanged else [f"saved analysis {version.label}: {version.path}"]
    return AnalyzeRun(result, version, notices)
