"""What the model may do in a chat: read the workspace, and propose (never make) edits.

The tools are deliberately narrow. Lookups return JSON built from validated
drafts, the analysis and the interview sources. `propose_edit` only validates:
the change must fit the Persona schema and every NEW piece of evidence must be
found by code (quotes in their source via draft/evidence, figures in the
analysis). Applying is the REPL's job and needs the user's yes. No tool writes a
file, reads outside the workspace, or runs anything; tool arguments are data.

Edit paths: a persona field, then `.name` or `[index]` steps, e.g. `archetype`,
`pains[1].text`, `goals[0].evidence`, `quotes[2]`. An index equal to the list's
length appends; `null` as the value of a list item removes that item. `id` is
fixed (messaging and scoring refer to personas by it).
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from dataclasses import dataclass
from typing import Any, Callable

from persona_assistant.schemas import first_error
from persona_assistant.services.view import WorkspaceView

MAX_RESULT_CHARS = 6000  # a tool result the model sees, at most
MAX_VALUE_CHARS = 8000  # a proposed value, at most
_PATH = re.compile(r"^[a-z_]+(?:\[\d+\]|\.[a-z_]+)*$")
_STEP = re.compile(r"\[(\d+)\]|\.([a-z_]+)|^([a-z_]+)")


class EditRejected(Exception):
    """A proposed edit that does not fit the schema or the evidence rules; the message says why."""


# --------------------------------------------------------------------------- workspace view


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


# --------------------------------------------------------------------------- tool schemas


def _fn(name: str, description: str, properties: dict, required: list[str]) -> dict:
    return {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "properties": properties, "required": required,
                       "additionalProperties": False}}}


TOOLS: list[dict] = [
    _fn("lookup_segments",
        "CRM segments from the analysis with win rate, 95% interval, lift and verdict. "
        "Filter by a word of the segment id (e.g. 'industry', 'Software') and/or verdict.",
        {"query": {"type": "string", "description": "text the segment id must contain; empty for all"},
         "verdict": {"type": "string", "enum": ["better", "worse", "not significant", "insufficient support"]},
         "limit": {"type": "integer", "minimum": 1, "maximum": 30}},
        []),
    _fn("get_icp", "The current ICP draft (summary, firmographics, signals, disqualifiers).", {}, []),
    _fn("get_persona", "One persona of the current draft, in full, by id or name.",
        {"persona": {"type": "string", "description": "persona id or name"}}, ["persona"]),
    _fn("search_evidence",
        "Interviewee sentences from the interview notes that contain the words of the query, "
        "with source id, file and lines: the only text that may be cited as a quote.",
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


# --------------------------------------------------------------------------- edits


@dataclass
class Edit:
    """A validated change, ready for the user to accept."""

    persona_id: str
    path: str
    persona_set: Any  # the whole PersonaSet after the change
    diff: str
    base_version: int | None
    reason: str = ""


def _steps(path: str) -> list[str | int]:
    if not _PATH.match(path):
        raise EditRejected(f"path {path!r}: expected a field then .name or [index] steps, e.g. pains[1].text")
    steps: list[str | int] = []
    for m in _STEP.finditer(path):
        steps.append(int(m.group(1)) if m.group(1) is not None else (m.group(2) or m.group(3)))
    return steps


def _set(doc: dict, steps: list[str | int], value: Any, path: str) -> None:
    node: Any = doc
    for i, step in enumerate(steps[:-1]):
        nxt = node.get(step) if isinstance(node, dict) and isinstance(step, str) else (
            node[step] if isinstance(node, list) and isinstance(step, int) and step < len(node) else None)
        if nxt is None or not isinstance(nxt, (dict, list)):
            where = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps[: i + 1]).lstrip(".")
            raise EditRejected(f"path {path!r}: {where} is not a list or object of the persona")
        node = nxt
    last = steps[-1]
    if isinstance(last, int):
        if not isinstance(node, list):
            raise EditRejected(f"path {path!r}: [{last}] indexes something that is not a list")
        if value is None:
            if last >= len(node):
                raise EditRejected(f"path {path!r}: no item {last} to remove (the list has {len(node)})")
            del node[last]
        elif last == len(node):
            node.append(value)
        elif last < len(node):
            node[last] = value
        else:
            raise EditRejected(f"path {path!r}: index {last} is past the end (the list has {len(node)})")
    else:
        if not isinstance(node, dict) or last not in node:
            raise EditRejected(f"path {path!r}: no field {last!r} there")
        node[last] = value


def _check_interviewee(q, sources: dict) -> None:
    """A persona quotes interviewees: a new quote from the interviewer's turn is not evidence."""
    src = sources.get(q.source_id)
    if src is None:
        return
    own = {n for t in src.respondent_turns() for n in range(t.line_start, t.line_end + 1)}
    outside = [n for n in range(q.line_start, q.line_end + 1) if n not in own]
    if outside:
        raise EditRejected(f"evidence not verified: {q.path}:{outside[0]} is not the interviewee's words")


