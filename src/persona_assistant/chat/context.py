"""Read access to one workspace for the chat: the read model (services/view) and persona lookup."""

from __future__ import annotations

from persona_assistant.services.view import WorkspaceView


class Context(WorkspaceView):
    """Read access to one workspace's drafts, analysis and sources (services.view), and persona lookup."""

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
