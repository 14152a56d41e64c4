"""`draft icp|personas`, `history` (of drafts, analyses and campaigns) and `diff`: versioned, evidence-checked drafts.

A draft is: inputs loaded, the engine (engine.engine_for: offline or model) drafts, code checks every
quote and figure (draft/icp.finish_icp, draft/personas.finish_personas), a version is saved with its
Markdown. One writer per workspace (`one_writer`; callers may pass wait=True).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from persona_assistant.errors import UsageError
from persona_assistant.schemas import ICP, PersonaSet
from persona_assistant.workspace import Version, Workspace
from persona_assistant.workspace_lock import one_writer

KINDS: tuple[str, ...] = ("icp", "personas")
Progress = Callable[[str], None] | None


@dataclass
class DraftRun:
    kind: str
    draft: ICP | PersonaSet
    version: Version
    notes: list[str]  # what the user should hear about the draft (dropped claims, fallbacks)

    def to_json(self) -> dict:
        return {"kind": self.kind, "version": self.version.label, "path": str(self.version.path),
                "unchanged": self.version.unchanged, "draft": self.draft.model_dump(mode="json"),
                "notes": self.notes}

    def summary(self) -> str:
        """The one line a person reads after the run (CLI and chat alike)."""
        what = f"{len(self.draft.personas)} persona(s)" if self.kind == "personas" else "the ICP"
        v = self.version
        if v.unchanged:
            return f"unchanged: {self.kind} {v.label} already holds this draft ({v.path}); no new version saved"
        return f"saved {what} as {self.kind} {v.label}: {v.path} (and {v.path.with_suffix('.md').name})"


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise UsageError(f"KIND: {kind!r} is not a draft kind (use icp or personas)")
    return kind


def draft(ws: Workspace, kind: str, settings: Any, *, progress: Progress = None, wait: bool = False) -> DraftRun:
    """Draft `kind` with the engine the settings choose; `progress` hears which engine first."""
    from persona_assistant.engine import engine_for

    check_kind(kind)
    if progress:
        progress(engine_for(settings).announce(kind))
    run = draft_icp if kind == "icp" else draft_personas
    result, version, notes = run(ws, settings, progress=progress, wait=wait)
    return DraftRun(kind, result, version, notes)


@one_writer("draft icp")
def draft_icp(ws: Workspace, settings: Any, progress: Progress = None):
    """Draft the ICP, check every figure and quote, keep the analysis it used, save a new version.

    Returns (ICP, Version, notes for the user)."""
    from persona_assistant.draft.icp import finish_icp
    from persona_assistant.draft.markdown import icp_markdown
    from persona_assistant.draft.personas import load_notes
    from persona_assistant.engine import engine_for
    from persona_assistant.services.analysis import workspace_analysis

    analysis = workspace_analysis(ws, keep=True)
    sources = load_notes(ws, required=analysis is None)  # CRM alone is enough for an ICP
    notes: list[str] = []
    if analysis is None:
        notes.append(f"no CRM exports in {ws.crm_dir}: the ICP rests on interview evidence only")
    elif not sources:
        notes.append(f"no interview notes in {ws.notes_dir}: challenges, goals and traits are unknown")
    icp = engine_for(settings).draft_icp(ws, analysis, sources, notes, progress)
    icp = finish_icp(icp, analysis, sources, notes)
    version = ws.save_version("icp", icp, icp_markdown(icp, analysis))
    return icp, version, notes


@one_writer("draft personas")
def draft_personas(ws: Workspace, settings: Any, progress: Progress = None):
    """Draft personas, check every quote, save a new version. Returns (PersonaSet, Version, notes)."""
    from persona_assistant.draft.markdown import persona_set_markdown
    from persona_assistant.draft.personas import finish_personas, latest_icp_id, load_notes
    from persona_assistant.engine import engine_for

    sources = load_notes(ws)
    pset = engine_for(settings).draft_personas(ws, sources, latest_icp_id(ws), progress)
    pset = finish_personas(pset, sources)
    version = ws.save_version("personas", pset, persona_set_markdown(pset))
    return pset, version, list(pset.notes)


# --------------------------------------------------------------------------- history and diff


@dataclass
class HistoryRow:
    kind: str
    version: str
    time: str
    path: str
    counts: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"kind": self.kind, "version": self.version, "time": self.time, "path": self.path, **self.counts}


# Every versioned output `history` lists: the drafts, and the analyses and campaigns they build on.
HISTORY_KINDS: tuple[str, ...] = (*KINDS, "analysis", "campaign")


def _history_counts(ws: Workspace, kind: str, number: int) -> dict[str, int]:
    from persona_assistant.draft.diff import MODELS, version_summary
    from persona_assistant.schemas import Analysis, Campaign

    if kind == "analysis":
        a = ws.load_version(kind, Analysis, number)
        return {"segments": len(a.segments), "closed_deals": a.baseline.closed}
    if kind == "campaign":
        c = ws.load_version(kind, Campaign, number)
        return {"personas": len(c.personas), "assets": len(c.assets)}
    return version_summary(kind, ws.load_version(kind, MODELS[kind], number))


def history(ws: Workspace, kind: str | None = None) -> list[HistoryRow]:
    """The saved versions of the drafts, analyses and campaigns (label, time, counts); UsageError
    when there are none."""
    if kind is not None and kind not in HISTORY_KINDS:
        raise UsageError(f"KIND: {kind!r} has no history (use {', '.join(HISTORY_KINDS)})")
    kinds = [kind] if kind else list(HISTORY_KINDS)
    rows = []
    for k in kinds:
        for v in ws.versions(k):
            when = datetime.fromtimestamp(v.path.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
            rows.append(HistoryRow(k, v.label, when, str(v.path), _history_counts(ws, k, v.number)))
    if not rows:
        raise UsageError(f"no saved versions of {' or '.join(kinds)} in {ws.drafts_dir} "
                         "(run `persona-assistant analyze`, `draft icp`, `draft personas` or `campaign`)")
    return rows


def diff(ws: Workspace, kind: str, older: int | None = None, newer: int | None = None):
    """Which fields changed between two versions (draft.diff.VersionDiff)."""
    from persona_assistant.draft.diff import diff_versions

    return diff_versions(ws, check_kind(kind), older, newer)
