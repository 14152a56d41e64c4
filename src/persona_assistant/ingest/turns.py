"""Turn parsing: the lines of one interview into speaker turns that map back to file lines.

Design: markdown labels (`**Name:**`), caption voice tags (`<v Name>`) and plain `Name:` labels (counted
only when a label starts at least two lines, so prose such as "URL: ..." is not a speaker) open a turn;
unlabelled paragraphs continue it; `#`/`##` headings end it. Sections headed Summary / AI summary /
Key takeaways / TL;DR are recorded as excluded. Caption files keep only cue text. Who asks and who
answers is decided from the speaker labels (`INTERVIEWER_LABELS`, `INTERVIEWEE_LABELS`), the front
matter and, failing those, who mostly asks questions. Pure functions; nothing is read from disk.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

EXCLUDED_HEADINGS = re.compile(
    r"^(?:ai[- ]?(?:generated )?summary|summary|description|key takeaways|tl;?dr)\s*:?\s*$", re.I)
# Speaker labels meaning "the person asking".
INTERVIEWER_LABELS = {
    "interviewer", "host", "co-host", "cohost", "moderator", "facilitator", "q", "question",
    "me", "audience", "audience member", "audience question", "researcher", "int",
}
INTERVIEWEE_LABELS = {"a", "answer", "interviewee", "respondent", "participant", "customer"}
_NOT_SPEAKERS = {"note", "notes", "url", "date", "time", "summary", "update", "action items", "todo",
                 "title", "company", "role", "who", "why", "stack", "challenges", "goals", "email",
                 "phone", "location", "context", "agenda", "attendees", "next steps", "tags", "source"}

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_LABEL = re.compile(r"^\s*\*\*(?P<name>[^*\n]{1,40}?)(?::\*\*|\*\*\s*:)\s*(?P<rest>.*)$")
_PLAIN_LABEL = re.compile(r"^\s*(?P<name>[^\W\d_][\w.'’ -]{0,38}?)\s*:[ \t]+(?P<rest>\S.*)$")
_VOICE = re.compile(r"^\s*<v(?:\.[\w.-]+)?\s+(?P<name>[^>]{1,40})>(?P<rest>.*?)(?:</v>)?\s*$")
_NAME_OK = re.compile(r"^[^\W\d_](?:[^\W\d_]|[.'’ -])*$")  # letters (any script), spaces, . ' -
_TIMING = re.compile(r"^\s*(?:\d{1,2}:)?\d{1,2}:\d{2}[.,]\d{1,3}\s*-->\s*")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_NOISE_LINE = re.compile(r"^\s*(?:\*\*)?\[(?:music|applause|laughter|inaudible|crosstalk|silence)\](?:\*\*)?\s*$", re.I)
_BOLD_ONLY = re.compile(r"^\s*\*\*[^*]+\*\*\s*$")


@dataclass
class Turn:
    """One speaker's stretch of text. `parts` maps the text back to file lines."""

    speaker: str | None
    line_start: int
    line_end: int
    text: str
    # (line number, column where this part starts in the file line, content); an
    # empty content marks a paragraph break (blank line, heading, list item start).
    parts: list[tuple[int, int, str]] = field(default_factory=list, repr=False)


def _label_name(name: str) -> str | None:
    name = name.strip()
    low = name.lower()
    if low in INTERVIEWER_LABELS or low in INTERVIEWEE_LABELS:
        return name
    if not _NAME_OK.match(name) or len(name.split()) > 4 or low in _NOT_SPEAKERS:
        return None
    return name


def _merge_speaker(name: str, known: dict[str, str]) -> str:
    """'Mole' and 'Mole Aigbe' in one transcript are one person: keep the first spelling seen."""
    key = name.lower()
    if key in known:
        return known[key]
    first = key.split()[0]
    for k, v in known.items():
        if k.split()[0] == first and key not in INTERVIEWER_LABELS | INTERVIEWEE_LABELS:
            known[key] = v
            return v
    known[key] = name
    return name


