"""Grounded chat answers: each sentence of a model's answer checked by code against the workspace.

The model is asked to cite (prompts/chat.j2, and every tool result carries its citation):
- a persona item as `[cfo.pains[0]]` (also read: `persona cfo, pains[0]`, and `cfo.quotes[1]`),
- a CRM segment as `[segment:industry=Software]`,
- an interviewee's words verbatim in double quotes followed by `(notes/a.md:12)` or `(notes/a.md:12-13)`,
- a note line alone as `(notes/a.md:12)`.
Whatever it writes, the check is here: an item must exist in the latest personas draft, a segment
in the analysis (and a percentage in a sentence citing segments must be one of their figures), a line in the cited note; a quote (double-quoted text of QUOTE_MIN_WORDS or more
words, or any quoted text with a file:line after it) must be verbatim in the cited note (as in
drafts: draft/evidence.verify_quote, line corrected) and the interviewee's words; a quote with no
file:line must be verbatim in some note.

Each sentence is shown with what the check found, as visible text (piped output has no colours):
- a citation code could not find: `[unverified: quote not in notes/a.md]` (one reason per citation),
- a quote found at other lines than cited: `[quote verified at notes/a.md:7]`,
- a sentence of CLAIM_MIN_WORDS or more words that cites nothing: OWN_WORDS, the model's own words,
  with LEGEND once after the answer.
Headings, lines ending with ":", short fragments, code blocks and the output-limit notice are not
judged. Sentences end at . ! ? outside quotes and brackets (a citation right after the stop
belongs to the sentence before it) and at line breaks, so an answer is still shown as it streams,
a sentence at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from persona_assistant.chat.context import Context
from persona_assistant.llm.budget import CUT_NOTICE
from persona_assistant.safe_text import shorten
from persona_assistant.schemas import PERSONA_ITEM_FIELDS

CLAIM_MIN_WORDS = 4  # a shorter fragment ("Sure." "In short:") is not judged
QUOTE_MIN_WORDS = 4  # shorter double-quoted text without a file:line is a phrase, not a quote
MAX_HELD_CHARS = 2000  # a run-on with no sentence end is judged and shown at this length
OWN_WORDS = "[own words]"
UNVERIFIED = "unverified"
LEGEND = (f"{OWN_WORDS} = the model's own words: the sentence cites no persona item, quote or segment "
          f"of this workspace. [{UNVERIFIED}: ...] = a citation that code did not find in the workspace.")

_ITEM = re.compile(r"(?:\bpersona\s+)?\b(?P<pid>[a-z0-9][a-z0-9-]*)(?:\.|,\s*)"
                   rf"(?P<field>{'|'.join(PERSONA_ITEM_FIELDS)}|quotes)\[(?P<i>\d+)\]")
_SEGMENT = re.compile(r"\[segment:\s*(?P<id>[^\]]+?)\s*\]")
_LINE = re.compile(r"(?P<path>[^\s()\[\]\"“”:;,]+\.[A-Za-z0-9]{1,5}):(?P<a>\d+)(?:\s*[-–]\s*(?P<b>\d+))?")
_QUOTE = re.compile(r"\"(?P<a>[^\"\n]+)\"|“(?P<b>[^”\n]+)”")
_PERCENT = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d+)?)\s?%(?!\s*(?:CI\b|confiden|interval))")  # not "95% CI"
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")
_OPEN, _CLOSE = "([", ")]"


@dataclass
class Citation:
    kind: str  # item, segment, quote, line
    ref: str  # as written in the answer
    problem: str | None = None  # why code could not find it; None when found
    note: str | None = None  # shown even when found (a quote's corrected lines)


@dataclass
class Judged:
    text: str
    judged: bool  # False: a heading, a fragment, code, a notice
    citations: list[Citation] = field(default_factory=list)

    @property
    def status(self) -> str:
        """plain (not judged), own (cites nothing), flagged (a citation not found), cited."""
        if not self.judged:
            return "plain"
        if not self.citations:
            return "own"
        return "flagged" if any(c.problem for c in self.citations) else "cited"

    def marks(self) -> list[str]:
        if self.status == "own":
            return [OWN_WORDS]
        return [f"[{UNVERIFIED}: {c.problem}]" if c.problem else f"[{c.note}]"
                for c in self.citations if c.problem or c.note]


class Checker:
    """The workspace read once per answer: personas, sources, analysis (on first need)."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._personas: Any = ...

    def personas(self):
        if self._personas is ...:
            self._personas = self.ctx.personas()
        return self._personas

    def item(self, m: re.Match) -> Citation:
        ref, pid, name, i = m.group(0), m.group("pid"), m.group("field"), int(m.group("i"))
        ps = self.personas()
        persona = next((p for p in ps.personas if p.id == pid), None) if ps is not None else None
        if ps is None:
            return Citation("item", ref, "no personas draft to cite")
        if persona is None:
            return Citation("item", ref, f"no persona {shorten(pid, 40)!r}")
        if i >= len(getattr(persona, name)):
            return Citation("item", ref, f"{pid} has no {name}[{i}]")
        return Citation("item", ref)

    def segment(self, m: re.Match) -> Citation:
        sid = m.group("id")
        analysis = self.ctx.analysis()
        if analysis is None:
            return Citation("segment", m.group(0), "no CRM analysis to cite")
        if analysis.segment(sid) is None:
            return Citation("segment", m.group(0), f"no segment {shorten(sid, 60)!r} in the analysis")
        return Citation("segment", m.group(0))

    def figures(self, sentence: str, segments: list[str]) -> list[Citation]:
        """In a sentence citing segments, every percentage must be one of their figures (win rate,
        interval, the baseline's win rate) as rounded where shown; numbers come from the analysis."""
        if not segments:
            return []
        analysis = self.ctx.analysis()
        known = [analysis.baseline.win_rate]
        for ref in segments:
            seg = analysis.segment(_SEGMENT.match(ref).group("id"))
            known += [seg.win_rate, seg.ci_low, seg.ci_high]
        out = []
        for m in _PERCENT.finditer(sentence):
            value, decimals = float(m.group(1)), len(m.group(1).partition(".")[2])
            if not any(abs(value - 100 * k) <= 0.5 * 10 ** -decimals + 1e-9 for k in known):
                out.append(Citation("figure", m.group(0), f"{m.group(0)} is no figure of the cited segment"))
        return out

    def _sources_at(self, path: str) -> list:
        return [s for s in self.ctx.sources.values() if s.path == path]

    def line(self, m: re.Match) -> Citation:
        path, a = m.group("path"), int(m.group("a"))
        b = int(m.group("b") or a)
        found = self._sources_at(path)
        if not found:
            return Citation("line", m.group(0), f"no interview note {shorten(path, 60)!r}")
        if not any(s.first_line <= a <= b <= s.last_line for s in found):
            return Citation("line", m.group(0), f"{shorten(path, 60)} has no line {line_span(a, b)}")
        return Citation("line", m.group(0))

    def quote(self, text: str, at: re.Match | None) -> Citation:
        """A quote is the interviewee's words, verbatim at the cited lines (draft/evidence's rule)."""
        from persona_assistant.draft.evidence import find_quote, verify_quote
        from persona_assistant.draft.persona_edit import not_interviewees_line
        from persona_assistant.schemas import QuoteEvidence

        shown = f'"{shorten(text, 40)}"'
        if at is None:
            for src in self.ctx.sources.values():
                span = find_quote(text, src)
                if span and not_interviewees_line(_evidence(src, span, text), self.ctx.sources) is None:
                    return Citation("quote", shown, note=f"quote verified at {src.path}:{line_span(*span)}")
            return Citation("quote", shown, "quote not found in any interview note")
        path, a = at.group("path"), int(at.group("a"))
        b = int(at.group("b") or a)
        if not self._sources_at(path):
            return Citation("quote", shown, f"no interview note {shorten(path, 60)!r}")
        found = verify_quote(QuoteEvidence(source_id="", path=path, line_start=a, line_end=max(a, b), text=text),
                             self.ctx.sources)
        if found is None:
            return Citation("quote", shown, f"quote not in {shorten(path, 60)}")
        if (line := not_interviewees_line(found, self.ctx.sources)) is not None:
            return Citation("quote", shown, f"{shorten(path, 60)}:{line} is not the interviewee's words")
        if (found.line_start, found.line_end) != (a, max(a, b)):
            return Citation("quote", shown, note=f"quote verified at {found.path}:{line_span(found.line_start, found.line_end)}")
        return Citation("quote", shown)

    def judge(self, sentence: str) -> Judged:
        citations = [self.item(m) for m in _ITEM.finditer(sentence)]
        citations += [self.segment(m) for m in _SEGMENT.finditer(sentence)]
        lines = list(_LINE.finditer(sentence))
        quoted = set()
        for q in _QUOTE.finditer(sentence):
            text = q.group("a") or q.group("b")
            after = next((m for m in lines if m.start() >= q.end()), None)
            nxt = next((o for o in _QUOTE.finditer(sentence, q.end())), None)
            if after is not None and nxt is not None and nxt.start() < after.start():
                after = None  # the file:line belongs to the next quote
            if after is None and len(_WORD.findall(text)) < QUOTE_MIN_WORDS:
                continue  # a phrase in quotation marks, not a quote
            if after is not None:
                quoted.add(after.start())
            citations.append(self.quote(text, after))
        citations += [self.line(m) for m in lines if m.start() not in quoted]
        citations += self.figures(sentence, [c.ref for c in citations if c.kind == "segment" and not c.problem])
        words = _WORD.findall(_SEGMENT.sub(" ", _ITEM.sub(" ", sentence)))
        judged = len(words) >= CLAIM_MIN_WORDS or bool(citations)
        return Judged(sentence, judged, citations)


