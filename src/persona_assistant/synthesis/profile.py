"""Roles from prose: who an interviewee is, as evidence with file and line.

Front matter (`role`/`title`, `company`, `industry`, `company_size`) wins. Otherwise the
role comes from what was written or said, in this order:
1. the person's own words: "I'm the CFO at ...", "I'm Lars, an SRE at ...", "I'm VP of
   Finance", "I lead growth marketing at ...", "I manage revenue operations at ...",
   "I'm the only ops person at ..." (ingest/notes.find_role's patterns plus these);
2. the note-taker's prose naming them: "<Name> is the sales operations lead at a
   75-person HR software startup", "<Name> leads marketing at ...", "<Name> runs revenue
   operations at ...", "<Name>, the finance director at ...", "<Name>, CFO, <Company>",
   "<Name> (platform engineer, <Company>, ...)", a call-notes title line "<Company> -
   practice manager (<Name>) - <date>"; in a note with one interviewee and no
   name, the first such line gives both the name and the role.
"<verb>s <function> at" reads as the head of that function ("leads marketing" -> "Head of
marketing"); "I manage <function>" as "<function> manager". Company size ("a 200-person
...", "about 900 people", "~400 staff") and industry ("a 75-person HR software startup")
are read from the same sentence when it says them.
"""

from __future__ import annotations

import re

from persona_assistant.ingest.notes import split_sentences
from persona_assistant.roles import ROLE_PATTERNS as _ROLE_PATTERNS, TITLE_RE as _TITLE_RE, parse_title
from persona_assistant.synthesis.speakers import Cast, Person

_NAME = r"(?P<name>[A-Z][\w'’-]+(?: [A-Z][\w'’-]+){0,2})"
_ROLE_WORDS = r"(?P<role>[^.,;!?()]{2,60}?)"
_AT = r"(?=\s+(?:at|for|on|in|with)\b|\s*[,.;()]|$)"
_THIRD = [
    re.compile(rf"\b{_NAME} is (?:the |a |an |our )?{_ROLE_WORDS}{_AT}"),
    re.compile(rf"\b{_NAME}, (?:the |a |an )?{_ROLE_WORDS}{_AT}"),
    re.compile(rf"\b{_NAME} \((?P<role>[^,()]{{2,60}})[,)]"),
    re.compile(rf"\b{_NAME} -+ (?P<role>[^,()]{{2,60}}),"),
]
# A call-notes title line: "Call notes - Bluefin Dental - practice manager (Kim Osei) - 12 Mar 2024".
_TITLED = re.compile(rf"(?:^|\s[-–—|:]\s+)(?P<role>[A-Za-z][\w&/'’-]*(?: [A-Za-z][\w&/'’-]*){{0,5}}) \({_NAME}\)")
_HEADS = re.compile(rf"\b{_NAME} (?P<verb>leads|runs|heads|manages) (?P<fn>[\w &/-]{{2,40}}?) (?:at|for)\b")
_OWN = [
    re.compile(r"\bI (?P<verb>lead|run|head|manage) (?P<fn>[\w &/-]{2,40}?) (?:at|for)\b"),
    re.compile(r"\bI(?:'m| am|’m)(?: \w+,)? (?:the |a |an )?only (?P<fn>[\w &/-]{2,30}?) (?:person|hire|one)\b"),
    re.compile(r"\bI(?:'m| am|’m) (?:[A-Z][\w'’-]+(?: [A-Z][\w'’-]+)?, )?(?:the |a |an )?"
               r"(?P<role>[^.,;!?]{2,60}?)(?=\s+(?:at|for|with|in|on|here|working)\b|[.,;!?]|$)"),
]
_SIZE = re.compile(r"\b(?P<n>\d[\d,]*)[- ](?:person|people|employee|staff)\b|\b(?:about|around|roughly|~|over)"
                   r"\s*(?P<m>\d[\d,]*)\s+(?:people|employees|staff)\b|\b(?P<k>\d[\d,]*) (?:people|employees|staff)\b")
_INDUSTRY = re.compile(r"\b\d[\d,]*[- ]person (?P<ind>[\w &/-]{3,40}?) (?:company|startup|firm|business|"
                       r"chain|studio|group|provider|district|retailer)\b")


def clean_role(role: str) -> str | None:
    """A role phrase kept whole ("Director of Marketing", "head of finance"), or None when it
    names no title or function, or is too long to be one."""
    role = re.sub(r"[*_`]", "", role).strip(" -–—:")
    head, sep, tail = role.partition(" of ")
    if sep and parse_title(tail)[1] == "unknown":  # "CFO of Mossgate Labs" -> "CFO"
        role = head
    if not role or len(role.split()) > 7 or _ORG.search(role):
        return None
    if not _TITLE_RE.search(role):  # a title word, not just a function ("it has to" is not IT)
        return None
    return role


