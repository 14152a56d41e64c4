"""One sheet of an XLSX workbook into a UTF-8 CSV, within bounds a hostile workbook cannot escape.

`ingest.csvfile` then reads the CSV like any other. What this module decides:

- the sheet: the first named like deals/opportunities/pipeline/accounts/companies/leads/contacts,
  else the first sheet. Entirely empty rows are skipped and counted.
- a zip bomb is refused before openpyxl opens the file (`check_zip`): every part's declared unpacked
  size at most MAX_PART_BYTES (the shared strings, which openpyxl holds in memory whole, at most
  MAX_SHARED_STRINGS_BYTES), all parts together at most MAX_TOTAL_BYTES, and a part unpacking to more
  than RATIO_GRACE_BYTES at most MAX_RATIO times its packed size. What is actually read is bounded by
  the same declared sizes: Python's zipfile stops a part at its declared size and then fails its CRC
  check, so a forged size is an error, never a bomb.
- rows: at most MAX_ROWS, Excel's own limit; a sheet claiming or holding more is an error (CSV has
  no limit).
- formulas: cells are read as Excel last saved them (openpyxl `data_only`). A formula cell with no
  saved value (a file written by a program and never opened in Excel) would read as blank; the sheet
  XML is scanned for them (only when it holds a formula at all) and a notice gives their count and the
  first cell.
- progress: a line every PROGRESS_ROWS rows to `progress` (default: the "persona_assistant.ingest"
  logger, which the CLI prints on stderr).
- a number cell is written so it never reads as thousands: `12.345` becomes `12.3450` (a column of
  text cells such as `1.200,50` would otherwise make `12.345` twelve thousand; see `ingest.numbers`).
"""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path
from typing import IO, Any, Callable

from persona_assistant.errors import InputError
from persona_assistant.ingest.numbers import AMBIGUOUS

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm"})  # read as workbooks (a macro-enabled one: its cells, no macros)

MAX_ROWS = 1_048_576  # Excel's sheet limit
MAX_PART_BYTES = 1 << 30
MAX_SHARED_STRINGS_BYTES = 256 << 20
MAX_TOTAL_BYTES = 2 << 30
MAX_RATIO = 200  # unpacked / packed: sheet XML packs 5-30x, highly repetitive sheets ~100x
RATIO_GRACE_BYTES = 16 << 20  # a part unpacking to less is never a bomb, whatever its ratio
PROGRESS_ROWS = 100_000
ANNOUNCE_BYTES = 10 << 20  # a workbook this size takes seconds before its first row: say so
_SHEET_HINT = re.compile(r"deal|opportunit|pipeline|account|compan|organi[sz]ation|lead|contact", re.I)
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_AMBIGUOUS = re.compile(AMBIGUOUS)  # what `ingest.numbers` reads either way


def cell_text(value: Any) -> str:
    """The CSV text of one cell value as openpyxl gives it."""
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        text = repr(value)
        return text + "0" if _AMBIGUOUS.fullmatch(text) else text  # a typed number is never thousands
    return str(value)


def _mb(size: int) -> str:
    return f"{size / 2**20:,.1f} MB"


