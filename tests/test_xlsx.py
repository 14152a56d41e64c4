"""XLSX workbooks as users and attackers have them: formulas without saved values, zip bombs, forged part
sizes, row limits, progress. Part of issue 11's hostile corpus: every workbook is built here in tmp_path."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from persona_assistant.errors import InputError
from persona_assistant.ingest import xlsx
from persona_assistant.ingest.crm import load_crm
from persona_assistant.ingest.xlsx import cell_text, check_zip, formulas_without_value, xlsx_to_csv
from test_numbers import cli  # noqa: F401  (the in-process CLI fixture)

SHEET = "xl/worksheets/sheet1.xml"


def workbook(path: Path, rows, title: str = "Deals", header=("deal_id", "stage", "amount")) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path


def with_part(path: Path, name: str, body: bytes) -> Path:
    """The workbook with one more (or a replaced) part, deflated at the highest level."""
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename != name:
                out.writestr(info, src.read(info.filename))
        out.writestr(name, body, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    path.write_bytes(buf.getvalue())
    return path


def shared_strings_bomb(size: int) -> bytes:
    """A shared-strings part of `size` bytes that packs to a few hundred times smaller."""
    head = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    return head + b"<si><t>AAAAAAAA</t></si>" * (size // 24) + b"</sst>"


def forge_size(path: Path, name: str, divide: int) -> Path:
    """Declare part `name` `divide` times smaller than it is, in the central directory and local header."""
    data = bytearray(path.read_bytes())
    i = data.find(b"PK\x01\x02")
    while i >= 0:
        n = struct.unpack_from("<H", data, i + 28)[0]
        if bytes(data[i + 46: i + 46 + n]) == name.encode():
            size = struct.unpack_from("<I", data, i + 24)[0]
            struct.pack_into("<I", data, i + 24, size // divide)
            struct.pack_into("<I", data, struct.unpack_from("<I", data, i + 42)[0] + 22, size // divide)
        i = data.find(b"PK\x01\x02", i + 4)
    path.write_bytes(bytes(data))
    return path


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "persona_assistant", *args], capture_output=True, text=True)


# --------------------------------------------------------------------------- normal workbooks


def test_a_normal_workbook_reads_every_deal(tmp_path):
    path = workbook(tmp_path / "deals.xlsx", [(f"D{i}", "Won" if i % 2 else "Lost", 100 + i) for i in range(40)])
    crm = load_crm([path])
    assert crm.con.execute("SELECT count(*), sum(amount) FROM deals").fetchone() == (40, sum(100 + i for i in range(40)))
    assert crm.report.files[0].notices == ["XLSX: read sheet 'Deals'"]


def test_number_cells_never_read_as_thousands_beside_european_text(tmp_path):
    """A typed 12.345 stays twelve point three four five even when text cells in its column use a decimal comma."""
    path = workbook(tmp_path / "deals.xlsx", [("D1", "Won", "1.200,50"), ("D2", "Won", 12.345), ("D3", "Won", 7.5)])
    crm = load_crm([path])
    got = dict(crm.con.execute("SELECT deal_id, amount FROM deals").fetchall())
    assert got == {"D1": 1200.5, "D2": 12.345, "D3": 7.5}
    assert cell_text(12.345) == "12.3450" and cell_text(-1.5) == "-1.5" and cell_text(3.0) == "3"


# --------------------------------------------------------------------------- formulas


def test_formulas_without_saved_values_are_counted_and_named(tmp_path):
    rows = [(f"D{i}", "Won", f"=E{i + 2}*100") for i in range(12)] + [("D99", "Lost", 5)]
    path = workbook(tmp_path / "deals.xlsx", rows)
    assert formulas_without_value(path, SHEET) == (12, "C2")
    crm = load_crm([path])
    assert crm.con.execute("SELECT count(*), count(amount) FROM deals").fetchone() == (13, 1)
    assert ("XLSX: 12 formula cell(s) have no saved value (first: Deals!C2) and read as blank; open and save the "
            "file in Excel, or export CSV") in crm.report.files[0].notices


def test_formulas_with_saved_values_are_read_and_not_reported(tmp_path):
    path = workbook(tmp_path / "deals.xlsx", [("D1", "Won", 10)])
    sheet = zipfile.ZipFile(path).read(SHEET).replace(
        b'<c r="C2" t="n"><v>10</v></c>', b'<c r="C2"><f>5*2</f><v>10</v></c>')
    assert b"<f>5*2</f>" in sheet
    with_part(path, SHEET, sheet)
    assert formulas_without_value(path, SHEET) == (0, None)
    crm = load_crm([path])
    assert crm.con.execute("SELECT amount FROM deals").fetchall() == [(10.0,)]
    assert not any("formula" in n for n in crm.report.files[0].notices)


def test_formula_cells_through_the_cli_exit_0_with_the_notice(tmp_path):
    path = workbook(tmp_path / "deals.xlsx", [("D1", "Won", "=1+1"), ("D2", "Lost", 3)])
    out = run_cli("analyze", str(path), "-w", str(tmp_path), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["baseline"]["won"] == 1 and data["baseline"]["lost"] == 1
    notices = data["ingest"]["files"][0]["notices"]
    assert any("1 formula cell(s) have no saved value (first: Deals!C2)" in n for n in notices)


# --------------------------------------------------------------------------- bombs and forged sizes


def test_a_shared_strings_zip_bomb_is_refused_before_it_is_unpacked(tmp_path, monkeypatch):
    path = with_part(workbook(tmp_path / "bomb.xlsx", [("D1", "Won", 1)]), "xl/sharedStrings.xml",
                     shared_strings_bomb(40 << 20))
    assert path.stat().st_size < 200_000  # small on disk, 40 MB unpacked

    def never(*a, **k):
        raise AssertionError("openpyxl must not open a zip bomb")
    monkeypatch.setattr("openpyxl.load_workbook", never)
    with pytest.raises(InputError, match=r"bomb\.xlsx: part xl/sharedStrings\.xml would unpack [0-9,]+x .*refused "
                                         r"as a zip bomb"):
        load_crm([path])


def test_the_zip_bomb_through_the_cli_is_one_line_exit_1(tmp_path):
    path = with_part(workbook(tmp_path / "bomb.xlsx", [("D1", "Won", 1)]), "xl/sharedStrings.xml",
                     shared_strings_bomb(40 << 20))
    out = run_cli("analyze", str(path), "-w", str(tmp_path), "--json")
    assert out.returncode == 1 and out.stdout == ""
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {path}: part xl/sharedStrings.xml would unpack") and "zip bomb" in last
    assert "Traceback" not in out.stderr


def test_parts_over_the_size_limits_are_refused(tmp_path, monkeypatch):
    path = workbook(tmp_path / "big.xlsx", [(f"D{i}", "Won", i) for i in range(200)])
    sheet_size = zipfile.ZipFile(path).getinfo(SHEET).file_size
    monkeypatch.setattr(xlsx, "MAX_PART_BYTES", sheet_size - 1)
    with pytest.raises(InputError, match=rf"big\.xlsx: part {SHEET} would unpack to .* limit; export the sheet as CSV"):
        check_zip(path)
    monkeypatch.setattr(xlsx, "MAX_PART_BYTES", 1 << 30)
    monkeypatch.setattr(xlsx, "MAX_TOTAL_BYTES", sheet_size)
    with pytest.raises(InputError, match=r"big\.xlsx: the workbook would unpack to .* limit"):
        check_zip(path)


def test_a_part_larger_than_it_declares_is_cut_at_the_declared_size_and_refused(tmp_path):
    """The declared sizes pass the guard; reading stops there and the CRC check fails: an error, not a bomb."""
    path = forge_size(workbook(tmp_path / "forged.xlsx", [(f"D{i}", "Won", i) for i in range(2000)]), SHEET, 10)
    check_zip(path)  # the lie itself passes the guard
    with pytest.raises(InputError, match=r"forged\.xlsx: not a readable XLSX workbook"):
        load_crm([path])


def test_not_a_zip_at_all_is_one_line(tmp_path):
    path = tmp_path / "deals.xlsx"
    path.write_bytes(b"stage,amount\nWon,1\n")
    with pytest.raises(InputError, match=r"deals\.xlsx: not a readable XLSX workbook"):
        load_crm([path])


# --------------------------------------------------------------------------- size and progress


def test_rows_beyond_the_limit_are_an_error_naming_the_file(tmp_path, monkeypatch):
    path = workbook(tmp_path / "long.xlsx", [(f"D{i}", "Won", i) for i in range(30)])
    monkeypatch.setattr(xlsx, "MAX_ROWS", 20)  # the sheet's <dimension> says 31 rows
    with pytest.raises(InputError, match=r"long\.xlsx: sheet 'Deals' declares 31 rows, over Excel's 20"):
        load_crm([path])
    wb_xml = zipfile.ZipFile(path).read(SHEET).replace(b'<dimension ref="A1:C31" />', b'<dimension ref="A1:C2" />')
    with_part(path, SHEET, wb_xml)  # a lying dimension: the count while reading still stops it
    with pytest.raises(InputError, match=r"long\.xlsx: sheet 'Deals' has more than Excel's 20 rows; export it as CSV"):
        load_crm([path])


def test_progress_every_n_rows(tmp_path, monkeypatch):
    path = workbook(tmp_path / "deals.xlsx", [(f"D{i}", "Won", i) for i in range(25)])
    monkeypatch.setattr(xlsx, "PROGRESS_ROWS", 10)
    monkeypatch.setattr(xlsx, "ANNOUNCE_BYTES", 1000)
    lines: list[str] = []
    xlsx_to_csv(path, tmp_path / "out.csv", progress=lines.append)
    assert lines[0].startswith("deals.xlsx: opening a 0.0 MB workbook")
    assert lines[1:3] == ["deals.xlsx: 10 of ~26 rows read (0 s)", "deals.xlsx: 20 of ~26 rows read (0 s)"]
    assert lines[3].startswith("deals.xlsx: 26 rows read in ") and len(lines) == 4


def test_progress_reaches_stderr_through_the_cli(tmp_path, monkeypatch, cli):
    """Without a callback, progress goes to the package logger, which the CLI prints as notices."""
    path = workbook(tmp_path / "deals.xlsx", [(f"D{i}", "Won" if i % 3 else "Lost", i) for i in range(25)])
    monkeypatch.setattr(xlsx, "PROGRESS_ROWS", 10)
    code, out, err = cli("analyze", str(path), "-w", str(tmp_path), "--json")
    assert code == 0 and json.loads(out)["baseline"]["closed"] == 25
    assert "deals.xlsx: 10 of ~26 rows read" in err and "deals.xlsx: 20 of ~26 rows read" in err



def test_a_wrong_dimension_loses_no_row_or_column(tmp_path):
    """Some writers declare <dimension ref="A1"/>: openpyxl alone would read one cell of the sheet."""
    path = workbook(tmp_path / "deals.xlsx", [(f"D{i}", "Won", 10 * i) for i in range(30)])
    sheet = zipfile.ZipFile(path).read(SHEET).replace(b'<dimension ref="A1:C31" />', b'<dimension ref="A1" />')
    with_part(path, SHEET, sheet)
    crm = load_crm([path])
    assert crm.con.execute("SELECT count(*), sum(amount) FROM deals").fetchone() == (30, sum(10 * i for i in range(30)))


def test_a_value_beyond_the_header_is_an_error_naming_the_cell(tmp_path):
    path = workbook(tmp_path / "deals.xlsx", [("D1", "Won", 1), ("D2", "Won", 2, None, "stray")])
    sheet = zipfile.ZipFile(path).read(SHEET).replace(b'<dimension ref="A1:E3" />', b'<dimension ref="A1:C3" />')
    with_part(path, SHEET, sheet)
    with pytest.raises(InputError, match=r"deals\.xlsx: sheet 'Deals' cell E3 lies beyond the header's 3 columns"):
        load_crm([path])
