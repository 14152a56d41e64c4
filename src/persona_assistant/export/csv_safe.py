"""CSV cells that a spreadsheet opens as data, never as a formula (CSV/formula injection).

Rule (OWASP "CSV injection", made precise):

* Every cell is first `safe_text.clean`ed: escape sequences and control characters removed,
  tab and newline kept, a carriage return written as a newline.
* A cell whose text starts with ``=``, ``+``, ``-``, ``@`` (or the full-width forms
  ``＝ ＋ － ＠`` some spreadsheets also accept) once leading whitespace is skipped
  (spreadsheets skip it too: ``" =1+1"`` is a formula), or that starts with a tab or a line
  break, is prefixed with a single quote ``'``: Excel, LibreOffice and Google Sheets then
  show it as text.
* Exception: a cell made only of digits, spaces and ``+ - ( ) . , /`` (a phone number such as
  ``+1 555 0100`` or a negative number such as ``-12.5``) is written verbatim so it stays
  readable and numeric. Such a cell cannot be executed: a function call, a cell or sheet
  reference, a DDE command (``cmd|' /C calc'!A0``) or a string all need letters, quotes or
  one of ``! | : $ % & " '``, none of which the pattern allows. At worst a spreadsheet does
  arithmetic on digits.

Quoting of separators, quotes and newlines inside a cell is the csv module's job.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from persona_assistant.safe_text import clean
from persona_assistant.workspace import atomic_write

_TRIGGERS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_LEADING_BREAKS = ("\t", "\n")
# Digits, spaces and + - ( ) . , / only, with at least one digit: phone numbers and plain numbers.
_INERT_NUMBER = re.compile(r"[+\-]?[0-9 ().,/+\-]*[0-9][0-9 ().,/+\-]*")


def safe_cell(value: Any) -> str:
    """The text to write for one cell: None -> '', formulas neutralised, phone numbers kept."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = clean(value if isinstance(value, str) else str(value))
    body = text.lstrip()
    if text.startswith(_LEADING_BREAKS) or (body.startswith(_TRIGGERS) and not _INERT_NUMBER.fullmatch(body)):
        return "'" + text
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The whole CSV document as text, every cell (header included) passed through safe_cell."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buf.getvalue()


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], *,
              within: Path | None = None) -> Path:
    """Write a formula-safe CSV atomically (an interrupted run keeps the old file); `within` as
    for atomic_write (a workspace's own output/), None for a path the user named."""
    atomic_write(Path(path), csv_text(header, rows), within=within)
    return Path(path)