def check_zip(path: Path) -> None:
    """Refuse a workbook whose parts would unpack beyond the limits (see the module docstring)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable XLSX workbook ({exc})") from None
    total = 0
    for info in infos:
        size, packed = info.file_size, max(info.compress_size, 1)
        total += size
        shared = info.filename.lower().endswith("sharedstrings.xml")
        limit = MAX_SHARED_STRINGS_BYTES if shared else MAX_PART_BYTES
        if size > limit:
            raise InputError(f"{path}: part {info.filename} would unpack to {_mb(size)}, over the {_mb(limit)} "
                             "limit; export the sheet as CSV")
        if size > RATIO_GRACE_BYTES and size > MAX_RATIO * packed:
            raise InputError(f"{path}: part {info.filename} would unpack {size // packed:,}x ({_mb(packed)} to "
                             f"{_mb(size)}), over the {MAX_RATIO}x a real workbook reaches: refused as a zip bomb")
    if total > MAX_TOTAL_BYTES:
        raise InputError(f"{path}: the workbook would unpack to {_mb(total)}, over the {_mb(MAX_TOTAL_BYTES)} "
                         "limit; export the sheet as CSV")


def _has_formula(fh: IO[bytes]) -> bool:
    """Whether the XML stream holds a formula element (a cheap byte scan, chunk edges overlapped)."""
    tail = b""
    while chunk := fh.read(1 << 20):
        if _FORMULA_TAG.search(tail + chunk):
            return True
        tail = chunk[-64:]
    return False


def formulas_without_value(workbook: Path, part: str) -> tuple[int, str | None]:
    """(count, first cell reference) of the formula cells in sheet XML `part` that have no saved value."""
    import xml.etree.ElementTree as ET
    import zipfile

    with zipfile.ZipFile(workbook) as zf:
        with zf.open(part) as fh:
            if not _has_formula(fh):
                return 0, None
        count, first = 0, None
        with zf.open(part) as fh:
            rows = None
            for event, el in ET.iterparse(fh, events=("start", "end")):
                tag = el.tag.rpartition("}")[2]
                if event == "start":
                    if tag == "sheetData":
                        rows = el
                    continue
                if tag == "c":
                    kinds = {child.tag.rpartition("}")[2]: child for child in el}
                    value = kinds.get("v")
                    if "f" in kinds and "is" not in kinds and (value is None or not value.text):
                        count += 1
                        first = first or el.get("r")
                elif tag == "row" and rows is not None:
                    rows.clear()  # processed rows are dropped: memory stays flat on a million rows
    return count, first


def _log(message: str) -> None:
    import logging

    logging.getLogger("persona_assistant.ingest").info(message)


def xlsx_to_csv(path: Path, dest: Path, progress: Callable[[str], None] | None = None) -> tuple[str, list[str]]:
    """Stream the chosen sheet into a UTF-8 CSV at `dest`. Returns (sheet name, notices)."""
    import zipfile
    from xml.etree.ElementTree import ParseError

    from openpyxl import load_workbook

    progress = progress or _log
    check_zip(path)
    if path.stat().st_size >= ANNOUNCE_BYTES:  # openpyxl reads the shared strings before the first row
        progress(f"{path.name}: opening a {_mb(path.stat().st_size)} workbook ...")
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable XLSX workbook ({exc})") from None
    try:
        names = wb.sheetnames
        if not names:
            raise InputError(f"{path}: the workbook has no sheets")
        sheet = next((n for n in names if _SHEET_HINT.search(n)), names[0])
        ws = wb[sheet]
        declared, columns = ws.max_row or 0, ws.max_column or 0  # the sheet's own <dimension>, a hint
        if declared > MAX_ROWS:
            raise InputError(f"{path}: sheet '{sheet}' declares {declared:,} rows, over Excel's {MAX_ROWS:,}; "
                             "export it as CSV")
        # openpyxl stops at the declared last row and column: a wrong <dimension> would lose data silently.
        ws.reset_dimensions()
        notices = [f"XLSX: read sheet '{sheet}'" + (f" (of {len(names)})" if len(names) > 1 else "")]
        rows, empty, start = _write_rows(path, sheet, ws.iter_rows(values_only=True), dest, progress, declared,
                                         columns)
        if empty:
            notices.append(f"XLSX: skipped {empty} empty row(s)")
        count, first = formulas_without_value(path, ws._worksheet_path)  # the sheet's part in the zip
        if count:
            notices.append(f"XLSX: {count} formula cell(s) have no saved value (first: {sheet}!{first}) and "
                           "read as blank; open and save the file in Excel, or export CSV")
        if rows >= PROGRESS_ROWS:
            progress(f"{path.name}: {rows:,} rows read in {time.monotonic() - start:.0f} s")
        return sheet, notices
    except (zipfile.BadZipFile, KeyError, ValueError, ParseError) as exc:  # a part cut short or corrupt
        raise InputError(f"{path}: not a readable XLSX workbook ({exc})") from None
    finally:
        wb.close()


def _write_rows(path: Path, sheet: str, rows, dest: Path, progress: Callable[[str], None], declared: int,
                columns: int) -> tuple[int, int, float]:
    """Write the non-empty rows, each as wide as the header row (or the declared `columns`, if more);
    (rows seen, empty rows skipped, start time). A value beyond that width, or a row past MAX_ROWS, is
    an error naming the row."""
    from openpyxl.utils import get_column_letter

    start = time.monotonic()
    seen = empty = width = 0
    of = f" of ~{declared:,}" if declared >= PROGRESS_ROWS else ""
    with dest.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        for row in rows:
            seen += 1
            if seen > MAX_ROWS:
                raise InputError(f"{path}: sheet '{sheet}' has more than Excel's {MAX_ROWS:,} rows; export it "
                                 "as CSV")
            if seen % PROGRESS_ROWS == 0:
                progress(f"{path.name}: {seen:,}{of} rows read ({time.monotonic() - start:.0f} s)")
            cells = [cell_text(v) for v in row]
            if not any(c.strip() for c in cells):
                empty += 1
                continue
            width = width or max(len(cells), columns)  # the header row
            if len(cells) > width:
                extra = next((i for i in range(width, len(cells)) if cells[i].strip()), None)
                if extra is not None:
                    raise InputError(f"{path}: sheet '{sheet}' cell {get_column_letter(extra + 1)}{seen} lies "
                                     f"beyond the header's {width} columns; give the column a header")
                del cells[width:]
            writer.writerow(cells + [""] * (width - len(cells)))
    return seen, empty, start
