"""Interview notes and transcripts read into line-addressable sources.

Why line-addressable: every persona item cites a verbatim quote by file and line
range, and code (draft/evidence.py) checks it against the file's own lines. So a
`Source` keeps ALL lines of its file (1-based numbering is the file's own) plus
which of them belong to this interview and which are not the speakers' words.

Accepted formats
- `.md` / `.txt`, optionally opening with a YAML front-matter block between `---`
  lines. Known keys: name, role or title, company, industry, company_size, region,
  date, segment (`meta`); any other key is kept in `extra` (e.g. `interviewer`).
- Speaker turns: `**Name:** text` or `**Name**: text` (markdown), and `Name: text`
  lines (a plain label counts only when it starts at least two lines of the
  interview, so "URL: ..." or "Note: ..." prose is not mistaken for a speaker;
  `Q:`/`A:` are the interviewer and the interviewee). Unlabelled paragraphs continue
  the current speaker; `#`/`##` headings end a turn, `###` and deeper do not.
- A note with no speaker labels at all (a written or structured note) is one turn
  by the interviewee: the note-taker's account, quotable verbatim.
- `.vtt` / `.srt` captions: only cue text lines are text (WEBVTT header, NOTE
  blocks, cue numbers and `-->` timing lines are not); a cue line keeps its real
  line number. Voice tags `<v Name>` and `Name: text` labels give the speaker.
- Sections headed Summary / AI summary / Description / Key takeaways / TL;DR
  (any heading level) are written by someone other than the speakers (often an AI):
  they are `excluded` - never evidence, never classified.

Several interviews in one file: they are separated by a line of exactly `+++`, or
by a new front-matter block (a `---` line, then `key: value` lines with at least
one known key, then a closing `---`). Each becomes its own source with id
"<stem>#<n>" (n from 1); a file with one interview has id "<stem>".

Encoding: UTF-8 (with or without BOM), UTF-16 with a BOM; otherwise cp1252 with a
notice on the source; anything else is an InputError naming the file.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from persona_assistant.errors import InputError

NOTE_SUFFIXES = {".md", ".txt", ".vtt", ".srt", ".markdown"}
META_KEYS = ("name", "role", "title", "company", "industry", "company_size", "region", "date", "segment")
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


@dataclass
class Sentence:
    """A sentence of a turn, with where it sits in the file; `text` is whitespace-collapsed."""

    text: str
    line_start: int
    line_end: int
    speaker: str | None
    section: str  # the nearest heading above it ("" when none)


@dataclass
class Source:
    """One interview: the whole file's lines plus which part is this interview's."""

    id: str
    path: str
    meta: dict[str, str]
    extra: dict[str, Any]
    lines: list[str]  # the WHOLE file, index 0 is line 1
    first_line: int
    last_line: int
    turns: list[Turn]
    excluded: list[tuple[int, int]]  # inclusive line ranges that are not the speakers' words
    non_text: frozenset[int]  # caption timing lines, cue numbers, headers: skipped, not breaks
    headings: dict[int, str]  # line -> heading text, for section hints
    interviewers: frozenset[str]
    interviewee: str | None
    role_hint: str | None
    company: str | None
    notices: list[str] = field(default_factory=list)
    front_matter_lines: dict[str, int] = field(default_factory=dict)  # key -> line of "key: value"
    role_line: int | None = None  # where role_hint was found (front matter or text)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def respondents(self) -> list[str | None]:
        """Speakers whose words count as the interviewee's: every non-interviewer who says at
        least a fifth as much as the main one (a panel has several; a co-host's one-line
        intro is not evidence). [None] for a written note without speaker labels."""
        speakers = {t.speaker for t in self.turns}
        if speakers == {None}:
            return [None]
        words = Counter()
        for t in self.turns:
            if t.speaker is not None and t.speaker not in self.interviewers:
                words[t.speaker] += len(t.text.split())
        if not words:
            return []
        top = max(words.values())
        return sorted(s for s, w in words.items() if w >= 0.2 * top)

    def is_excluded(self, line: int) -> bool:
        return any(a <= line <= b for a, b in self.excluded)

    def section_of(self, line: int) -> str:
        keys = self._cache.get("heading_keys")
        if keys is None:
            keys = self._cache["heading_keys"] = sorted(self.headings)
        i = bisect_right(keys, line) - 1
        return self.headings[keys[i]] if i >= 0 else ""

    def respondent_turns(self) -> list[Turn]:
        who = set(self.respondents)
        return [t for t in self.turns if t.speaker in who and not self.is_excluded(t.line_start)]

    def sentences(self, *, respondents_only: bool = True) -> list[Sentence]:
        """Sentences of the interviewee's turns (cached: read once, used by every field)."""
        key = f"sentences:{respondents_only}"
        if key not in self._cache:
            turns = self.respondent_turns() if respondents_only else self.turns
            self._cache[key] = [s for t in turns for s in split_sentences(t, self)]
        return self._cache[key]


