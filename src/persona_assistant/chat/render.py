"""Showing untrusted text (model answers, notes, CRM cells) in the chat.

Model output is data: it is cleaned with `safe_text.clean` (escape sequences and
control characters go) and rendered either as plain text (piped output) or as
Markdown through `rich.markdown.Markdown`, which builds `Text` objects and never
interprets rich markup such as `[link=...]`. Hyperlinks are off, so a link in
an answer shows its real URL instead of becoming an OSC 8 escape.

Streaming: the terminal renderer redraws the unfinished Markdown block on every
delta (throttled), and moves each finished block (ended by a blank line outside a
code fence) above the live area, so redraw cost stays bounded by one block.
"""

from __future__ import annotations

import re
import sys
import time
from typing import IO, Protocol

from persona_assistant.safe_text import clean

_FENCE = re.compile(r"^\s{0,3}(```|~~~)", re.M)
MAX_PENDING_ESCAPE = 256  # an escape sequence longer than this is not waited for
REFRESH_SECONDS = 0.04  # redraw at most 25 times a second (the first delta draws at once)


def split_ready(pending: str) -> tuple[str, str]:
    """(text safe to clean and emit now, tail to hold): hold an escape sequence or CR that may
    continue in the next delta, so a sequence split across deltas is still removed whole."""
    i = pending.rfind("\x1b")
    if i >= 0 and len(pending) - i < MAX_PENDING_ESCAPE:
        rest = pending[i + 1:]
        complete = bool(rest) and (
            (rest[0] == "[" and re.match(r"\[[0-?]*[ -/]*[@-~]", rest) is not None)
            or (rest[0] == "]" and re.search(r"\x07|\x1b\\", pending[i + 1:]) is not None)
            or rest[0] not in "[]")
        if not complete:
            return pending[:i], pending[i:]
    if pending.endswith("\r"):
        return pending[:-1], "\r"
    return pending, ""


def last_block_end(text: str) -> int:
    """Offset just after the last blank line that is outside a code fence; 0 when none."""
    cut = 0
    in_fence = False
    pos = 0
    for line in text.splitlines(keepends=True):
        pos += len(line)
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and not line.strip() and line.endswith("\n") and pos < len(text):
            cut = pos
    return cut


class Renderer(Protocol):
    """`end(interrupted=True)` closes a stopped answer with INTERRUPTED_MARK, or with `note`."""

    def start(self) -> None: ...
    def feed(self, delta: str) -> None: ...
    def end(self, *, interrupted: bool = False, note: str | None = None) -> None: ...


INTERRUPTED_MARK = "[interrupted]"


class PlainRenderer:
    """Piped output: cleaned text written as it arrives, no colours, no redraws."""

    def __init__(self, out: IO[str] | None = None):
        self.out = out or sys.stdout
        self.pending = ""
        self.wrote_any = False
        self.ends_with_newline = self.ends_with_space = True

    def start(self) -> None:
        self.pending = ""
        self.wrote_any = False
        self.ends_with_newline = self.ends_with_space = True

    def _write(self, text: str) -> None:
        text = clean(text)
        if text:
            self.out.write(text)
            self.out.flush()
            self.wrote_any = True
            self.ends_with_newline = text.endswith("\n")
            self.ends_with_space = text[-1].isspace()

    def feed(self, delta: str) -> None:
        ready, self.pending = split_ready(self.pending + delta)
        self._write(ready)

    def end(self, *, interrupted: bool = False, note: str | None = None) -> None:
        self._write(self.pending)
        self.pending = ""
        if interrupted:
            self.out.write(("" if self.ends_with_space else " ") + (note or INTERRUPTED_MARK) + "\n")
        elif self.wrote_any and not self.ends_with_newline:
            self.out.write("\n")
        self.out.flush()


class MarkdownRenderer:
    """Terminal output: the answer rendered as Markdown while it streams."""

    def __init__(self, console):
        self.console = console
        self.live = None
        self.raw = ""  # uncommitted raw text of the current block(s)
        self.last_draw = 0.0

    @staticmethod
    def markdown(text: str):
        from rich.markdown import Markdown

        return Markdown(clean(text), hyperlinks=False)

    def _new_live(self) -> None:
        from rich.live import Live

        self.live = Live(console=self.console, auto_refresh=False, transient=False,
                         vertical_overflow="visible")
        self.live.start()

    def start(self) -> None:
        self.raw = ""
        self.last_draw = 0.0
        self._new_live()

    def feed(self, delta: str) -> None:
        if self.live is None:
            self._new_live()
        first = not self.raw
        self.raw += delta
        cut = last_block_end(self.raw)
        if cut:
            done, self.raw = self.raw[:cut], self.raw[cut:]
            self.live.update(self.markdown(done), refresh=True)
            self.live.stop()  # the finished block stays on screen above the next one
            self._new_live()
            first = True
        now = time.perf_counter()
        if first or now - self.last_draw >= REFRESH_SECONDS:
            self.live.update(self.markdown(self.raw), refresh=True)
            self.last_draw = now

    def end(self, *, interrupted: bool = False, note: str | None = None) -> None:
        if self.live is not None:
            self.live.update(self.markdown(self.raw), refresh=True)
            self.live.stop()
            self.live = None
        if interrupted:
            from rich.text import Text

            self.console.print(Text(note or INTERRUPTED_MARK, style="dim"))
        self.raw = ""


def make_console(out: IO[str] | None = None, *, terminal: bool | None = None):
    """A rich Console for chat output: colours only on a terminal, never markup or emoji codes."""
    from rich.console import Console

    out = out or sys.stdout
    if terminal is None:
        terminal = out.isatty()
    return Console(file=out, force_terminal=terminal, no_color=not terminal, highlight=False,
                   markup=False, emoji=False, soft_wrap=not terminal)


def show_text(console, text: str, style: str | None = None) -> None:
    """One piece of untrusted plain text, cleaned, shown as text (never as markup)."""
    from persona_assistant.safe_text import as_rich_text

    console.print(as_rich_text(text, style=style if console.is_terminal else None))


def show_markdown(console, text: str) -> None:
    """Untrusted Markdown: rendered on a terminal, cleaned plain text when piped."""
    if console.is_terminal:
        console.print(MarkdownRenderer.markdown(text))
    else:
        show_text(console, text)


def show_diff(console, diff: str) -> None:
    """A unified diff with +/- lines coloured on a terminal."""
    from rich.text import Text

    for line in diff.splitlines():
        style = None
        if console.is_terminal:
            if line.startswith("+") and not line.startswith("+++"):
                style = "green"
            elif line.startswith("-") and not line.startswith("---"):
                style = "red"
            elif line.startswith("@@"):
                style = "cyan"
        console.print(Text(clean(line, keep_newlines=False), style=style or ""))
