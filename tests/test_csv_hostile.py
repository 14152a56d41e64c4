"""The hostile-file corpus (fixtures/csv-corpus/make_hostile.py): every line-ending mix with multi-line cells,
at 3 and at 50,000 rows, across encodings and delimiters, read through `read_file`, `load_crm` and
`analyze --json`. Each file gives the deals, won deals and won value it was built with, and the same cells
as Python's csv module (the reference reading), or a one-line error naming the file and line.
Plus the files made here: a folder named like a CSV, an unreadable file, a header past the column limit,
an XLSX with multi-line cells.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import random
import shutil
import sys
from pathlib import Path

import pytest

from persona_assistant.errors import InputError
from persona_assistant.ingest import layout
from persona_assistant.ingest.csvfile import MAX_COLUMNS, quote_ident, read_file

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "csv-corpus"


def _generator():
    spec = importlib.util.spec_from_file_location("make_hostile", CORPUS / "make_hostile.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_hostile"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


HOSTILE = _generator()
CASES = {c.name: c for c in HOSTILE.cases()}
MADE_HERE = ("folder-named-deals.csv", "unreadable.csv", "too-wide.csv", "multiline-cells.xlsx")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    for case in CASES.values():
        (folder / case.name).write_bytes(case.data)
    return folder


def test_the_corpus_covers_the_matrix():
    assert len(CASES) + len(MADE_HERE) >= 36
    big = [c for c in CASES.values() if c.ok and c.rows >= 50_000]
    assert len(big) >= 12
    names = list(CASES)
    for ends in HOSTILE.TERMINATORS:
        for cells in HOSTILE.CELL_BREAKS:
            for size in HOSTILE.SIZES:
                assert any(n.startswith(f"ends-{ends}_cells-{cells}_{size}_") for n in names)
        for enc in HOSTILE.ENCODINGS:
            assert any(n.startswith(f"ends-{ends}_") and f"_{enc}_" in n for n in names), (ends, enc)
        for delim in HOSTILE.DELIMITERS:
            assert any(n.startswith(f"ends-{ends}_") and n.endswith(f"_{delim}.csv") for n in names), (ends, delim)


def _reference(case) -> list[list[str]]:
    """Python's csv module over the file: the records, blank lines dropped."""
    text = case.data.decode(case.codec)
    return [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=case.delimiter) if r]


@pytest.mark.parametrize("name", sorted(CASES))
def test_read_file_gives_the_reference_rows_or_one_line_naming_file_and_line(corpus, name):
    case = CASES[name]
    if not case.ok:
        with pytest.raises(InputError) as info:
            read_file(corpus / name)
        message = info.value.message
        assert "\n" not in message and name in message
        for part in case.error:
            assert part in message, (part, message)
        return
    con, raw = read_file(corpus / name)
    assert raw.report.rows == case.rows
    if case.encoding:
        assert raw.report.encoding == case.encoding
    for part in case.notices:
        assert any(part in n for n in raw.report.notices), (part, raw.report.notices)
    assert not any("header only" in n for n in raw.report.notices)
    ref = _reference(case)
    assert raw.columns == ref[0]
    width = len(ref[0])
    got = [[c or "" for c in row] for row in con.execute("SELECT * FROM raw ORDER BY rowid").fetchall()]
    assert got == [(r + [""] * width)[:width] for r in ref[1:]]


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.ok))
def test_load_crm_counts_every_deal_and_its_money(corpus, name):
    from persona_assistant.ingest.crm import load_crm

    case = CASES[name]
    crm = load_crm([corpus / name])
    deals, won, value, closed, dated = crm.con.execute(
        "SELECT count(*), count(*) FILTER (WHERE outcome = 'won'), sum(amount) FILTER (WHERE outcome = 'won'), "
        "count(*) FILTER (WHERE outcome IN ('won', 'lost')), count(closed) FROM deals").fetchone()
    assert (deals, won, value) == (case.rows, case.won, case.won_value)
    assert dated == closed and closed >= 2 * case.won - 1  # every closed deal kept its close date
    assert not any("dates" in n for n in crm.report.value_notices), crm.report.value_notices
    assert crm.report.files[0].rows == case.rows


