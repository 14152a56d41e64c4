"""Read access to one workspace for the chat: drafts, analysis and interview sources."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from persona_assistant.workspace import Workspace


class Context:
    """Read access to one workspace's drafts, analysis and sources (sources parsed once)."""

    def __init__(self, ws: Workspace):
        self.ws = ws

    def personas(self):
        from persona_assistant.schemas import PersonaSet

        return self.ws.load_version("personas", PersonaSet)

    def icp(self):
        from persona_assistant.schemas import ICP

        return self.ws.load_version("icp", ICP)

    def brief(self):
        from persona_assistant.workspace import load_brief

        return load_brief(self.ws)

    def analysis(self):
        """The CRM analysis, computed once per session; None (with `analysis_problem` saying why)
        when there are no CRM exports or they cannot be read."""
        if not hasattr(self, "_analysis"):
            from persona_assistant.errors import PersonaError

            self.analysis_problem = "no CRM exports in the workspace"
            try:
                self._analysis = load_analysis(self.ws)
            except PersonaError as exc:
                self._analysis, self.analysis_problem = None, exc.message
        return self._analysis

    @cached_property
    def sources(self) -> dict[str, Any]:
        from persona_assistant.ingest.notes import load_sources

        files = self.ws.note_files()
        return {s.id: s for s in load_sources(files, root=self.ws.root)} if files else {}

    def find_persona(self, name: str):
        """A persona by id, full name, or first name (case-insensitive); None when none fits."""
        ps = self.personas()
        if ps is None or not name.strip():
            return None
        key = name.strip().lower()
        for test in (lambda p: p.id.lower() == key, lambda p: p.name.lower() == key,
                     lambda p: p.name.lower().split(",")[0].split()[0] == key,
                     lambda p: key in p.name.lower() or key in p.role.lower()):
            hits = [p for p in ps.personas if test(p)]
            if len(hits) == 1:
                return hits[0]
        return None

    def persona_names(self) -> list[str]:
        ps = self.personas()
        return [p.id for p in ps.personas] + [p.name for p in ps.personas] if ps else []


def load_analysis(ws: Workspace):
    """The workspace's CRM analysis with its own settings (as `analyze` computes it); None
    without CRM exports. Deterministic, so it is recomputed rather than stored."""
    if not ws.crm_files():
        return None
    from persona_assistant.analysis.segments import analyze_workspace

    return analyze_workspace(ws)
