"""The workspace read model: the latest versions, the brief, the notes and the analysis, read once.

What the chat shows and its tools look up (chat/tools.Context extends it), and what the export,
scoring and campaign services read. Versions are read from disk at each call (a draft saved meanwhile
is seen); the notes and the analysis are read once per view.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from persona_assistant.schemas import ICP, Analysis, Brief, PersonaSet
from persona_assistant.workspace import Workspace


class WorkspaceView:
    def __init__(self, ws: Workspace):
        self.ws = ws

    def personas(self) -> PersonaSet | None:
        return self.ws.load_version("personas", PersonaSet)

    def icp(self) -> ICP | None:
        return self.ws.load_version("icp", ICP)

    def brief(self) -> Brief:
        from persona_assistant.workspace import load_brief

        return load_brief(self.ws)

    def analysis(self) -> Analysis | None:
        """The CRM analysis, computed fresh once per view (services.analysis's rule; a reader keeps nothing);
        None, with `analysis_problem` saying why, when there are no CRM exports or they cannot be read."""
        if not hasattr(self, "_analysis"):
            from persona_assistant.errors import PersonaError
            from persona_assistant.services.analysis import workspace_analysis

            self.analysis_problem = "no CRM exports in the workspace"
            try:
                self._analysis = workspace_analysis(self.ws, keep=False)
            except PersonaError as exc:
                self._analysis, self.analysis_problem = None, exc.message
        return self._analysis

    @cached_property
    def sources(self) -> dict[str, Any]:
        """The interview notes by source id, parsed once."""
        from persona_assistant.ingest.notes import load_sources

        files = self.ws.note_files()
        return {s.id: s for s in load_sources(files, root=self.ws.root)} if files else {}