CLI_CASES = sorted(n for n, c in CASES.items() if c.ok and (c.rows < 100 or "utf16" in n or "mixed" in n))


@pytest.mark.parametrize("name", CLI_CASES)
def test_analyze_json_reports_every_deal_and_the_won_value(corpus, tmp_path, name):
    from typer.testing import CliRunner

    from persona_assistant.cli.main import app  # main registers the commands on the app

    case = CASES[name]
    result = CliRunner().invoke(app, ["analyze", str(corpus / name), "-w", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["ingest"]["files"][0]["rows"] == case.rows
    assert out["baseline"]["won"] == case.won
    assert out["baseline"]["total_won_value"] == case.won_value
    assert out["baseline"]["closed"] == case.rows - case.rows // 3  # a third of the deals is open


def _run_main(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """The real entry point in-process (so a test can monkeypatch): (exit code, stdout, stderr)."""
    from persona_assistant.cli.main import run

    monkeypatch.setattr(sys, "argv", ["persona-assistant", *args])
    with pytest.raises(SystemExit) as info:
        run()
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_a_broken_row_behind_multi_line_cells_exits_non_zero_with_one_line(corpus, tmp_path, monkeypatch, capsys):
    name = "too-many-fields-late.csv"
    code, out, err = _run_main(monkeypatch, capsys, "analyze", str(corpus / name), "-w", str(tmp_path), "--json")
    assert code == 1 and out == ""
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and name in last and CASES[name].error[0] in last
    assert "Traceback" not in err


def test_a_folder_named_like_a_csv_is_one_line_naming_it(tmp_path, monkeypatch, capsys):
    from persona_assistant.ingest.crm import load_crm

    folder = tmp_path / "crm" / "deals.csv"
    folder.mkdir(parents=True)
    with pytest.raises(InputError, match=r"deals\.csv: is a folder, not a CSV or XLSX file"):
        read_file(folder)
    with pytest.raises(InputError, match=r"deals\.csv: is a folder"):
        load_crm([folder])
    code, out, err = _run_main(monkeypatch, capsys, "analyze", str(folder), "-w", str(tmp_path), "--json")
    assert code != 0 and out == "" and "deals.csv" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2  # the 'reading' notice at most, then the error


def test_an_unreadable_file_is_one_line_naming_it(tmp_path, monkeypatch, capsys):
    # Tests run as root, for whom chmod 000 changes nothing: the refusal is simulated at open().
    path = tmp_path / "unreadable.csv"
    path.write_text("deal_id,stage,amount\nD1,Closed Won,100\n", encoding="utf-8")
    real_open = Path.open

    def guarded(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded)
    with pytest.raises(InputError) as info:
        read_file(path)
    assert info.value.message == f"{path}: cannot be read (Permission denied)"
    code, out, err = _run_main(monkeypatch, capsys, "analyze", str(path), "-w", str(tmp_path), "--json")
    assert code == 1 and out == ""
    assert err.strip().splitlines()[-1] == f"error: {path}: cannot be read (Permission denied)"


def test_a_header_wider_than_the_column_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "too-wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)) + "\n" + "x," * MAX_COLUMNS + "x\n")
    with pytest.raises(InputError) as info:
        read_file(path)
    assert info.value.message == (f"{path}: {MAX_COLUMNS + 1} columns in the header row, more than the "
                                  f"{MAX_COLUMNS} this tool reads; export only the columns you need")


def test_an_xlsx_with_multi_line_cells_keeps_every_deal(tmp_path):
    # The workbook is read through a temporary LF CSV with the line breaks inside quoted cells.
    from openpyxl import Workbook

    from persona_assistant.ingest.crm import load_crm

    wb = Workbook()
    ws = wb.active
    ws.title = "Deals"
    ws.append(["Deal ID", "Deal Name", "Stage", "Amount", "Close Date", "Notes"])
    ws.append(["D1", "Acme\r\n(renewal)", "Closed Won", 1200, "2024-01-05", "first\nsecond"])
    ws.append(["D2", "Beta", "Closed Lost", 300, "2024-02-05", "x\r\ny\r\nz"])
    ws.append(["D3", "Gamma", "Closed Won", 50, "2024-03-05", ""])
    path = tmp_path / "multiline-cells.xlsx"
    wb.save(path)
    crm = load_crm([path])
    assert crm.con.execute("SELECT count(*), sum(amount) FILTER (WHERE outcome = 'won') FROM deals").fetchone() \
        == (3, 1250)
    con, raw = read_file(path)
    # XML parsing turns the CRLF saved in the sheet into LF
    assert con.execute(f"SELECT {quote_ident('Deal Name')} FROM raw WHERE rowid = 0").fetchone()[0] \
        == "Acme\n(renewal)"


def test_a_crlf_in_one_deal_name_of_the_sample_workspace_keeps_all_its_deals(tmp_path, fixtures_dir):
    # Measured before: 0 deals, a false 'header only' notice and exit 0.
    from persona_assistant.ingest.crm import load_crm

    crm_dir = tmp_path / "crm"
    shutil.copytree(fixtures_dir / "sample-workspace" / "crm", crm_dir)
    deals = crm_dir / "deals.csv"
    before = load_crm([deals, crm_dir / "companies.csv"])
    want = before.con.execute("SELECT count(*), sum(amount) FILTER (WHERE outcome = 'won') FROM deals").fetchone()
    data = deals.read_bytes()
    name = data.split(b"\n")[1].split(b",")[1]
    deals.write_bytes(data.replace(name, b'"' + name + b'\r\n(renewal)"', 1))
    after = load_crm([deals, crm_dir / "companies.csv"])
    assert after.con.execute("SELECT count(*), sum(amount) FILTER (WHERE outcome = 'won') FROM deals").fetchone() \
        == want
    assert want[0] == 780
    assert after.report.files[0].notices == []


def test_the_scan_counts_records_and_terminators_like_the_csv_module(tmp_path, monkeypatch):
    # Tiny chunks put every chunk edge (inside quotes, between CR and LF, after a blank line) to the test.
    rng = random.Random(11)
    path = tmp_path / "f.csv"
    cells = ['"a"', '"b\nc"', '"d\r\ne"', '"f\rg"', '"h""i"', '""', '","', '"x\n\ny"', "x", "yy", " z ", ""]
    for _ in range(1500):
        monkeypatch.setattr(layout, "CHUNK", rng.choice([1, 2, 3, 5, 8, 64]))
        ends = rng.choice([["\n"], ["\r\n"], ["\r"], ["\n", "\r\n"], ["\r", "\n", "\r\n"]])
        lines = []
        for _ in range(rng.randint(0, 7)):
            lines.append(",".join(rng.choice(cells) for _ in range(rng.randint(1, 3))) + rng.choice(ends))
            if rng.random() < 0.15:
                lines.append(rng.choice(ends))
        text = "".join(lines)
        text = text.rstrip("\r\n") if rng.random() < 0.2 else text
        path.write_bytes(text.encode())
        found = layout.scan(path)
        ref = list(csv.reader(io.StringIO(text, newline="")))
        assert found.records == sum(1 for r in ref if r), repr(text)
        assert found.leading_blank == next((i for i, r in enumerate(ref) if r), len(ref)), repr(text)
        outside = "|".join(text.split('"')[0::2])  # quotes are balanced here: parity is exact
        crlf = outside.count("\r\n")
        assert (found.crlf, found.cr, found.lf) == (crlf, outside.count("\r") - crlf, outside.count("\n") - crlf)
        inside = "".join(text.split('"')[1::2])
        assert found.multiline == ("\n" in inside or "\r" in inside), repr(text)
