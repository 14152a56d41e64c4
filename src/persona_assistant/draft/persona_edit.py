"""One change to one persona field, validated: the edit-path language and its evidence rules.

Edit paths: a persona field, then `.name` or `[index]` steps, e.g. `archetype`,
`pains[1].text`, `goals[0].evidence`, `quotes[2]`. An index equal to the list's
length appends; `null` as the value of a list item removes that item. `id` is
fixed (messaging and scoring refer to personas by it).

`prepare_edit` only validates: the change must fit the Persona schema and every NEW
piece of evidence must be found by code (quotes in their source via draft/evidence,
from the interviewee's own turns; figures in the analysis). Applying it is the
caller's job (chat asks the user first).
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from dataclasses import dataclass
from typing import Any

from persona_assistant.schemas import first_error

MAX_VALUE_CHARS = 8000  # a proposed value, at most
_PATH = re.compile(r"^[a-z_]+(?:\[\d+\]|\.[a-z_]+)*$")
_STEP = re.compile(r"\[(\d+)\]|\.([a-z_]+)|^([a-z_]+)")


class EditRejected(Exception):
    """A proposed edit that does not fit the schema or the evidence rules; the message says why."""


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


def not_interviewees_line(q, sources: dict) -> int | None:
    """The first cited line of quote `q` outside the interviewee's turns (a persona quotes
    interviewees: the interviewer's words are not evidence); None when all are theirs."""
    src = sources.get(q.source_id)
    if src is None:
        return None
    own = {n for t in src.respondent_turns() for n in range(t.line_start, t.line_end + 1)}
    return next((n for n in range(q.line_start, q.line_end + 1) if n not in own), None)


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
        if isinstance(found, QuoteEvidence) and (line := not_interviewees_line(found, sources)) is not None:
            raise EditRejected(f"evidence not verified: {found.path}:{line} is not the interviewee's words")
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
