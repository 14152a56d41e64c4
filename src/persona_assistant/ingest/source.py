"""The `Source` model: one interview, line-addressable, and its sentences.

Design: a `Source` keeps ALL lines of its file (1-based numbering is the file's own) plus which of them
belong to this interview and which are not the speakers' words, so a quote can be checked against the
file's own lines. It is built once by `ingest.notes` and not changed afterwards; views computed from it
(heading index, sentences, the evidence index of `draft.evidence`) are memoised by the source itself
through `Source.derived(build)`: `build` is a pure function of the source and its own key, so the source
is the one owner of its cache and no module keeps state about sources.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, TypeVar

from persona_assistant.ingest.turns import Turn

T = TypeVar("T")


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
    _derived: dict[Callable[["Source"], Any], Any] = field(default_factory=dict, repr=False, compare=False)

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

    def derived(self, build: Callable[["Source"], T]) -> T:
        """`build(self)`, computed once per source (a source does not change once loaded); `build` is the key."""
        if build not in self._derived:
            self._derived[build] = build(self)
        return self._derived[build]

    def section_of(self, line: int) -> str:
        keys = self.derived(_heading_keys)
        i = bisect_right(keys, line) - 1
        return self.headings[keys[i]] if i >= 0 else ""

    def respondent_turns(self) -> list[Turn]:
        who = set(self.respondents)
        return [t for t in self.turns if t.speaker in who and not self.is_excluded(t.line_start)]

    def sentences(self, *, respondents_only: bool = True) -> list[Sentence]:
        """Sentences of the interviewee's turns (cached: read once, used by every field)."""
        return self.derived(_respondent_sentences if respondents_only else _all_sentences)


def _heading_keys(src: Source) -> list[int]:
    return sorted(src.headings)


def _respondent_sentences(src: Source) -> list[Sentence]:
    return [s for t in src.respondent_turns() for s in split_sentences(t, src)]


def _all_sentences(src: Source) -> list[Sentence]:
    return [s for t in src.turns for s in split_sentences(t, src)]


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