def _role_from_verb(verb: str, fn: str) -> str:
    return f"{fn.strip()} manager" if verb.lower().startswith("manage") else f"Head of {fn.strip()}"


def _own_role(text: str) -> str | None:
    for rx in _OWN:
        m = rx.search(text)
        if not m:
            continue
        if "verb" in m.groupdict() and m.group("verb"):
            return _role_from_verb(m.group("verb"), m.group("fn"))
        if "fn" in m.groupdict() and m.groupdict().get("fn"):
            return f"{m.group('fn').strip()} (sole)"
        return clean_role(m.group("role"))
    for pat in _ROLE_PATTERNS:
        m = pat.search(text)
        if m and m.groupdict().get("role"):
            role = clean_role(m.group("role"))
            if role:
                return role
    return None


def _third_role(text: str, name: str | None) -> tuple[str, str] | None:
    """(name, role) said about someone in a note-taker's sentence."""
    for m in _TITLED.finditer(text):
        if _first(m.group("name")) not in _NOT_NAMES and (name is None or _first(m.group("name")) == _first(name)):
            role = clean_role(m.group("role"))
            if role:
                return m.group("name"), role
    m = _HEADS.search(text)
    if m and _first(m.group("name")) not in _NOT_NAMES and (name is None or _first(m.group("name")) == _first(name)):
        return m.group("name"), _role_from_verb(m.group("verb"), m.group("fn"))
    starts = [m.start() for m in re.finditer(r"\b[A-Z]", text)]
    for rx in _THIRD:
        for at in starts:
            m = rx.match(text, at)
            if not m or _first(m.group("name")) in _NOT_NAMES or (
                    name is not None and _first(m.group("name")) != _first(name)):
                continue
            role = clean_role(m.group("role"))
            if role:
                return m.group("name"), role
    return None


_ORG = re.compile(r"\b(?:company|startup|firm|business|agency|studio|chain|provider|retailer|district)\b", re.I)
_NOT_NAMES = {"a", "an", "the", "he", "she", "they", "we", "i", "our", "my", "this", "that", "it", "who", "notes",
              "call", "interview", "summary", "context", "when", "what", "our"}


def _first(name: str) -> str:
    return name.split()[0].lower()


_COMPANY_AT = re.compile(r"\b(?:at|for) (?P<c>[A-Z][\w&'’-]*(?: [A-Z][\w&'’-]*){0,3})")


def _facts(person: Person, text: str, line: int) -> None:
    at = _COMPANY_AT.search(text)
    if at and not person.company:
        person.company = at.group("c")
    size = _SIZE.search(text)
    if size and "company_size" not in person.facts:
        value = (size.group("n") or size.group("m") or size.group("k")).replace(",", "")
        person.facts["company_size"] = (value, line, text)
    ind = _INDUSTRY.search(text)
    if ind and "industry" not in person.facts:
        person.facts["industry"] = (ind.group("ind").strip(), line, text)


def describe(c: Cast) -> None:
    """Fill role, name and company facts of every person in a cast."""
    src = c.source
    for p in c.people:
        if src.meta.get("role") and (len(c.people) == 1):
            p.role, p.role_line = src.meta["role"], src.front_matter_lines.get("role")
            p.role_text = src.lines[p.role_line - 1].strip() if p.role_line else None
        own = [t for t in src.turns if t.speaker in p.labels and t.speaker is not None]
        for sent in (s for t in own for s in split_sentences(t, src)):
            if p.role:
                break
            role = _own_role(sent.text)
            if role:
                p.role, p.role_line, p.role_text = role, sent.line_start, sent.text
                _facts(p, sent.text, sent.line_start)
        if p.role and p.name:
            continue
        for n in range(src.first_line, src.last_line + 1):
            if src.is_excluded(n) or n in src.non_text:
                continue
            text = re.sub(r"^\s*(?:#+|[-*+])\s*|\*\*", "", src.lines[n - 1]).strip()
            found = _third_role(text, p.name if len(c.people) > 1 or p.name else None)
            if found:
                name, role = found
                if not p.name or (len(name) > len(p.name) and _first(name) == _first(p.name)):
                    p.name = name  # "Ines" labels the turns, "Ines Duarte" the prose
                if not p.role:
                    p.role, p.role_line, p.role_text = role, n, text
                    _facts(p, text, n)
                break
        if not p.role and len(c.people) == 1 and src.role_hint and src.role_line:
            # ingest/notes.find_role: a structured note's "Who" section, the interviewee's words.
            p.role, p.role_line = src.role_hint, src.role_line
            p.role_text = next((s.text for s in src.sentences(respondents_only=False)
                                if s.line_start <= src.role_line <= s.line_end), None)
        if src.meta.get("company") and len(c.people) == 1:
            p.company = src.meta["company"]
