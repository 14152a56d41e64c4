"""JSON of everything: analysis (if any), ICP, personas and campaign, latest versions."""

from __future__ import annotations

from typing import Any

from persona_assistant.schemas import ICP, Analysis, Campaign, PersonaSet
from persona_assistant.workspace import Workspace


def load_all(ws: Workspace) -> dict[str, Any]:
    """The latest version of each artefact (None when absent), validated."""
    return {
        "analysis": ws.load_version("analysis", Analysis),
        "icp": ws.load_version("icp", ICP),
        "personas": ws.load_version("personas", PersonaSet),
        "campaign": ws.load_version("campaign", Campaign),
    }


def export_json(parts: dict[str, Any]) -> dict[str, Any]:
    """A plain dict for json.dumps; versions of each artefact are noted for traceability. Every
    string is `safe_text.clean`ed: no escape sequence or control character survives, even as \\u001b."""
    from persona_assistant.safe_text import clean_data

    out: dict[str, Any] = {"format": "persona-assistant export", "version": 1}
    for key, value in parts.items():
        out[key] = clean_data(value.model_dump(mode="json")) if value is not None else None
    return out
