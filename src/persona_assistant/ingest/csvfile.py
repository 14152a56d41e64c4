"""Read one delimited or XLSX file, as users really have them, into a DuckDB table.

Python only looks at bytes: it sniffs the delimiter and header on the first
megabyte, validates the encoding in one streaming pass and, in another, finds
the line endings, the line breaks inside quoted cells and the number of records
(`ingest.layout`). DuckDB's `read_csv` (all columns VARCHAR, every option
explicit, no guessing) does the bulk parse, so a million-row export never becomes
Python objects.

Every normalisation is recorded in `FileReport.notices`; everything that cannot
be read without guessing is an `InputError` naming the file and the line or byte:

- encoding: valid UTF-8 (with or without BOM) is UTF-8. UTF-16 is recognised by
  its BOM (or, without one, by NUL bytes in every other position). Anything else
  that is not valid UTF-8 is read as cp1252 (Windows-1252) and a notice says so,
  giving the offset of the first byte that is not UTF-8. Bytes that are neither
  (0x81, 0x8D, 0x8F, 0x90, 0x9D) are an error naming the byte offset and line.
  Non-UTF-8 files are transcoded to a temporary UTF-8 file in a streaming pass.
- NUL bytes are stripped (transcoding pass) and counted in a notice.
- delimiter: the one of `,` `;` tab `|` giving the most consistent field counts
  over the sampled records; quoting is `"` with `""` as escape.
- line endings, from the whole file and quote-aware (a CRLF inside a quoted cell
  of an LF file is not a record end): one kind (LF, CRLF or CR-only) is passed to
  DuckDB explicitly. A mix of kinds is read through Python's csv module into a
  clean temporary copy, with a notice. Cells spanning lines are read at any size
  (the padded reads DuckDB's parallel scanner refuses for them are sequential).
- rows: every load must return the records the scan counted (blank lines aside).
  A different count without a rejected row (a quote inside an unquoted cell,
  `24" monitor`, misleads the scan) re-reads the file through Python's csv module;
  a count that still differs is an error. Never a silently short table.
- blank lines above the header are skipped.
- header: the first record. Blank names become `column_N`; duplicate names (case
  is ignored, as DuckDB does) are renamed `x`, `x_2`, ... and reported. Whether a
  duplicated name may be mapped is decided in `ingest.crm`, which refuses to pick
  one of two same-named columns by itself.
- empty file: error. Header only: a table with no rows and a notice. A folder or
  an unreadable file: an error naming it. A header of more than MAX_COLUMNS
  (16,384, Excel's limit) columns: an error before anything is read (a file at
  the limit loads in about 5 s; 100,000 columns took minutes).
- short rows: padded with blanks; the count and first line are reported.
  Long rows: an error naming the line (the columns would shift otherwise).
- cells of any size up to 64 MB per line are read. The first read allows 8 MB lines
  (DuckDB sizes its buffers by the limit: 64 MB halves the read speed); a file with a
  longer line is read again at 64 MB.
- XLSX: `ingest.xlsx` turns one sheet into a temporary CSV read by the same path
  (which sheet, empty rows, size limits, formulas and progress are decided there).

Rooms: `ingest.encoding` (detection, validation, transcoding), `ingest.sniff` (delimiter, header),
`ingest.layout` (record terminators, records), `ingest.sqlnames` (quoting, fresh names); this module
decides DuckDB's read options and checks what each load returns.

Line numbers in messages are the file's lines (the header is line 1), also in a
file whose cells span lines (DuckDB counts records there: `CsvSource.line`). The table
keeps file order, so `rowid + 1` is the 1-based data row.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from persona_assistant.errors import InputError
from persona_assistant.ingest import layout
from persona_assistant.ingest.encoding import detect_encoding, transcode
from persona_assistant.ingest.layout import CHUNK
from persona_assistant.ingest.sniff import clean_header, records, sample_text, sniff_delimiter
from persona_assistant.ingest.sqlnames import quote_ident, quote_str, unique_name
from persona_assistant.ingest.xlsx import WORKBOOK_SUFFIXES, xlsx_to_csv as _xlsx_to_csv
from persona_assistant.schemas import FileReport

LINE_LIMITS = (8 << 20, 64 << 20)  # bytes per line: the fast first read, then the documented maximum
MAX_COLUMNS = 16_384  # Excel's own limit; far wider files are refused with one line (see the docstring)
# The CRM export files a workspace lists (crm/), and the ones this module reads: one list.
CRM_SUFFIXES = frozenset({".csv", ".tsv", ".txt"}) | WORKBOOK_SUFFIXES
HEAD_BUFFER = 1 << 20  # read buffer (and line limit) of a read of the first rows only (`CsvSource.scan_sql`)


@dataclass
class RawTable:
    """One file loaded as VARCHAR columns in file order (rowid + 1 = data row)."""

    name: str  # table name in the connection
    path: Path
    columns: list[str]
    report: FileReport
    duplicates: dict[str, list[str]] = field(default_factory=dict)  # header -> all its column names


# --------------------------------------------------------------------------- reading


def _read_csv_sql(src: CsvSource, *, padding: bool, rejects: str, checked: bool = True,
                  max_line: int = LINE_LIMITS[0], head: bool = False) -> str:
    """The read_csv SELECT of `src`, every option explicit. `checked`: rejected rows recorded, else skipped
    and short rows padded. `head`: for a read of the first rows only, small buffers (lines over HEAD_BUFFER
    are skipped). DuckDB's parallel reader refuses padding in a file with quoted line breaks, so a padded
    read of such a file (and every padded checked read and head read) is sequential."""
    cols = "{" + ", ".join(f"{quote_str(c)}: 'VARCHAR'" for c in src.raw.columns) + "}"
    nl = {"\n": "\\n", "\r\n": "\\r\\n", "\r": "\\r"}[src.newline]
    size = f"max_line_size={HEAD_BUFFER}, buffer_size={HEAD_BUFFER}" if head else f"max_line_size={max_line}"
    opts = [
        "auto_detect=false", f"columns={cols}", "header=true", f"delim={quote_str(src.delim)}",
        "quote='\"'", "escape='\"'", f"new_line='{nl}'", size,
    ]
    if src.skip_lines:  # blank lines above the header (DuckDB would take the first one for the header)
        opts.append(f"skip={src.skip_lines}")
    opts += (["store_rejects=true", f"rejects_table='{rejects}'", f"rejects_scan='{rejects}_scan'"] if checked
             else ["ignore_errors=true", "null_padding=true"])
    if padding:
        opts += ["null_padding=true", "parallel=false"]
    elif not checked and (head or src.multiline):
        opts.append("parallel=false")
    return f"SELECT * FROM read_csv({quote_str(str(src.source))}, {', '.join(opts)})"


_FOUND = re.compile(r"Found:\s*(\d+)")


def _create(con, table: str, select: Callable[[str], str], shown: Path) -> list[tuple]:
    """CREATE the table from `select(rejects table name)`; (line, error type, message) of each rejected row."""
    rejects = unique_name("pa_rejects")
    try:
        con.execute(f"CREATE OR REPLACE TABLE {quote_ident(table)} AS " + select(rejects))
        return con.execute(f"SELECT line, error_type, error_message FROM {rejects} ORDER BY line").fetchall()
    except Exception as exc:  # duckdb.Error: report the first line of it, naming the file
        raise InputError(f"{shown}: could not be read as CSV ({str(exc).splitlines()[0]})") from None
    finally:
        _drop_rejects(con, rejects)


def _drop_rejects(con, name: str) -> None:
    for t in (name, name + "_scan"):
        try:
            con.execute(f"DROP TABLE IF EXISTS {t}")
        except Exception:
            pass


@dataclass
class CsvSource:
    """A sniffed file ready to load: its UTF-8 source (maybe a temporary copy) and how to parse it.

    How DuckDB reads it is decided from what the whole file holds (`ingest.layout.scan`): the record
    terminator, quoted line breaks, blank lines above the header and the number of records, which every
    load must return. Call `close()` (removes the temporary copies) when every load from it is done.
    """

    raw: RawTable  # no table yet; `raw.name` is where `load` puts it
    source: Path
    delim: str
    newline: str
    tmpdir: Path
    max_line: int = LINE_LIMITS[0]  # raised by `load` when the file has a longer line
    multiline: bool = False  # some quoted cell holds a line break
    skip_lines: int = 0  # blank lines above the header
    expected: int | None = None  # data rows the file holds (None: not known yet)
    rewritten: bool = False  # `source` is the csv module's clean copy

    def plan(self, skip: int = 0) -> None:
        """Scan the source (from byte `skip`, past a BOM) and decide how it is read; see `ingest.layout`."""
        found = layout.scan(self.source, skip)
        if found.mixed and not found.unterminated:  # DuckDB takes one terminator per file
            self._rewrite(f"mixed line endings ({found.describe()})")
            return
        if found.newline == "\r":
            self.raw.report.notices.append("CR-only line endings (old Mac format)")
        self.newline = found.newline
        self.multiline = found.multiline
        self.skip_lines = found.leading_blank
        self.expected = max(found.records - 1, 0)

    def _rewrite(self, why: str) -> None:
        """Read the file with Python's csv module (the reference) into a clean CRLF copy and use that."""
        dest = self.tmpdir / "rewritten.csv"
        records = layout.rewrite(self.source, dest, self.delim, self.raw.path, LINE_LIMITS[-1])
        self.source, self.newline, self.skip_lines, self.rewritten = dest, "\r\n", 0, True
        self.multiline = True  # not worth a scan: it only makes padded reads sequential
        self.expected = max(records - 1, 0)
        self.raw.report.notices.append(f"{why}: read with Python's csv rules")

    def line(self, record: int) -> int:
        """The file line where DuckDB's `record` (its line number: records and blank lines) starts."""
        if not self.multiline or self.rewritten:
            return record
        return layout.physical_line(self.source, self.delim, record, LINE_LIMITS[-1])

    def scan_sql(self, head: bool = False) -> str:
        """A forgiving read_csv SELECT (bad rows skipped) for samples; `load` does the checked read.

        `head`: only the first rows will be read (a LIMIT): small buffers, so DuckDB does not parse tens
        of megabytes to return them; a line longer than HEAD_BUFFER is skipped.
        """
        return _read_csv_sql(self, padding=False, rejects="", checked=False, max_line=self.max_line, head=head)

    def load(self, con, template: Callable[[str], str] | None = None) -> RawTable:
        """CREATE table `raw.name` as `template(checked read_csv SELECT)` (default: as read); fills the report.

        The rows read must be the rows the file holds: if DuckDB returns another number without rejecting
        a row (a quote the scan misplaced), the file is read again through Python's csv module; a count that
        still differs is an error, never a short table.
        """
        raw, report = self.raw, self.raw.report
        notices = self._load(con, template)
        rows = con.execute(f"SELECT count(*) FROM {quote_ident(raw.name)}").fetchone()[0]
        if self.expected is not None and rows != self.expected and not self.rewritten:
            self._rewrite("quotes inside unquoted cells (e.g. 24\" monitor)")
            notices = self._load(con, template)
            rows = con.execute(f"SELECT count(*) FROM {quote_ident(raw.name)}").fetchone()[0]
        if self.expected is not None and rows != self.expected:
            raise InputError(f"{raw.path}: read {rows} data rows where the file holds {self.expected}; "
                             "save it again as CSV (RFC 4180 quoting) and retry")
        report.notices += notices
        report.rows = rows
        report.columns = len(raw.columns)
        if report.rows == 0:
            report.notices.append("header only: no data rows")
        return raw

    def _load(self, con, template: Callable[[str], str] | None) -> list[str]:
        """CREATE the table; ragged rows and long lines handled as documented; returns the notices.

        `template` wraps the read_csv SELECT, so a caller can type the columns in the same pass.
        """
        template = template or (lambda sql: sql)
        shown, columns = self.raw.path, self.raw.columns

        def read(padding: bool) -> list[tuple]:
            return _create(con, self.raw.name, lambda rejects: template(_read_csv_sql(
                self, padding=padding, rejects=rejects, max_line=self.max_line)), shown)

        errors = read(False)
        if any(e[1] == "LINE SIZE OVER MAXIMUM" for e in errors):
            self.max_line = LINE_LIMITS[-1]
            errors = read(False)
        if not errors:
            return []
        longs = [e for e in errors if e[1] == "TOO MANY COLUMNS"]
        if longs:
            line, _, msg = longs[0]
            found = _FOUND.search(msg or "")
            count = len({e[0] for e in longs})
            more = f" ({count} such rows)" if count > 1 else ""
            raise InputError(f"{shown}: line {self.line(line)} has {found.group(1) if found else 'more'} fields "
                             f"but the header has {len(columns)}{more}; fix the row (its columns would shift)")
        others = [e for e in errors if e[1] != "MISSING COLUMNS"]
        if others:
            line, kind, msg = others[0]
            raise InputError(f"{shown}: line {self.line(line)}: {kind.lower()} ({(msg or '').splitlines()[0]})")
        shorts = sorted({e[0] for e in errors})
        read(True)
        return [f"{len(shorts)} short row(s) padded with blanks (first at line {self.line(shorts[0])})"]

    def close(self) -> None:
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def open_csv(path: Path, table: str) -> CsvSource:
    """Check the encoding, transcode if needed, sniff delimiter and header, scan the layout (no table yet)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a CSV or XLSX file")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    report = FileReport(path=str(path))
    tmpdir = Path(tempfile.mkdtemp(prefix="pa-ingest-"))
    try:
        source, skip = path, 0
        if path.suffix.lower() in WORKBOOK_SUFFIXES:
            source = tmpdir / (path.stem + ".csv")
            _, notes = _xlsx_to_csv(path, source)
            report.notices += notes
            report.encoding = "xlsx"
        if path.stat().st_size == 0 or (source is not path and source.stat().st_size == 0):
            raise InputError(f"{path}: the file is empty (no header row)")
        if source is path:
            enc = detect_encoding(path)
            report.encoding = enc.label
            report.notices += enc.notices
            if enc.transcode:
                source = tmpdir / (path.stem + ".utf8.csv")
                removed = transcode(path, enc, source)
                if removed:
                    report.notices.append(f"stripped {removed} NUL byte(s)")
            else:
                skip = enc.bom
        sample, complete = sample_text(source, skip)
        if not sample.strip():
            raise InputError(f"{path}: the file is empty (no header row)")
        delim = sniff_delimiter(sample, complete)
        report.delimiter = delim
        first = records(sample, delim, complete=True, limit=0)
        if not first:
            raise InputError(f"{path}: no header row")
        if len(first[0]) > MAX_COLUMNS:
            raise InputError(f"{path}: {len(first[0])} columns in the header row, more than the {MAX_COLUMNS} "
                             "this tool reads; export only the columns you need")
        columns, dupes, notes = clean_header(first[0])
        report.notices += notes
        src = CsvSource(RawTable(table, path, columns, report, dupes), source, delim, "\n", tmpdir)
        src.plan(skip)
    except OSError as exc:  # unreadable file (permissions, a vanished file), full temp disk
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise InputError(f"{exc.filename or path}: cannot be read ({exc.strerror or exc})") from None
    except BaseException:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise
    return src


def read_table(con, path: Path, table: str) -> RawTable:
    """Load one CSV/TSV/TXT/XLSX file into `table` (all VARCHAR), with a filled-in FileReport."""
    src = open_csv(path, table)
    try:
        return src.load(con)
    finally:
        src.close()


def read_file(path: Path) -> tuple[Any, RawTable]:
    """Convenience for tools and tests: a fresh connection with the file loaded as table `raw`."""
    import duckdb

    con = duckdb.connect()
    return con, read_table(con, path, "raw")


# The names callers import from here; encoding, sniffing and SQL names are defined in their own rooms
# (`ingest.encoding`, `ingest.sniff`, `ingest.sqlnames`).
__all__ = ["CHUNK", "CRM_SUFFIXES", "CsvSource", "RawTable", "clean_header", "detect_encoding", "open_csv",
           "quote_ident", "quote_str", "read_file", "read_table", "sniff_delimiter", "unique_name"]
