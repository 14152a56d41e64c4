"""What a delimited UTF-8 file holds, from one streaming pass over its bytes, and how to make it readable.

DuckDB's CSV reader needs one record terminator for the whole file (`new_line`), and a wrong one is
silent: an LF file read as CRLF gives no rows at all. A sample cannot decide it, because a line break
inside a quoted cell (notes, addresses, "Deal\\r\\n(renewal)") looks like a terminator. So `scan` reads
every byte once, quote-aware, at C speed (bytes `translate`/`replace`/`split`/`count`, no per-byte Python):

- whether a line break is inside a quoted cell depends only on the parity of the quotes before it (RFC
  4180: a cell is quoted whole, a quote inside it doubled). So a chunk is cut down to its quotes and line
  breaks, adjacent quote pairs (no break between them: they change nothing) are dropped, and the rest,
  split at the quotes, alternates between breaks outside and inside quotes;
- `Layout.records`: the non-blank records (header included), the number of rows a reader must return.
  Telling a blank line from a line of text needs the text, so a chunk that may hold a blank line
  (two breaks in a row) is split at every quote of the full text instead: exact, about 3x slower;
- terminators: LF, CRLF and CR-only counted outside quotes. One kind is passed to DuckDB as is.

`rewrite` is the exact, slower way (Python's csv module, the reference reading, into a clean CRLF-terminated
copy; about 3 s of CPU per million rows). It reads a file with mixed terminators (concatenated or edited
on another system), which DuckDB refuses, and a file whose quotes broke the parity rule: a quote inside an
unquoted cell (`24" monitor`) is a plain character to Python's csv module and to DuckDB, so the scan's
count is then wrong and DuckDB's differs from it. A rewrite, not a byte-level fix of the terminators,
because with such a quote the scan would misplace which breaks are inside cells and change them.
`physical_line` turns DuckDB's error line numbers (records) into file lines.
"""

from __future__ import annotations

import csv
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from persona_assistant.errors import InputError

CHUNK = 4 << 20  # bytes per streaming read
_BLANKS = re.compile(rb"\n\n+")
_CRLF = b"\x00"  # stands for CRLF while scanning (the UTF-8 source has no NULs: they are stripped before)
_NOT_QUOTE_OR_BREAK = bytes(b for b in range(256) if b not in b'"\r\n\x00')
_BREAKS = (b"\n", b"\r")


@dataclass
class Layout:
    """Counts from `scan` (see the module docstring for when they can be wrong)."""

    lf: int = 0  # record terminators outside quotes, by kind
    crlf: int = 0
    cr: int = 0
    multiline: bool = False  # some quoted cell holds a line break (DuckDB's parallel reader then refuses padding)
    records: int = 0  # non-blank records, header included
    leading_blank: int = 0  # blank lines before the header
    unterminated: bool = False  # the file ends inside a quoted field
    # scanning state
    _inside: bool = False  # within a quoted field at the end of what was fed
    _line_start: bool = True  # what was fed ends with a record terminator (or nothing was fed)

    @property
    def kinds(self) -> list[str]:
        return [nl for nl, n in (("\n", self.lf), ("\r\n", self.crlf), ("\r", self.cr)) if n]

    @property
    def newline(self) -> str:
        """The single terminator DuckDB gets (LF when there is none, or after `normalize`)."""
        kinds = self.kinds
        return kinds[0] if len(kinds) == 1 else "\n"

    @property
    def mixed(self) -> bool:
        return len(self.kinds) > 1

    def describe(self) -> str:
        names = {"\n": "LF", "\r\n": "CRLF", "\r": "CR"}
        return ", ".join(f"{n} {names[nl]}" for nl, n in (("\n", self.lf), ("\r\n", self.crlf), ("\r", self.cr)) if n)

    def feed(self, chunk: bytes) -> None:
        """One piece of the file (`_chunks` never ends a piece between CR and LF).

        Two-byte searches over the whole chunk are slow (a frequent last byte defeats the skip), so a
        chunk with CRs is checked for blank lines and lone CRs through `splitlines` and one-byte counts.
        """
        last = chunk[-1:]
        mark = False  # CRLF made one byte: a lone CR and a later LF must not meet once the text between goes
        if b"\r" in chunk:
            lines = chunk.splitlines()  # at CR, LF and CRLF
            exact = b"" in lines
            crs, lfs = chunk.count(b"\r"), chunk.count(b"\n")
            crlf = crs + lfs - (len(lines) - (last not in _BREAKS))  # breaks: one per line
            mark = crs > crlf and lfs > crlf
        else:
            exact = b"\n\n" in chunk or (self._line_start and not self._inside and chunk[:1] == b"\n")
        if not exact:
            if mark:
                chunk = chunk.replace(b"\r\n", _CRLF)
            if b'"' in chunk:
                chunk = chunk.translate(None, _NOT_QUOTE_OR_BREAK).replace(b'""', b"")
        pieces = chunk.split(b'"')
        first_out = 1 if self._inside else 0
        if not self.multiline:
            inside = b"".join(pieces[1 - first_out::2])
            self.multiline = b"\n" in inside or b"\r" in inside or _CRLF in inside
        # The text outside quotes, each quoted field collapsed to its two quotes (one at a chunk edge).
        text = (b'"' if self._inside else b"") + b'""'.join(pieces[first_out::2])
        if (len(pieces) - 1) % 2:
            self._inside = not self._inside
        if self._inside:
            text += b'"'
        if exact:
            self._count_lines(text)
        else:
            self._count_breaks(text, mark)
            self._line_start = last in _BREAKS and not self._inside

    def _count_breaks(self, text: bytes, marked: bool) -> None:
        """Outside text without blank lines (CRLF as `_CRLF` if `marked`): every break ends a record. The
        caller decides `_line_start` from the chunk, as this text may have lost the chunk's last bytes."""
        crlf = text.count(_CRLF) if marked else text.count(b"\r\n")
        cr, lf = text.count(b"\r"), text.count(b"\n")
        if not marked:
            cr, lf = cr - crlf, lf - crlf
        self.crlf, self.cr, self.lf = self.crlf + crlf, self.cr + cr, self.lf + lf
        self.records += crlf + cr + lf

    def _count_lines(self, text: bytes) -> None:
        """Outside text as in the file: terminators, and records not counting blank lines."""
        crlf = text.count(b"\r\n")
        cr = text.count(b"\r")
        self.crlf += crlf
        self.cr += cr - crlf
        self.lf += text.count(b"\n") - crlf
        if cr:
            text = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if not text:
            return
        blank = sum(len(m) - 1 for m in _BLANKS.findall(text)) if b"\n\n" in text else 0
        if self._line_start and text.startswith(b"\n"):
            blank += 1
            if self.records == 0:
                self.leading_blank += len(text) - len(text.lstrip(b"\n"))
        self.records += text.count(b"\n") - blank
        self._line_start = text.endswith(b"\n")

    def finish(self) -> None:
        if not self._line_start:
            self.records += 1
            self._line_start = True
        self.unterminated = self._inside


