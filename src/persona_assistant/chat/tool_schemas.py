"""The chat tools as the model sees them: OpenAI function schemas (the handlers: chat/tools.py)."""

from __future__ import annotations


def _fn(name: str, description: str, properties: dict, required: list[str]) -> dict:
    return {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "properties": properties, "required": required,
                       "additionalProperties": False}}}


TOOLS: list[dict] = [
    _fn("lookup_segments",
        "CRM segments from the analysis with win rate, 95% interval, lift and verdict. "
        "Filter by a word of the segment id (e.g. 'industry', 'Software') and/or verdict. "
        "Cite a segment as [segment:ID].",
        {"query": {"type": "string", "description": "text the segment id must contain; empty for all"},
         "verdict": {"type": "string", "enum": ["better", "worse", "not significant", "insufficient support"]},
         "limit": {"type": "integer", "minimum": 1, "maximum": 30}},
        []),
    _fn("get_icp", "The current ICP draft (summary, firmographics, signals, disqualifiers).", {}, []),
    _fn("get_persona", "One persona of the current draft, in full, by id or name. "
        "Each item carries `cite`, e.g. [cfo.pains[0]]: put it after a sentence that uses the item.",
        {"persona": {"type": "string", "description": "persona id or name"}}, ["persona"]),
    _fn("search_evidence",
        "Interviewee sentences from the interview notes that contain the words of the query, "
        "with source id, file and lines: the only text that may be cited as a quote, "
        "verbatim in double quotes followed by its `cite`, e.g. \"...\" (notes/a.md:12).",
        {"query": {"type": "string"},
         "persona": {"type": "string", "description": "limit to this persona's sources"},
         "limit": {"type": "integer", "minimum": 1, "maximum": 20}},
        ["query"]),
    _fn("propose_edit",
        "Propose a change to one persona field. The user sees a diff and decides; nothing is "
        "changed without their yes. path: a field then .name or [index] steps, e.g. "
        "'archetype', 'pains[1].text', 'quotes[0]'; index = list length appends; value null "
        "removes a list item. New quotes must be verbatim from search_evidence results.",
        {"persona_id": {"type": "string"},
         "path": {"type": "string"},
         "value": {"description": "the new JSON value (string, number, object or list)"},
         "reason": {"type": "string", "description": "one line the user sees"}},
        ["persona_id", "path", "value"]),
]
TOOL_NAMES = [t["function"]["name"] for t in TOOLS]
