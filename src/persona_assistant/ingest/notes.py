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

Rooms: `notefile` (decoding, lines, interviews, front matter), `turns` (speaker turns, who asks),
`source` (the `Source` model and its sentences), role words in `persona_assistant.roles`. This module
builds one `Source` per interview and finds its role hint; the names callers use are re-exported here.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Sequence

from persona_assistant.errors import InputError
from persona_assistant.ingest.notefile import (CAPTION_SUFFIXES, META_KEYS, NOTE_SUFFIXES, decode_note, parse_meta,
                                               split_interviews, split_lines)
from persona_assistant.ingest.source import Sentence, Source, split_sentences
from persona_assistant.ingest.turns import (INTERVIEWEE_LABELS, INTERVIEWER_LABELS, Turn, caption_turns,
                                            interviewers_of, main_speaker, text_turns)
from persona_assistant.roles import COMPANY_AFTER_ROLE, ROLE_PATTERNS, WHO_HEADING, WHO_ROLE, clean_role

# The public names callers import from here (one definition each, in the room named above).
__all__ = ["INTERVIEWEE_LABELS", "INTERVIEWER_LABELS", "META_KEYS", "NOTE_SUFFIXES", "Sentence", "Source", "Turn",
           "decode_note", "find_role", "load_source_file", "load_sources", "split_lines", "split_sentences"]


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
    caption = path.suffix.lower() in CAPTION_SUFFIXES
    chunks = split_interviews(lines, caption)
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


def _build_source(sid: str, shown: str, lines: list[str], first: int, last: int,
                  meta_span: tuple[int, int] | None, caption: bool, notices: list[str]) -> Source:
    meta, extra, fm_lines = parse_meta(lines, meta_span, shown)
    excluded: list[tuple[int, int]] = []
    headings: dict[int, str] = {}
    non_text: set[int] = set()
    front = set(range(meta_span[0], meta_span[1] + 1)) if meta_span else set()
    if caption:
        turns = caption_turns(lines, first, last, non_text)
    else:
        turns = text_turns(lines, first, last, front, excluded, headings)
    interviewers = interviewers_of(turns, extra)
    interviewee = meta.get("name") or main_speaker(turns, interviewers)
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


def find_role(src: Source) -> tuple[str, str | None, int] | None:
    """(role, company, line) from the interviewee's own words, or a note's 'Who' section."""
    # The interviewee first; in a panel, then the other respondents.
    order = [src.interviewee] + [r for r in src.respondents if r != src.interviewee]
    own = [t for who in order if who for t in src.turns if t.speaker == who]
    for sent in (s for t in own for s in split_sentences(t, src)):
        for pat in ROLE_PATTERNS:
            m = pat.search(sent.text)
            if not m:
                continue
            if m.groupdict().get("member"):
                role = f"{m.group('member').strip()} team member"
            elif m.groupdict().get("team"):
                role = f"{m.group('team').strip()} team lead"
            else:
                role = clean_role(m.group("role"))
            if not role:
                continue
            cm = COMPANY_AFTER_ROLE.match(sent.text[m.end():])
            company = cm.group("c") if cm else None
            return role, company, sent.line_start
    # A structured note: the first line under a "Who" heading describes the person.
    for sent in src.sentences():
        if WHO_HEADING.match(sent.section):
            m = WHO_ROLE.match(re.sub(r"[*_]", "", sent.text))
            role = clean_role(m.group("role")) if m else None
            if role:
                return role, None, sent.line_start
    return None