def _chunks(path: Path, skip: int):
    """The file from byte `skip` in pieces of about CHUNK bytes, each ending after a line break if it has one
    (so a line's quotes are seen together) and never between CR and LF."""
    carry = b""
    with path.open("rb") as fh:
        fh.seek(skip)
        while True:
            data = fh.read(CHUNK)
            if not data:
                if carry:
                    yield carry
                return
            chunk = carry + data
            cut = max(chunk.rfind(b"\n"), chunk.rfind(b"\r", 0, len(chunk) - 1)) + 1
            if not cut:  # one long line so far: pass it on whole, but for a CR that may start a CRLF
                cut = len(chunk) - 1 if chunk.endswith(b"\r") else len(chunk)
            chunk, carry = chunk[:cut], chunk[cut:]
            if chunk:
                yield chunk


def scan(path: Path, skip: int = 0) -> Layout:
    """One pass over a UTF-8 file from byte `skip` (past a BOM)."""
    layout = Layout()
    for chunk in _chunks(path, skip):
        layout.feed(chunk)
    layout.finish()
    return layout


@contextmanager
def _reader(path: Path, delim: str, max_field: int, strict: bool):
    """Python's csv reader over a UTF-8 file (BOM skipped), allowing cells up to `max_field` characters."""
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, max_field))
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            yield csv.reader(fh, delimiter=delim, quotechar='"', doublequote=True, strict=strict)
    finally:
        csv.field_size_limit(old)


def rewrite(path: Path, dest: Path, delim: str, shown: Path, max_field: int) -> int:
    """Python's csv module (the reference reading) into a clean CRLF-terminated copy; returns the records.

    Blank lines are dropped, as every reader here does. A quote the csv module cannot place (`"ab"c`)
    or a quoted field still open at the end is an `InputError` naming the line.
    """
    records = 0
    with _reader(path, delim, max_field, strict=True) as reader, \
            dest.open("w", encoding="utf-8", newline="") as out:
        # CRLF: the writer quotes a cell holding any character of the terminator, so a lone CR is quoted too
        writer = csv.writer(out, delimiter=delim, quotechar='"', doublequote=True, lineterminator="\r\n")
        try:
            for row in reader:
                if row:
                    writer.writerow(row)
                    records += 1
        except csv.Error as exc:
            raise InputError(f"{shown}: line {reader.line_num}: {exc}") from None
    return records


def physical_line(path: Path, delim: str, record: int, max_field: int) -> int:
    """The file line on which `record` starts, counting records and blank lines from 1 as DuckDB numbers
    its error lines (a record holding quoted line breaks spans several file lines). Error path only."""
    line = 1
    with _reader(path, delim, max_field, strict=False) as reader:
        try:
            for i, _ in enumerate(reader, 1):
                if i >= record:
                    break
                line = reader.line_num + 1
        except csv.Error:
            pass
    return line
