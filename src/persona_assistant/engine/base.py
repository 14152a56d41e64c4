"""`Engine`: what the offline engine and the model engine both do, with the same contracts."""

from __future__ import annotations

from typing import Any, AsyncContextManager, Callable, Protocol

from persona_assistant.schemas import ICP, Analysis, PersonaSet

Progress = Callable[[str], None] | None


class Engine(Protocol):
    settings: Any
    label: str  # "offline" or the model's name (a campaign's id includes it)
    converses: bool  # free text in chat goes to the model (else the chat answers from the workspace's evidence)
    notice: str | None  # said once before a run: how to configure a model (offline) or nothing

    def announce(self, kind: str) -> str:
        """The line shown before drafting `kind`: which engine (and endpoint) drafts it."""

    def draft_icp(self, ws: Any, analysis: Analysis | None, sources: list, notes: list[str],
                  progress: Progress = None) -> ICP:
        """An ICP from the analysis (None without CRM exports) and the notes; `notes` collects what the
        user should hear. Verified by the caller."""

    def draft_personas(self, ws: Any, sources: list, icp_id: str | None, progress: Progress = None) -> PersonaSet:
        """Personas from the notes. Verified by the caller."""

    def client(self, ws: Any, concurrency: int | None = None) -> AsyncContextManager[Any]:
        """The model client for a run (an `llm.client.LLM`, at most `concurrency` requests at a time,
        learning less for a local server), or a context holding None offline."""

    def copy_generator(self, ctx: Any, ws: Any, client: Any) -> Callable[[Any], Any]:
        """`async generate(ItemSpec) -> Asset` for messaging.campaign.run_items."""

    def with_model(self, name: str) -> "Engine | None":
        """The same engine with another model; None when there is no endpoint to ask."""