def text_turns(lines: list[str], first: int, last: int, front: set[int],
                excluded: list[tuple[int, int]], headings: dict[int, str]) -> list[Turn]:
    # Plain `Name:` labels count only when repeated (>= 2 lines) in this interview.
    plain = Counter()
    for n in range(first, last + 1):
        m = _PLAIN_LABEL.match(lines[n - 1])
        if m and not _LIST_ITEM.match(lines[n - 1]) and _label_name(m.group("name")):
            plain[m.group("name").strip().lower()] += 1
    turns: list[Turn] = []
    known: dict[str, str] = {}
    cur: Turn | None = None
    excl_level: int | None = None
    excl_start = 0

    def start(speaker: str | None, n: int) -> Turn:
        t = Turn(speaker, n, n, "")
        turns.append(t)
        return t

    for n in range(first, last + 1):
        line = lines[n - 1]
        if n in front:
            continue
        h = _HEADING.match(line)
        if h:
            level, title = len(h.group(1)), h.group(2).strip()
            if excl_level is not None and level <= excl_level:
                excluded.append((excl_start, n - 1))
                excl_level = None
            headings[n] = title
            if excl_level is None and EXCLUDED_HEADINGS.match(title.strip("*_ ")):
                excl_level, excl_start = level, n
            if level <= 2:
                cur = None
            elif cur is not None:
                cur.parts.append((n, 0, ""))
            continue
        if excl_level is not None:
            continue
        m = _MD_LABEL.match(line)
        name = _label_name(m.group("name")) if m else None
        col = m.start("rest") if m else 0
        if name is None:
            m = _VOICE.match(line)
            if m:
                name, col = m.group("name").strip(), m.start("rest")
        if name is None and not _LIST_ITEM.match(line):
            m = _PLAIN_LABEL.match(line)
            if m and plain[m.group("name").strip().lower()] >= 2:
                name = _label_name(m.group("name"))
                col = m.start("rest")
        if name is not None:
            cur = start(_merge_speaker(name, known), n)
            content = line[col:]
            rest = content.rstrip()
            if rest.endswith("</v>"):
                rest = rest[:-4]
            cur.parts.append((n, col, rest))
            cur.line_end = n
            continue
        if _NOISE_LINE.match(line):
            if cur is not None:
                cur.parts.append((n, 0, ""))
            continue
        if not line.strip():
            if cur is not None:
                cur.parts.append((n, 0, ""))
            continue
        if cur is None:
            cur = start(None, n)
        if _LIST_ITEM.match(line) or _BOLD_ONLY.match(line):
            cur.parts.append((n, 0, ""))  # each list item / bold pseudo-heading is its own paragraph
        if _BOLD_ONLY.match(line):
            headings[n] = line.strip().strip("*").strip()
            continue
        lm = _LIST_ITEM.match(line)
        col = lm.end() if lm else len(line) - len(line.lstrip())
        cur.parts.append((n, col, line[col:].rstrip()))
        cur.line_end = n
    if excl_level is not None:
        excluded.append((excl_start, last))
    out = []
    for t in turns:
        t.text = "\n".join(p[2] for p in t.parts).strip()
        if t.text:
            out.append(t)
    return out


def caption_turns(lines: list[str], first: int, last: int, non_text: set[int]) -> list[Turn]:
    turns: list[Turn] = []
    known: dict[str, str] = {}
    cur: Turn | None = None
    in_note = False
    for n in range(first, last + 1):
        line = lines[n - 1]
        s = line.strip()
        if not s:
            non_text.add(n)
            in_note = False
            continue
        if in_note or (n == first and s.upper().startswith("WEBVTT")) or s.startswith(("NOTE", "STYLE", "REGION")):
            in_note = in_note or not s.upper().startswith("WEBVTT")
            non_text.add(n)
            continue
        if _TIMING.match(s) or (s.isdigit() and n < last and _TIMING.match(lines[n].strip())):
            non_text.add(n)
            continue
        # A cue identifier line (any text directly followed by a timing line).
        if n < last and _TIMING.match(lines[n].strip()):
            non_text.add(n)
            continue
        m = _VOICE.match(line)
        name, col = (m.group("name").strip(), m.start("rest")) if m else (None, 0)
        if name is None:
            m = _PLAIN_LABEL.match(line) or _MD_LABEL.match(line)
            if m and _label_name(m.group("name")):
                name, col = _label_name(m.group("name")), m.start("rest")
        content = line[col:].rstrip()
        if content.endswith("</v>"):
            content = content[:-4]
        if name is not None:
            name = _merge_speaker(name, known)
            if cur is None or cur.speaker != name:
                cur = Turn(name, n, n, "")
                turns.append(cur)
        elif cur is None:
            cur = Turn(None, n, n, "")
            turns.append(cur)
        cur.parts.append((n, col, content))
        cur.line_end = n
    for t in turns:
        t.text = "\n".join(p[2] for p in t.parts).strip()
    return [t for t in turns if t.text]


def _words(t: Turn) -> int:
    return len(t.text.split())


def interviewers_of(turns: list[Turn], extra: dict[str, Any]) -> set[str]:
    """Who asks: labels such as Host/Interviewer/Q, names given as `interviewer` in the
    front matter, else (with three or more speakers) those whose turns are mostly
    questions while another speaker talks clearly more."""
    named = extra.get("interviewer") or extra.get("interviewers") or []
    if isinstance(named, str):
        named = [named]
    named_l = {str(x).strip().lower() for x in named}
    speakers = {t.speaker for t in turns if t.speaker is not None}
    found = {s for s in speakers
             if s.lower() in INTERVIEWER_LABELS or s.lower() in named_l
             or s.lower().split()[0] in {n.split()[0] for n in named_l if n}}
    rest = speakers - found
    if len(rest) >= 2 and not (named_l or found & {s for s in speakers if s.lower() in INTERVIEWER_LABELS}):
        words = Counter()
        asks: Counter = Counter()
        count: Counter = Counter()
        for t in turns:
            if t.speaker in rest:
                words[t.speaker] += _words(t)
                count[t.speaker] += 1
                asks[t.speaker] += "?" in t.text
        top = max(words.values())
        for s in rest:
            if count[s] and asks[s] / count[s] >= 0.6 and words[s] <= 0.75 * top:
                found.add(s)
    return found


def main_speaker(turns: list[Turn], interviewers: set[str]) -> str | None:
    words = Counter()
    for t in turns:
        if t.speaker is not None and t.speaker not in interviewers:
            words[t.speaker] += _words(t)
    for s in list(words):
        if s.lower() in INTERVIEWEE_LABELS:
            words.pop(s)
    return words.most_common(1)[0][0] if words else None