# --------------------------------------------------------------------------- reading


def decode_note(raw: bytes, path: str) -> tuple[str, list[str]]:
    """Text of a note file and any notice about how it was decoded."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), []
        except UnicodeDecodeError:
            raise InputError(f"{path}: not readable as UTF-16 text despite its byte-order mark") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise InputError(f"{path}: not text in UTF-8 or cp1252 (save it as UTF-8)") from None
        return _check_text(text, path), [f"{path}: not UTF-8, read as cp1252 (Windows-1252)"]
    return _check_text(text, path), []


def _check_text(text: str, path: str) -> str:
    if "\x00" in text:
        raise InputError(f"{path}: looks like a binary file, not an interview note")
    return text


def split_lines(text: str) -> list[str]:
    """Lines as editors number them (\\n, \\r\\n or \\r end a line; no other separators)."""
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _rel(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


def load_source_file(path: Path, root: Path | None = None) -> list[Source]:
    """Every interview in one note file (read once)."""
    path = Path(path)
    shown = _rel(path, root)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{shown}: cannot read ({exc.strerror})") from None
    text, notices = decode_note(raw, shown)
    if not text.strip():
        raise InputError(f"{shown}: empty note (no text)")
    lines = split_lines(text)
    caption = path.suffix.lower() in {".vtt", ".srt"}
    chunks = _split_interviews(lines, caption)
    if not chunks:
        raise InputError(f"{shown}: empty note (no interview text after the front matter)")
    stem = path.stem
    sources = []
    for n, (first, last, meta_span) in enumerate(chunks, start=1):
        sid = stem if len(chunks) == 1 else f"{stem}#{n}"
        sources.append(_build_source(sid, shown, lines, first, last, meta_span, caption, list(notices)))
    return sources


def load_sources(paths: Sequence[Path], root: Path | None = None) -> list[Source]:
    """All interviews of the given files; ids are unique (a repeated stem gets its path)."""
    sources: list[Source] = []
    for p in paths:
        sources.extend(load_source_file(Path(p), root))
    counts = Counter(s.id.split("#")[0] for s in sources)
    files_per_stem: dict[str, set[str]] = {}
    for s in sources:
        files_per_stem.setdefault(s.id.split("#")[0], set()).add(s.path)
    for s in sources:
        stem, _, n = s.id.partition("#")
        if counts[stem] and len(files_per_stem[stem]) > 1:
            base = re.sub(r"\.[^./]+$", "", s.path)
            s.id = f"{base}#{n}" if n else base
    return sources


# --------------------------------------------------------------------------- splitting


def _front_matter_at(lines: list[str], i: int, *, require_known: bool) -> int | None:
    """Index of the closing --- when a front-matter block opens at lines[i]."""
    if lines[i].strip() != "---":
        return None
    for j in range(i + 1, min(len(lines), i + 60)):
        if lines[j].strip() in {"---", "..."}:
            body = lines[i + 1:j]
            if require_known and not any(
                    re.match(rf"^\s*{k}\s*:", ln, re.I) for ln in body for k in META_KEYS):
                return None
            if not all(not ln.strip() or ln.startswith((" ", "\t", "#", "-"))
                       or re.match(r"^[\w .-]+\s*:", ln) for ln in body):
                return None
            return j
    return None


def _split_interviews(lines: list[str], caption: bool) -> list[tuple[int, int, tuple[int, int] | None]]:
    """(first_line, last_line, front-matter line span or None) per interview, 1-based."""
    if caption:
        return [(1, len(lines), None)] if any(ln.strip() for ln in lines) else []
    chunks: list[tuple[int, int, tuple[int, int] | None]] = []
    start, meta_span, i = 0, None, 0
    fm = _front_matter_at(lines, 0, require_known=False) if lines else None
    if fm is not None:
        meta_span, i = (1, fm + 1), fm + 1

    def close(end: int) -> None:
        body = [ln for k, ln in enumerate(lines[start:end], start=start)
                if not (meta_span and meta_span[0] - 1 <= k <= meta_span[1] - 1)]
        if any(ln.strip() for ln in body):
            chunks.append((start + 1, end, meta_span))

    while i < len(lines):
        if lines[i].strip() == "+++":
            close(i)
            start, meta_span = i + 1, None
            nxt = i + 1
            while nxt < len(lines) and not lines[nxt].strip():
                nxt += 1
            if nxt < len(lines):
                fm = _front_matter_at(lines, nxt, require_known=False)
                if fm is not None:
                    meta_span, i = (nxt + 1, fm + 1), fm + 1
                    continue
            i += 1
            continue
        if i > 0 and lines[i].strip() == "---":
            fm = _front_matter_at(lines, i, require_known=True)
            if fm is not None:
                close(i)
                start, meta_span = i, (i + 1, fm + 1)
                i = fm + 1
                continue
        i += 1
    close(len(lines))
    return chunks


# --------------------------------------------------------------------------- one interview


def _parse_meta(lines: list[str], span: tuple[int, int] | None, shown: str) -> tuple[dict, dict, dict]:
    if span is None:
        return {}, {}, {}
    import yaml

    a, b = span  # lines a (---) .. b (---), 1-based
    body = "\n".join(lines[a:b - 1])
    try:
        data = yaml.safe_load(body) if body.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {a + 1 + mark.line}" if mark is not None else f" lines {a}-{b}"
        raise InputError(f"{shown}:{where}: front matter is not valid YAML") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"{shown}: line {a}: front matter must be `key: value` lines")
    meta, extra, where = {}, {}, {}
    for key, value in data.items():
        k = str(key).strip().lower().replace(" ", "_").replace("-", "_")
        if k in META_KEYS and value is not None and not isinstance(value, (dict, list)):
            meta[k] = str(value).strip()
        else:
            extra[str(key)] = value
    for n in range(a + 1, b):
        m = re.match(r"^\s*([\w -]+?)\s*:", lines[n - 1])
        if m:
            where.setdefault(m.group(1).strip().lower().replace(" ", "_").replace("-", "_"), n)
    if "role" not in meta and "title" in meta:
        meta["role"] = meta["title"]
        where.setdefault("role", where.get("title"))
    return meta, extra, where


def _label_name(name: str) -> str | None:
    name = name.strip()
    low = name.lower()
    if low in INTERVIEWER_LABELS or low in INTERVIEWEE_LABELS:
        return name
    if not _NAME_OK.match(name) or len(name.split()) > 4 or low in _NOT_SPEAKERS:
        return None
    return name


def _build_source(sid: str, shown: str, lines: list[str], first: int, last: int,
                  meta_span: tuple[int, int] | None, caption: bool, notices: list[str]) -> Source:
    meta, extra, fm_lines = _parse_meta(lines, meta_span, shown)
    excluded: list[tuple[int, int]] = []
    headings: dict[int, str] = {}
    non_text: set[int] = set()
    front = set(range(meta_span[0], meta_span[1] + 1)) if meta_span else set()
    if caption:
        turns = _caption_turns(lines, first, last, non_text)
    else:
        turns = _text_turns(lines, first, last, front, excluded, headings)
    interviewers = _interviewers(turns, extra)
    interviewee = meta.get("name") or _main_speaker(turns, interviewers)
    src = Source(id=sid, path=shown, meta=meta, extra=extra, lines=lines, first_line=first,
                 last_line=last, turns=turns, excluded=excluded, non_text=frozenset(non_text),
                 headings=headings, interviewers=frozenset(interviewers), interviewee=interviewee,
                 role_hint=None, company=meta.get("company"), notices=notices,
                 front_matter_lines=fm_lines)
    if meta.get("role"):
        src.role_hint, src.role_line = meta["role"], fm_lines.get("role")
    else:
        found = find_role(src)
        if found:
            src.role_hint, company, src.role_line = found
            src.company = src.company or company
    return src


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


def _text_turns(lines: list[str], first: int, last: int, front: set[int],
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


def _caption_turns(lines: list[str], first: int, last: int, non_text: set[int]) -> list[Turn]:
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


def _interviewers(turns: list[Turn], extra: dict[str, Any]) -> set[str]:
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


def _main_speaker(turns: list[Turn], interviewers: set[str]) -> str | None:
    words = Counter()
    for t in turns:
        if t.speaker is not None and t.speaker not in interviewers:
            words[t.speaker] += _words(t)
    for s in list(words):
        if s.lower() in INTERVIEWEE_LABELS:
            words.pop(s)
    return words.most_common(1)[0][0] if words else None


# --------------------------------------------------------------------------- sentences

# A sentence ends after . ! ? or … plus any closing quotes/brackets, before a space
# and a character that is not lower case; a blank line always ends one.
_SENT_BREAK = re.compile(r"(?<=[.!?…])(?P<close>[\"”’')\]]*)\s+(?=[^\sa-z])|\n[ \t]*\n")


def split_sentences(turn: Turn, source: Source) -> Iterator[Sentence]:
    """Sentences of a turn with their file line range; paragraph breaks always split."""
    # Empty parts become "\n\n" boundaries once joined: make them explicit.
    text = "\n".join(p[2] if p[2] else "\n" for p in turn.parts)
    offsets, pos = [], 0
    for p in turn.parts:
        offsets.append(pos)
        pos += (len(p[2]) if p[2] else 1) + 1
    start = 0
    bounds = [(m.start() + len(m.group("close") or ""), m.end()) for m in _SENT_BREAK.finditer(text)]
    bounds.append((len(text), len(text)))
    for a, b in bounds:
        chunk = text[start:a]
        lead = len(chunk) - len(chunk.lstrip())
        s0, s1 = start + lead, start + len(chunk.rstrip())
        start = b
        if s1 <= s0:
            continue
        collapsed = " ".join(text[s0:s1].split())
        i0 = bisect_right(offsets, s0) - 1
        i1 = bisect_right(offsets, s1 - 1) - 1
        ls, le = turn.parts[i0][0], turn.parts[i1][0]
        yield Sentence(collapsed, ls, le, turn.speaker, source.section_of(ls))


# --------------------------------------------------------------------------- role hints

TITLE_WORDS = (
    r"cfo|ceo|coo|cto|cio|ciso|cmo|cro|vp|founder|president|chief|director|head|manager|controller|"
    r"comptroller|accountant|bookkeeper|treasurer|analyst|engineer|engineering|developer|sre|architect|"
    r"advocate|lead|officer|designer|consultant|administrator|admin|specialist|scientist|maintainer|"
    r"owner|partner|programmer|evangelist|recruiter|marketer|strategist|coordinator|supervisor|"
    r"student|parent|teacher|nurse|physician|freelancer|homeowner|retiree"
)
_TITLE_RE = re.compile(rf"\b(?:{TITLE_WORDS})s?\b", re.I)
_ROLE_PATTERNS = [
    re.compile(r"\bmy (?:job )?title(?: at work)? is (?P<role>[^.,;!?]{2,60})", re.I),
    re.compile(r"\bI(?:'m| am|’m) (?P<name>[A-Z][\w-]+(?: [A-Z][\w-]+)?), (?:the |a |an )?(?P<role>[^.,;!?]{2,60}?)"
               r"(?=\s+(?:at|for|working|on|in|with|here|of)\b|[.,;!?]|$)"),
    re.compile(r"\bI(?:'m| am|’m)\s+(?:currently\s+|now\s+)?(?:the |a |an )(?P<role>[^.,;!?]{2,60}?)"
               r"(?=\s+(?:at|for|with|in|on|of|here|and|who|working)\b|[.,;!?]|$)", re.I),
    re.compile(r"\bI lead (?:the )?(?P<team>[\w &/-]{2,40}?) team\b", re.I),
    re.compile(r"\bI(?:'m| am|’m) on the (?P<member>[\w &/-]{2,40}?) team\b", re.I),
    re.compile(r"\b(?:as|I've been|I have been|I was hired as|I work as) (?:the |a |an )?"
               r"(?P<role>(?:[\w/&-]+ ){0,3}(?:CFO|CEO|COO|CTO|CIO|controller|accountant|engineer|manager|director))\b",
               re.I),
]
_COMPANY = re.compile(r"^\s+(?:here\s+)?(?:working\s+|based\s+)?(?:at|for)\s+"
                      r"(?P<c>[A-Z][\w&'-]*(?:[ .][A-Z][\w&'-]*){0,3})")
_WHO_HEADING = re.compile(r"^(?:who|interviewee|participant|about them)\b", re.I)
_WHO_ROLE = re.compile(r"^(?:an?|the)\s+(?P<role>[^,.;]{2,60}?)(?=\s+(?:on|at|for|in|with|who|and)\b|[,.;]|$)", re.I)


def _clean_role(role: str) -> str | None:
    role = re.sub(r"[*_`]", "", role).strip()
    role = re.sub(r"^(?:senior|staff|lead|principal|junior)?\s*$", "", role, flags=re.I)
    if not role or not _TITLE_RE.search(role) or len(role.split()) > 7:
        return None
    # End the role at its last title word ("staff engineer working on X" -> "staff engineer").
    last = list(_TITLE_RE.finditer(role))[-1]
    return role[:last.end()].strip()


def find_role(src: Source) -> tuple[str, str | None, int] | None:
    """(role, company, line) from the interviewee's own words, or a note's 'Who' section."""
    # The interviewee first; in a panel, then the other respondents.
    order = [src.interviewee] + [r for r in src.respondents if r != src.interviewee]
    own = [t for who in order if who for t in src.turns if t.speaker == who]
    for sent in (s for t in own for s in split_sentences(t, src)):
        for pat in _ROLE_PATTERNS:
            m = pat.search(sent.text)
            if not m:
                continue
            if m.groupdict().get("member"):
                role = f"{m.group('member').strip()} team member"
            elif m.groupdict().get("team"):
                role = f"{m.group('team').strip()} team lead"
            else:
                role = _clean_role(m.group("role"))
            if not role:
                continue
            cm = _COMPANY.match(sent.text[m.end():])
            company = cm.group("c") if cm else None
            return role, company, sent.line_start
    # A structured note: the first line under a "Who" heading describes the person.
    for sent in src.sentences():
        if _WHO_HEADING.match(sent.section):
            m = _WHO_ROLE.match(re.sub(r"[*_]", "", sent.text))
            role = _clean_role(m.group("role")) if m else None
            if role:
                return role, None, sent.line_start
    return None
