"""What the model may do in a chat: read the workspace, and propose (never make) edits.

The tools are deliberately narrow. Lookups return JSON built from validated drafts, the
analysis and the interview sources, each piece with the citation an answer gives it
(chat/grounding.py checks those). `propose_edit` only validates (draft/persona_edit.py);
applying is the REPL's job and needs the user's yes. No tool writes a file, reads outside
the workspace, or runs anything; tool arguments are data.

The schemas the model sees are in chat/tool_schemas.py, the system prompt in
chat/system_prompt.py; here each tool name maps to its handler (HANDLERS).
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from persona_assistant.chat.context import Context  # noqa: F401  (chat's import point)
from persona_assistant.chat.grounding import line_span
from persona_assistant.chat.system_prompt import system_prompt  # noqa: F401  (chat's import point)
from persona_assistant.chat.tool_schemas import TOOL_NAMES, TOOLS  # noqa: F401  (chat's import point)
from persona_assistant.draft.persona_edit import Edit, EditRejected, prepare_edit
from persona_assistant.schemas import PERSONA_ITEM_FIELDS

MAX_RESULT_CHARS = 6000  # a tool result the model sees, at most

Confirm = Callable[[Edit], bool]
Apply = Callable[[Edit], int]


def _dump(data: Any) -> str:
    """JSON for the model within MAX_RESULT_CHARS: the longest list is shortened (and the result
    marked truncated) rather than the JSON cut mid-way."""
    text = json.dumps(data, ensure_ascii=False, default=str)
    while len(text) > MAX_RESULT_CHARS and isinstance(data, dict):
        lists = [k for k, v in data.items() if isinstance(v, list) and v]
        if not lists:
            break
        key = max(lists, key=lambda k: len(json.dumps(data[k], ensure_ascii=False, default=str)))
        data = {**data, key: data[key][: len(data[key]) // 2], "truncated": True}
        text = json.dumps(data, ensure_ascii=False, default=str)
    if len(text) > MAX_RESULT_CHARS:
        text = json.dumps({"truncated": True, "text": text[: MAX_RESULT_CHARS - 60]}, ensure_ascii=False)
    return text


def lookup_segments(ctx: Context, query: str = "", verdict: str | None = None, limit: int = 10) -> dict:
    analysis = ctx.analysis()
    if analysis is None:
        return {"error": f"no CRM analysis: {getattr(ctx, 'analysis_problem', 'no CRM exports')}"}
    order = {"better": 0, "worse": 1, "not significant": 2, "insufficient support": 3}
    segs = [s for s in analysis.segments
            if query.lower() in s.id.lower() and (verdict is None or s.verdict == verdict)]
    segs.sort(key=lambda s: (order.get(s.verdict, 9), -(s.lift or 0)))
    return {
        "baseline": analysis.baseline.model_dump(mode="json"),
        "verdict": analysis.verdict,
        "matching": len(segs),
        "segments": [{"id": s.id, "cite": f"[segment:{s.id}]", "closed": s.closed, "won": s.won,
                      "win_rate": round(s.win_rate, 4),
                      "ci_low": round(s.ci_low, 4), "ci_high": round(s.ci_high, 4), "lift": s.lift,
                      "p_value": s.p_value, "verdict": s.verdict, "deal_count": len(s.deal_ids),
                      "deal_ids_sample": s.deal_ids[:5]} for s in segs[: max(1, min(limit, 30))]],
    }


def search_evidence(ctx: Context, query: str, persona: str | None = None, limit: int = 8) -> dict:
    words = [w for w in re.findall(r"\w+", query.lower()) if len(w) > 2] or query.lower().split()
    if not words:
        return {"error": "empty query"}
    sources = ctx.sources
    if persona:
        p = ctx.find_persona(persona)
        if p is None:
            return {"error": f"no persona {persona!r}"}
        sources = {k: v for k, v in sources.items() if k in set(p.sources)} or sources
    scored = []
    for src in sources.values():
        for sent in src.sentences():
            low = sent.text.lower()
            hits = sum(1 for w in words if w in low)
            if hits:
                scored.append((-hits, src.id, sent.line_start, sent, src))
    scored.sort(key=lambda t: t[:3])
    return {"query": query, "results": [
        {"source_id": src.id, "path": src.path, "line_start": s.line_start, "line_end": s.line_end,
         "speaker": s.speaker, "text": s.text, "cite": f"({src.path}:{line_span(s.line_start, s.line_end)})"}
        for _, _, _, s, src in scored[: max(1, min(limit, 20))]]}


def persona_with_citations(persona) -> dict:
    """A persona as JSON with `cite` on every item (`[cfo.pains[0]]`), the form an answer cites."""
    doc = persona.model_dump(mode="json")
    for field in PERSONA_ITEM_FIELDS:
        for i, item in enumerate(doc.get(field) or []):
            item["cite"] = f"[{persona.id}.{field}[{i}]]"
    return doc


# --------------------------------------------------------------------------- handlers


def _lookup_segments(ctx: Context, args: dict, confirm: Confirm | None, apply: Apply | None) -> dict:
    return lookup_segments(ctx, str(args.get("query") or ""), args.get("verdict"), int(args.get("limit") or 10))


def _get_icp(ctx: Context, args: dict, confirm: Confirm | None, apply: Apply | None) -> dict:
    icp = ctx.icp()
    return icp.model_dump(mode="json") if icp else {"error": "no ICP draft yet"}


def _get_persona(ctx: Context, args: dict, confirm: Confirm | None, apply: Apply | None) -> dict:
    p = ctx.find_persona(str(args.get("persona") or ""))
    if p is None:
        return {"error": f"no persona {args.get('persona')!r}", "known": ctx.persona_names()}
    return persona_with_citations(p)


def _search_evidence(ctx: Context, args: dict, confirm: Confirm | None, apply: Apply | None) -> dict:
    return search_evidence(ctx, str(args.get("query") or ""), args.get("persona"), int(args.get("limit") or 8))


def _propose_edit(ctx: Context, args: dict, confirm: Confirm | None, apply: Apply | None) -> dict:
    versions = ctx.ws.versions("personas")
    edit = prepare_edit(ctx.personas(), str(args.get("persona_id") or ""), str(args.get("path") or ""),
                        args.get("value"), sources=ctx.sources, analysis=ctx.analysis(),
                        base_version=versions[-1].number if versions else None,
                        reason=str(args.get("reason") or ""))
    if confirm is None or apply is None:
        return {"status": "valid, not applied (no one to confirm it)", "diff": edit.diff}
    if not confirm(edit):
        return {"status": "declined by the user; the persona is unchanged"}
    return {"status": "applied", "version": apply(edit)}


HANDLERS: dict[str, Callable[[Context, dict, Confirm | None, Apply | None], dict]] = {
    "lookup_segments": _lookup_segments,
    "get_icp": _get_icp,
    "get_persona": _get_persona,
    "search_evidence": _search_evidence,
    "propose_edit": _propose_edit,
}


def run_tool(ctx: Context, name: str, arguments: str | dict,
             confirm: Confirm | None = None, apply: Apply | None = None) -> str:
    """Execute one tool call; always returns a JSON string for the model, never raises on bad args.

    `confirm` shows a validated edit to the user and returns their answer; `apply` saves it
    and returns the new version number. Without them an edit is only validated."""
    from persona_assistant.errors import PersonaError

    try:
        args = json.loads(arguments or "{}") if isinstance(arguments, str) else dict(arguments or {})
        if not isinstance(args, dict):
            raise ValueError("arguments must be a JSON object")
    except (json.JSONDecodeError, ValueError) as exc:
        return _dump({"error": f"arguments are not a JSON object: {exc}"})
    handler = HANDLERS.get(name)
    if handler is None:
        return _dump({"error": f"unknown tool {name!r}", "tools": TOOL_NAMES})
    try:
        return _dump(handler(ctx, args, confirm, apply))
    except EditRejected as exc:
        return _dump({"status": "rejected", "reason": str(exc)})
    except (PersonaError, ValueError, TypeError) as exc:
        return _dump({"error": getattr(exc, "message", None) or str(exc)})