def line_span(a: int, b: int) -> str:
    return f"{a}" if a == b else f"{a}-{b}"


def _evidence(src, span: tuple[int, int], text: str):
    from persona_assistant.schemas import QuoteEvidence

    return QuoteEvidence(source_id=src.id, path=src.path, line_start=span[0], line_end=span[1], text=text)


# --------------------------------------------------------------------------- sentences


def sentence_end(text: str, final: bool) -> int | None:
    """Offset where the second sentence of `text` starts, or None while the first may still go on.
    A line break ends a sentence; so does . ! ? outside brackets and quotes (or just before a
    closing quote), after any closing marks and the citations that follow it, before more text
    (or the end of the answer, when `final`)."""
    depth, quoting = 0, False
    n = len(text)
    for i, ch in enumerate(text):
        if ch == "\n":
            return i + 1
        stop = not quoting and depth == 0 and ch in ".!?"
        if ch == '"' or ch == "“" or ch == "”":
            closing = quoting and ch != "“"
            quoting = not closing and ch != "”"
            stop = closing and depth == 0 and i > 0 and text[i - 1] in ".!?"
        elif not quoting and ch in _OPEN:
            depth += 1
        elif not quoting and ch in _CLOSE:
            depth = max(0, depth - 1)
        if stop:
            end = _after_stop(text, i + 1)
            if end is not None and end >= n:
                return n if final else None
            if end is not None:
                return end
    return n if final and n else None


