"""The one place that decides offline vs model: `engine_for(settings)`.

Both engines implement `Engine` (engine/base.py) and produce the same contracts (ICP, PersonaSet,
Asset), which pass the same checks afterwards (draft/evidence.py, messaging lint); no feature reads
`settings.offline` itself. `llm/client.py` keeps its own refusal of offline settings as a safety net.
"""

from __future__ import annotations

from typing import Any

from persona_assistant.engine.base import Engine


def engine_for(settings: Any, *, offline_requested: bool = False) -> Engine:
    """The offline engine when the settings name no endpoint (or --offline), else the model engine.

    `offline_requested`: the user asked for the offline engine (then its notice is not a fallback)."""
    if settings.offline:
        from persona_assistant.engine.offline import OfflineEngine

        return OfflineEngine(settings, fallback=not offline_requested)
    from persona_assistant.engine.model import ModelEngine

    return ModelEngine(settings)


__all__ = ["Engine", "engine_for"]