def prepare_edit(persona_set, persona_id: str, path: str, value: Any, *, sources: dict,
                 analysis=None, base_version: int | None = None, reason: str = "") -> Edit:
    """Validate a proposed change and build its diff; EditRejected says why it cannot be applied."""
    from pydantic import ValidationError

    from persona_assistant.draft.evidence import evidence_items, map_evidence, verify_claims
    from persona_assistant.schemas import Claim, Persona, PersonaSet, QuoteEvidence

    if persona_set is None:
        raise EditRejected("there is no personas draft to edit (run /draft personas first)")
    index = next((i for i, p in enumerate(persona_set.personas) if p.id == persona_id), None)
    if index is None:
        known = ", ".join(p.id for p in persona_set.personas)
        raise EditRejected(f"no persona with id {persona_id!r} (known: {known})")
    if len(json.dumps(value, default=str)) > MAX_VALUE_CHARS:
        raise EditRejected(f"value too long (over {MAX_VALUE_CHARS} characters)")
    steps = _steps(path)
    if steps[0] not in Persona.model_fields:
        raise EditRejected(f"path {path!r}: {steps[0]!r} is not a persona field")
    if steps[0] == "id":
        raise EditRejected("path 'id': a persona's id is fixed; other drafts refer to it")
    old = persona_set.personas[index]
    old_doc = old.model_dump(mode="json")
    doc = copy.deepcopy(old_doc)
    _set(doc, steps, value, path)
    try:
        new = Persona.model_validate(doc)
    except ValidationError as exc:
        raise EditRejected(f"does not fit the persona schema: {first_error(exc)}") from None

    # Evidence the persona did not have before must be found by code.
    known_ev = [ev for _, ev in evidence_items(old)]

    def check(ev, _where):
        if ev in known_ev:
            return ev
        checked, failures = verify_claims(Claim(text="edit", evidence=[ev], status="supported"),
                                          sources, analysis)
        if failures:
            raise EditRejected(f"evidence not verified: {failures[0].removeprefix('claim: ')}")
        found = checked.evidence[0]
        if isinstance(found, QuoteEvidence):
            _check_interviewee(found, sources)
        return found  # lines corrected to the source

    new = map_evidence(new, check)
    if new == old:
        raise EditRejected("the value is the same as the current one; nothing to change")

    personas = list(persona_set.personas)
    personas[index] = new
    try:
        updated = PersonaSet.model_validate(persona_set.model_copy(update={"personas": personas}).model_dump())
    except ValidationError as exc:
        raise EditRejected(f"does not fit the persona set: {first_error(exc)}") from None
    label = f"v{base_version:04d}" if base_version else "current"
    diff = "".join(difflib.unified_diff(
        json.dumps(old_doc, indent=2, ensure_ascii=False).splitlines(keepends=True),
        json.dumps(new.model_dump(mode="json"), indent=2, ensure_ascii=False).splitlines(keepends=True),
        fromfile=f"{persona_id} ({label})", tofile=f"{persona_id} (proposed)", n=2))
    return Edit(persona_id, path, updated, diff, base_version, reason)


# --------------------------------------------------------------------------- lookups


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
        "segments": [{"id": s.id, "closed": s.closed, "won": s.won, "win_rate": round(s.win_rate, 4),
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
         "speaker": s.speaker, "text": s.text} for _, _, _, s, src in scored[: max(1, min(limit, 20))]]}