def _after_stop(text: str, i: int) -> int | None:
    """Where the next sentence starts after a stop at i - 1: past closing marks, citations (with a
    stop after them) and spaces; None when the stop ends no sentence (a decimal point, a
    lower-case word next: "e.g. for")."""
    n = len(text)
    while i < n and text[i] in "\"”’')*_":
        i += 1
    if i < n and not text[i].isspace():
        return None
    while True:
        j = i
        while j < n and text[j] in " \t":
            j += 1
        if j < n and text[j] in _OPEN:
            close = _closing(text, j)
            if close is None:
                return n  # a bracket still streaming: wait for it
            if _cites(text[j:close]):
                i = close
                if i < n and text[i] in ".;,":
                    i += 1
                continue
        return None if j < n and text[j].islower() else j  # "e.g. for" goes on


def _cites(bracketed: str) -> bool:
    return bool(_ITEM.search(bracketed) or _SEGMENT.search(bracketed) or _LINE.search(bracketed))


def _closing(text: str, j: int) -> int | None:
    depth = 0
    for k in range(j, len(text)):
        if text[k] in _OPEN:
            depth += 1
        elif text[k] in _CLOSE:
            depth -= 1
            if depth == 0:
                return k + 1
    return None


# --------------------------------------------------------------------------- streaming


