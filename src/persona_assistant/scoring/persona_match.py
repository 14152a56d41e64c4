"""Contact title -> buyer persona, with a confidence and the reason.

`parse_title` is the one title parser of the project (the offline persona engine may reuse
it): it reads seniority and function keywords from a job title. `match_persona` then ranks
the drafted personas: a persona title pattern found in the title is the strongest reason,
function plus seniority next, function alone the weakest. No function and no pattern match
means "no persona fits" rather than a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from persona_assistant.roles import canonical_function, normalise as _normalise, parse_title
from persona_assistant.schemas import Confidence, Persona

NO_PERSONA = "no persona fits"

def _pattern_regex(pattern: str) -> re.Pattern[str] | None:
    """A persona title pattern as a whole-word, case-insensitive regex; `*` is a wildcard."""
    words = _normalise(pattern)
    if not words:
        return None
    parts = [re.escape(w) for w in words.replace("*", " * ").split()]
    body = r"\s+".join(r"[\w&+ ]*?" if p == r"\*" else p for p in parts)
    return re.compile(rf"(?<!\w){body}(?!\w)")


@dataclass(frozen=True)
class PersonaMatch:
    persona_id: str | None  # None: no persona fits
    persona_name: str | None
    confidence: Confidence
    reason: str
    seniority: Seniority
    function: str

    def to_dict(self) -> dict:
        return {"persona_id": self.persona_id, "persona": self.persona_name or NO_PERSONA,
                "confidence": self.confidence, "reason": self.reason,
                "seniority": self.seniority, "function": self.function}


def match_persona(title: str | None, personas: Sequence[Persona]) -> PersonaMatch:
    """The best-fitting persona for a contact title, or the 'no persona fits' bucket."""
    seniority, function = parse_title(title)
    if not title or not title.strip():
        return PersonaMatch(None, None, "unknown", "no title", seniority, function)
    text = _normalise(title)
    best: tuple[int, int, Persona, str] | None = None
    for order, persona in enumerate(personas):
        strength, reason = 0, ""
        for pattern in persona.title_patterns:
            rx = _pattern_regex(pattern)
            if rx is not None and rx.search(text):
                strength, reason = 3, f"title pattern {pattern!r} matched"
                break
        if strength == 0:
            p_function = canonical_function(persona.function)
            if function != "unknown" and p_function == function:
                if seniority != "unknown" and seniority == persona.seniority:
                    strength, reason = 2, f"function {function} and seniority {seniority} matched"
                else:
                    strength, reason = 1, (f"function {function} matched; seniority {seniority} "
                                           f"vs persona {persona.seniority}")
        if strength and (best is None or strength > best[0]):
            best = (strength, order, persona, reason)
    if best is None:
        why = (f"no persona for function {function}, seniority {seniority}" if function != "unknown"
               else "title names no known function and matches no persona title pattern")
        return PersonaMatch(None, None, "unknown", why, seniority, function)
    strength, _, persona, reason = best
    confidence: Confidence = {3: "high", 2: "medium", 1: "low"}[strength]
    return PersonaMatch(persona.id, persona.name, confidence, reason, seniority, function)