def run_tool(ctx: Context, name: str, arguments: str | dict,
             confirm: Callable[[Edit], bool] | None = None,
             apply: Callable[[Edit], int] | None = None) -> str:
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
    try:
        if name == "lookup_segments":
            return _dump(lookup_segments(ctx, str(args.get("query") or ""), args.get("verdict"),
                                         int(args.get("limit") or 10)))
        if name == "get_icp":
            icp = ctx.icp()
            return _dump(icp.model_dump(mode="json") if icp else {"error": "no ICP draft yet"})
        if name == "get_persona":
            p = ctx.find_persona(str(args.get("persona") or ""))
            if p is None:
                return _dump({"error": f"no persona {args.get('persona')!r}", "known": ctx.persona_names()})
            return _dump(p.model_dump(mode="json"))
        if name == "search_evidence":
            return _dump(search_evidence(ctx, str(args.get("query") or ""), args.get("persona"),
                                         int(args.get("limit") or 8)))
        if name == "propose_edit":
            versions = ctx.ws.versions("personas")
            edit = prepare_edit(ctx.personas(), str(args.get("persona_id") or ""), str(args.get("path") or ""),
                                args.get("value"), sources=ctx.sources, analysis=ctx.analysis(),
                                base_version=versions[-1].number if versions else None,
                                reason=str(args.get("reason") or ""))
            if confirm is None or apply is None:
                return _dump({"status": "valid, not applied (no one to confirm it)", "diff": edit.diff})
            if not confirm(edit):
                return _dump({"status": "declined by the user; the persona is unchanged"})
            number = apply(edit)
            return _dump({"status": "applied", "version": number})
        return _dump({"error": f"unknown tool {name!r}", "tools": TOOL_NAMES})
    except EditRejected as exc:
        return _dump({"status": "rejected", "reason": str(exc)})
    except (PersonaError, ValueError, TypeError) as exc:
        return _dump({"error": getattr(exc, "message", None) or str(exc)})


# --------------------------------------------------------------------------- system prompt

PROMPT_NAME = "chat"


def _short(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def workspace_facts(ctx: Context, detail: int = 2) -> dict:
    """What the model is told about the workspace, at a level of detail (2 full, 0 least)."""
    items = {2: 3, 1: 1, 0: 0}[detail]
    n = {2: 240, 1: 140, 0: 80}[detail]
    brief = ctx.brief()
    analysis = ctx.analysis()
    icp = ctx.icp()
    ps = ctx.personas()
    facts: dict[str, Any] = {
        "brief": {"product": _short(brief.product, n), "category": _short(brief.category, n),
                  "value_propositions": [_short(v, n) for v in brief.value_propositions[: items + 2]],
                  "proof_points": [_short(p.claim, n) for p in brief.proof_points[: items + 2]],
                  "tone": _short(brief.tone, n)},
        "analysis": None, "icp": None, "personas": [],
    }
    if analysis is not None:
        def seg(sid: str) -> str:
            s = analysis.segment(sid)
            return (f"{sid}: {s.won}/{s.closed} won, win rate {s.win_rate:.0%} "
                    f"(95% CI {s.ci_low:.0%}-{s.ci_high:.0%}), {s.verdict}") if s else sid
        facts["analysis"] = {
            "verdict": _short(analysis.verdict, 2 * n),
            "sufficiency": f"{analysis.sufficiency.verdict} ({analysis.sufficiency.won} won, "
                           f"{analysis.sufficiency.lost} lost)",
            "baseline": f"{analysis.baseline.won}/{analysis.baseline.closed} won, "
                        f"win rate {analysis.baseline.win_rate:.0%}",
            "icp_candidates": [seg(s) for s in analysis.icp_candidates[: items + 2]],
            "anti_icp": [seg(s) for s in analysis.anti_icp[: items + 1]],
        }
    if icp is not None:
        facts["icp"] = {"name": _short(icp.name, n), "summary": _short(icp.summary, 2 * n),
                        "crm_singles_out_segment": icp.crm_singles_out_segment}
    if ps is not None:
        for p in ps.personas:
            facts["personas"].append({
                "id": p.id, "name": _short(p.name, 60), "role": _short(p.role, 80), "buying_role": p.buying_role,
                "archetype": _short(p.archetype, n),
                "pains": [_short(c.text, n) for c in p.pains[:items]],
                "goals": [_short(c.text, n) for c in p.goals[:items]],
                "objections": [_short(c.text, n) for c in p.objections[:items]],
            })
    return facts


def system_prompt(ctx: Context, budget_tokens: int = 3000) -> str:
    """The chat's system prompt within `budget_tokens` (about 4 characters a token): less
    detail about the workspace first, then a hard cut."""
    from persona_assistant.prompts import CHARS_PER_TOKEN, render

    limit = budget_tokens * CHARS_PER_TOKEN
    text = ""
    for detail in (2, 1, 0):
        text = render(PROMPT_NAME, ctx.ws, facts=workspace_facts(ctx, detail), tools=TOOL_NAMES).system
        if len(text) <= limit:
            return text
    return text[: limit - 30] + "\n[workspace facts truncated]\n"