class Grounder:
    """Annotates a streamed answer: text is passed on as it comes (all but trailing spaces), and a
    sentence's marks follow it as soon as its end is known. feed() returns what to show now."""

    def __init__(self, ctx: Context):
        self.checker = Checker(ctx)
        self.held = ""  # the sentence in progress
        self.shown = 0  # how much of it was already passed on
        self.line_start = True
        self.in_fence = False
        self.judged: list[Judged] = []

    def feed(self, delta: str) -> str:
        self.held += delta
        return self._ready(final=False)

    def flush(self, *, judge: bool = True) -> str:
        """The rest; `judge=False` for a stopped answer, whose last fragment is no sentence."""
        if judge:
            return self._ready(final=True)
        rest, self.held, self.shown = self.held[self.shown:], "", 0
        return rest

    @property
    def marked(self) -> bool:
        return any(j.marks() for j in self.judged)

    def _ready(self, final: bool) -> str:
        out: list[str] = []
        while self.held:
            end = sentence_end(self.held, final)
            if end is None and len(self.held) >= MAX_HELD_CHARS:
                end = len(self.held)
            if end is None:
                keep = len(self.held.rstrip().rstrip("|").rstrip())  # marks may still go before these
                if keep > self.shown:
                    out.append(self.held[self.shown:keep])
                    self.shown = keep
                break
            unit, self.held = self.held[:end], self.held[end:]
            out.append(self._unit(unit, self.shown))
            self.shown = 0
        return "".join(out)

    def _unit(self, unit: str, shown: int) -> str:
        """The not yet shown rest of one sentence, with its marks before its trailing spaces."""
        body = unit.rstrip()
        tail = unit[len(body):]
        starts_line, self.line_start = self.line_start, unit.endswith("\n")
        stripped = body.strip()
        if starts_line and _FENCE.match(body):
            self.in_fence = not self.in_fence
            return unit[shown:]
        if (self.in_fence or not stripped or stripped.startswith("#") or stripped.endswith(":")
                or CUT_NOTICE in stripped):
            return unit[shown:]
        judged = self.checker.judge(stripped)
        if judged.judged:
            self.judged.append(judged)
        marks = " ".join(judged.marks())
        if not marks:
            return unit[shown:]
        if body.endswith("|") and len(body) - 1 >= shown:  # a table row: marks inside its last cell
            return f"{body[shown:-1].rstrip()} {marks} |{tail}"
        return f"{body[shown:]} {marks}{tail}"


class GroundedRenderer:
    """A chat renderer (chat/render.py) whose text goes through a Grounder; the legend is shown
    (through `legend`) after an answer that has any mark."""

    def __init__(self, inner: Any, ctx: Context, legend: Callable[[str], None]):
        self.inner = inner
        self.ctx = ctx
        self.legend = legend
        self.grounder = Grounder(ctx)

    def start(self) -> None:
        self.grounder = Grounder(self.ctx)
        self.inner.start()

    def feed(self, delta: str) -> None:
        ready = self.grounder.feed(delta)
        if ready:
            self.inner.feed(ready)

    def end(self, *, interrupted: bool = False, note: str | None = None) -> None:
        ready = self.grounder.flush(judge=not interrupted)
        if ready:
            self.inner.feed(ready)
        self.inner.end(interrupted=interrupted, note=note)
        if self.grounder.marked:
            self.legend(LEGEND)


def ground(text: str, ctx: Context) -> tuple[str, list[Judged]]:
    """A whole answer annotated at once (what the stream shows, for saved answers and tests)."""
    g = Grounder(ctx)
    return g.feed(text) + g.flush(), g.judged
