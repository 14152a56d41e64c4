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

from persona_assistant.schemas import Confidence, Persona, Seniority

NO_PERSONA = "no persona fits"

# Checked in order: the first that matches wins ("VP Engineering Manager" is a vp).
_SENIORITY: list[tuple[Seniority, re.Pattern[str]]] = [
    ("c_level", re.compile(
        r"\b(chief|c[a-z]{1,2}o|founder|co-?founder|owner|president|managing director|"
        r"general manager|partner)\b")),
    ("vp", re.compile(r"\b(svp|evp|avp|vp|vice president|head)\b")),
    ("director", re.compile(r"\b(director|dir)\b")),
    ("manager", re.compile(r"\b(manager|mgr|lead|team lead|supervisor|controller)\b")),
    ("individual_contributor", re.compile(
        r"\b(senior|sr|staff|principal|junior|jr|associate|analyst|engineer|developer|"
        r"specialist|accountant|architect|consultant|administrator|admin|coordinator|"
        r"representative|rep|designer|scientist|officer|executive|agent|buyer|recruiter|"
        r"clerk|technician|intern)\b")),
]

# Canonical function -> keywords. Order matters for titles naming two ("Finance IT Manager").
_FUNCTIONS: list[tuple[str, re.Pattern[str]]] = [
    ("security", re.compile(r"\b(security|ciso|secops|infosec|cyber\w*|appsec)\b")),
    ("finance", re.compile(
        r"\b(finance|financial|cfo|accounting|accountant|accounts payable|accounts receivable|"
        r"ap|ar|controller|controlling|treasury|treasurer|fp&a|fpa|payroll|tax|audit|bookkeep\w*)\b")),
    ("procurement", re.compile(r"\b(procurement|purchasing|sourcing|buyer|vendor management)\b")),
    ("engineering", re.compile(
        r"\b(engineering|engineer|cto|developer|software|platform|sre|site reliability|devops|"
        r"infrastructure|backend|frontend|architect|architecture|r&d|development)\b")),
    ("data", re.compile(r"\b(data|analytics|bi|business intelligence|machine learning|ml|ai)\b")),
    ("it", re.compile(r"\b(it|cio|information technology|systems|sysadmin|helpdesk|help desk|"
                      r"network|technology)\b")),
    ("sales", re.compile(r"\b(sales|cro|revenue|account executive|ae|sdr|bdr|business development|"
                         r"account manager)\b")),
    ("marketing", re.compile(r"\b(marketing|cmo|growth|brand|demand gen\w*|content|seo|"
                             r"communications|pr)\b")),
    ("customer_success", re.compile(r"\b(customer success|customer experience|cx|support|"
                                    r"service desk|onboarding)\b")),
    ("product", re.compile(r"\b(product|cpo|ux|design)\b")),
    ("operations", re.compile(r"\b(operations|ops|coo|revops|logistics|supply chain)\b")),
    ("hr", re.compile(r"\b(hr|human resources|people|talent|recruiting|recruiter|chro)\b")),
    ("legal", re.compile(r"\b(legal|counsel|compliance|gc|privacy)\b")),
]

_SPACES = re.compile(r"[^\w&+]+")
_FUNCTION_ALIASES = {"accounting": "finance", "platform": "engineering", "sre": "engineering",
                     "devops": "engineering", "purchasing": "procurement", "customer success": "customer_success",
                     "information technology": "it", "infosec": "security", "human resources": "hr"}


def _normalise(text: str) -> str:
    return _SPACES.sub(" ", text.lower()).strip()


def parse_title(title: str | None) -> tuple[Seniority, str]:
    """(seniority, function) read from a job title; 'unknown' for what the title does not say."""
    if not title or not title.strip():
        return "unknown", "unknown"
    text = _normalise(title)
    seniority: Seniority = next((level for level, rx in _SENIORITY if rx.search(text)), "unknown")
    function = next((name for name, rx in _FUNCTIONS if rx.search(text)), "unknown")
    return seniority, function


def canonical_function(function: str | None) -> str:
    """A persona's free-text function in the vocabulary parse_title uses ('Finance' -> 'finance')."""
    if not function:
        return "unknown"
    text = _normalise(function)
    if text in _FUNCTION_ALIASES:
        return _FUNCTION_ALIASES[text]
    if text.replace(" ", "_") in {name for name, _ in _FUNCTIONS}:
        return text.replace(" ", "_")
    return parse_title(function)[1] if text not in ("", "unknown") else "unknown"


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
