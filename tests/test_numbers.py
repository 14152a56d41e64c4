"""Money and numbers: non-finite and huge values refused, decimal separators decided per column from all
its values, strict JSON on every `--json` path. Part of issue 11's hostile corpus (generated here)."""

from __future__ import annotations

import csv
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from persona_assistant.ingest.crm import load_crm, load_leads
from persona_assistant.ingest.numbers import (COMMA, EITHER, MONEY_MAX, POINT, DecimalCounts, decide_decimal,
                                              money_code_sql, money_sql)
from test_cli_json import strict_json


def value(sql: str, text):
    return duckdb.execute(f"SELECT {sql} FROM (SELECT $1::VARCHAR AS v)", [text]).fetchone()[0]


# --------------------------------------------------------------------------- the SQL, value by value


@pytest.mark.parametrize("text,point,comma", [
    ("12.500", 12.5, 12500.0), ("1,200", 1200.0, 1.2), ("$12.500", 12.5, 12500.0), ("-1,250", -1250.0, -1.25),
    ("1.200,50", 1200.5, 1200.5), ("1,200.50", 1200.5, 1200.5), ("12.5", 12.5, 12.5), ("12,5", 12.5, 12.5),
    ("1.234.567", 1234567.0, 1234567.0), ("1,234,567", 1234567.0, 1234567.0), ("0.500", 0.5, 0.5),
    ("0,500", 0.5, 0.5), ("1234.500", 1234.5, 1234.5), ("1234,500", 1234.5, 1234.5), ("700", 700.0, 700.0),
    ("1 200,50 €", 1200.5, 1200.5), ("12,3,4", None, None),
])
def test_only_ambiguous_values_depend_on_the_columns_decimal_separator(text, point, comma):
    assert value(money_sql("v", "."), text) == point
    assert value(money_sql("v", ","), text) == comma


@pytest.mark.parametrize("text", ["NaN", "nan", "inf", "-inf", "Infinity", "-Infinity", "1e400", "-1e400",
                                  "1e15", "1e300", "9" * 400, "1" + ",000" * 6])
@pytest.mark.parametrize("decimal", [".", ","])
def test_non_finite_and_huge_values_are_refused(text, decimal):
    assert value(money_sql("v", decimal), text) is None


def test_the_largest_accepted_value_is_just_below_the_limit():
    assert value(money_sql("v"), "999999999999999") == 999999999999999.0
    assert MONEY_MAX == 1e15


@pytest.mark.parametrize("text,code", [
    ("12.500", EITHER), ("1,200", EITHER), ("€ 12.500", EITHER), ("1.200,50", COMMA), ("12,5", COMMA),
    ("1.234.567", COMMA), ("1,200.50", POINT), ("12.5", POINT), ("1,234,567", POINT), ("0.500", POINT),
    ("1200", None), ("NaN", None), (None, None), ("12,3,4", 0),
])
def test_what_a_value_says_about_its_column(text, code):
    assert value(money_code_sql("v"), text) == code


def test_the_decision_follows_the_unambiguous_majority_then_the_files_habit():
    assert decide_decimal(DecimalCounts(3, 0, 5, 1), ",") == ","
    assert decide_decimal(DecimalCounts(0, 3, 5, 1), ";") == "."
    assert decide_decimal(DecimalCounts(1, 2, 0, None), ";") == "."
    assert decide_decimal(DecimalCounts(0, 0, 5, 1), ";") == ","
    assert decide_decimal(DecimalCounts(0, 0, 5, 1), ",") == "."


# --------------------------------------------------------------------------- the generated corpus

# name, file text, amounts in file order (None: left blank), notice patterns (all must match a notice)
CORPUS = [
    ("nan.csv", "stage,amount\nWon,NaN\nWon,100\n", [None, 100.0],
     [r"nan\.csv:amount: 1 value\(s\) not readable as numbers, left blank \(first at row 1: 'NaN': not a finite"]),
    ("inf.csv", "stage,amount\nWon,200\nWon,inf\nLost,-inf\n", [200.0, None, None],
     [r"inf\.csv:amount: 2 value\(s\) not readable .* \(first at row 2: 'inf': not a finite number\)"]),
    ("infinity_words.csv", "stage,amount\nWon,Infinity\nWon,-Infinity\nWon,3\n", [None, None, 3.0],
     [r"infinity_words\.csv:amount: 2 value\(s\) .* row 1: 'Infinity'"]),
    ("overflow.csv", "stage,amount\nWon,1e400\nWon,10\n", [None, 10.0],
     [r"overflow\.csv:amount: 1 value\(s\) .* row 1: '1e400': not a finite number"]),
    ("huge.csv", "stage,amount\nWon,5\nWon,1e300\nWon,123456789012345678\n", [5.0, None, None],
     [r"huge\.csv:amount: 2 value\(s\) .* row 2: '1e300': 1e\+15 or more in size"]),
    ("huge_digits.csv", "stage,amount\nWon," + "9" * 320 + "\nWon,7\n", [None, 7.0],
     [r"huge_digits\.csv:amount: 1 value\(s\) not readable as numbers"]),
    ("nan_mixed_with_text.csv", "stage,amount\nWon,n/a\nWon,NaN\nWon,4\n", [None, None, 4.0],
     [r"nan_mixed_with_text\.csv:amount: 2 value\(s\) .* row 1: 'n/a'\)"]),
    ("eu_semicolon.csv", "stage;amount\nWon;1.200,50\nWon;12.500\nLost;3\n", [1200.5, 12500.0, 3.0],
     [r"eu_semicolon\.csv:amount: 1 value\(s\) could be thousands or decimals \(first at row 2: '12\.500', "
      r"read as 12500\): '\.' taken as the thousands separator and ',' as the decimal comma, as the column's other numbers show"]),
    ("eu_comma_delimited.csv", 'stage,amount\nWon,"1.200,50"\nWon,12.500\nWon,"7,25"\n', [1200.5, 12500.0, 7.25],
     [r"read as 12500\): '\.' taken as the thousands separator and ',' as the decimal comma"]),
    ("eu_evidence_last.csv", "stage;amount\n" + "Won;12.500\n" * 3 + "Won;2.000.000\n",
     [12500.0] * 3 + [2e6], [r"'\.' taken as the thousands separator and ',' as the decimal comma"]),
    ("us_thousands.csv", 'stage,amount\nWon,"1,200.50"\nWon,"12,500"\nWon,12.5\n', [1200.5, 12500.0, 12.5],
     [r"us_thousands\.csv:amount: 1 value\(s\) could be thousands or decimals \(first at row 2: '12,500', "
      r"read as 12500\): ',' taken as the thousands separator and '\.' as the decimal point"]),
    ("us_semicolon.csv", "stage;amount\nWon;1,200.50\nWon;1,250\n", [1200.5, 1250.0],
     [r"read as 1250\): ',' taken as the thousands separator and '\.' as the decimal point"]),
    ("ambiguous_semicolon.csv", "stage;amount\nWon;12.500\nWon;1.250\n", [12500.0, 1250.0],
     [r"ambiguous_semicolon\.csv:amount: ambiguous numbers: 2 value\(s\) .* no other value in the column decides, so "
      r"'\.' taken as the thousands separator and ',' as the decimal comma \(the file is ';'-delimited"]),
    ("ambiguous_comma.csv", "stage,amount\nWon,12.500\nWon,1.250\n", [12.5, 1.25],
     [r"ambiguous numbers: 2 value\(s\) .*',' taken as the thousands separator and '\.' as the decimal point \(the file is not ';'-delimited\)"]),
    ("mixed_forms.csv", 'stage,amount\nWon,"1.200,50"\nWon,"1,200.50"\nWon,"2,000.25"\nWon,12.500\n',
     [1200.5, 1200.5, 2000.25, 12.5],
     [r"numbers mix a decimal comma \(1 value\(s\).*and a decimal point \(2 .*each read by its own form",
      r"',' taken as the thousands separator and '\.' as the decimal point, as most of the column's other numbers show"]),
    ("plain_decimals.csv", "stage,amount\nWon,12.5\nWon,1200\nWon,0.125\n", [12.5, 1200.0, 0.125], []),
]


def _amounts(crm):
    return [r[0] for r in crm.con.execute(
        "SELECT amount FROM deals ORDER BY CAST(split_part(deal_id, ':', 2) AS INTEGER)").fetchall()]


@pytest.mark.parametrize("name,text,amounts,patterns", CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus_through_load_crm(tmp_path, name, text, amounts, patterns):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    crm = load_crm([path])
    assert crm.report.files[0].rows == len(amounts)  # every deal kept
    assert _amounts(crm) == amounts
    total = crm.con.execute("SELECT sum(amount) FROM deals").fetchone()[0]
    assert total is not None and math.isfinite(total)
    for pattern in patterns:
        assert any(re.search(pattern, n) for n in crm.report.value_notices), (pattern, crm.report.value_notices)
    if not patterns:
        assert not [n for n in crm.report.value_notices if "amount" in n]


@pytest.fixture
def cli(monkeypatch, capsys):
    """The CLI entry point in this process: (exit code, stdout, stderr)."""
    import logging

    from persona_assistant.cli import main

    def invoke(*args):
        monkeypatch.setattr(sys, "argv", ["persona-assistant", *args])
        try:
            main.run()
            code = 0
        except SystemExit as exc:
            code = exc.code
        out = capsys.readouterr()
        return code, out.out, out.err
    yield invoke
    logger = logging.getLogger("persona_assistant")  # the handler the CLI installed for progress lines
    for h in list(logger.handlers):
        logger.removeHandler(h)
    logger.setLevel(logging.NOTSET)


@pytest.mark.parametrize("name,text,amounts,patterns", CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus_through_the_cli(tmp_path, cli, name, text, amounts, patterns):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code, out, err = cli("analyze", str(path), "-w", str(tmp_path), "--json")
    assert code == 0 and "Traceback" not in err
    data = strict_json(out)
    won = [a for line, a in zip(text.splitlines()[1:], amounts) if line.startswith("Won")]
    assert data["baseline"]["won"] == len(won) and data["baseline"]["closed"] == len(amounts)
    assert data["baseline"]["total_won_value"] == pytest.approx(sum(a for a in won if a is not None))
    for pattern in patterns:
        assert any(re.search(pattern, n) for n in data["ingest"]["value_notices"]), pattern


def test_money_in_the_small_tables_is_read_the_same_way(tmp_path):
    """Accounts and leads go through `_stage`, not the deals fast path: same decisions, same refusals."""
    (tmp_path / "deals.csv").write_text("stage;account\nWon;Acme\nLost;Beta\n", encoding="utf-8")
    (tmp_path / "accounts.csv").write_text("account;industry;employees;revenue\nAcme;Retail;1.250;2.500.000,00\n"
                                           "Beta;Retail;NaN;12.500\n", encoding="utf-8")
    crm = load_crm([tmp_path / "deals.csv", tmp_path / "accounts.csv"])
    got = dict(crm.con.execute("SELECT account, (employees, revenue) FROM deals").fetchall())
    assert got == {"Acme": (1250.0, 2500000.0), "Beta": (None, 12500.0)}
    notes = crm.report.value_notices
    assert any("accounts.csv:employees: 1 value(s) not readable as numbers" in n and "'NaN': not a finite" in n
               for n in notes)
    assert any(n.startswith("accounts.csv:revenue: 1 value(s) could be thousands or decimals (first at row 2: "
                            "'12.500', read as 12500)") for n in notes)

    (tmp_path / "leads.csv").write_text("account,employees\nAcme,inf\nBeta,\"1,200\"\n", encoding="utf-8")
    leads = load_leads(tmp_path / "leads.csv")
    assert leads.con.execute("SELECT employees FROM leads ORDER BY row_number").fetchall() == [(None,), (1200.0,)]


def test_the_whole_column_decides_even_past_the_sampled_rows(tmp_path):
    """60,000 ambiguous values first (the sample sees only those, read with a decimal point), then one
    `1.200,50`: the column is European, so every `12.500` is twelve thousand five hundred (a second read)."""
    path = tmp_path / "deals.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("stage,amount\n")
        fh.write("Won,12.500\n" * 60_000)
        fh.write('Won,"1.200,50"\n')
    crm = load_crm([path])
    assert crm.con.execute("SELECT count(*), sum(amount), min(amount) FROM deals").fetchone() == (
        60_001, 60_000 * 12500.0 + 1200.5, 1200.5)
    notes = [n for n in crm.report.value_notices if "deals.csv:amount" in n]
    assert notes == ["deals.csv:amount: 60000 value(s) could be thousands or decimals (first at row 1: '12.500', "
                     "read as 12500): '.' taken as the thousands separator and ',' as the decimal comma, "
                     "as the column's other numbers show"]


# --------------------------------------------------------------------------- through the CLI


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "persona_assistant", *args], capture_output=True, text=True,
                          cwd=cwd)


def test_analyze_json_on_non_finite_money_is_strict_json_with_finite_totals(tmp_path):
    crm = tmp_path / "crm"
    crm.mkdir()
    rows = "".join(f"Won,{v}\n" for v in ("NaN", "inf", "-inf", "1e400", "1e300", "100", "250.5")) + "Lost,7\n"
    (crm / "deals.csv").write_text("stage,amount\n" + rows, encoding="utf-8")
    out = run_cli("analyze", "-w", str(tmp_path), "--json")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    data = strict_json(out.stdout)
    assert data["baseline"]["won"] == 7 and data["baseline"]["lost"] == 1  # every deal kept
    assert data["baseline"]["total_won_value"] == 350.5
    assert any("deals.csv:amount: 5 value(s) not readable as numbers" in n and "'NaN': not a finite number" in n
               for n in data["ingest"]["value_notices"])


def test_score_backtest_and_export_json_are_strict_on_non_finite_money(tmp_path, fixtures_dir):
    """The other --json paths reachable offline (campaign aside: 20 s), on a workspace whose deals carry
    NaN/inf amounts."""
    ws = tmp_path / "ws"
    shutil.copytree(fixtures_dir / "sample-workspace", ws)
    deals = ws / "crm" / "deals.csv"
    with deals.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    col = rows[0].index("Amount")
    for i, row in enumerate(rows[1:]):
        if i % 7 == 0:
            row[col] = ("NaN", "inf", "-inf", "1e400")[i % 4]
    with deals.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    for args in (("analyze",), ("backtest",), ("draft", "icp", "--offline"), ("draft", "personas", "--offline"),
                 ("history",), ("log",), ("usage",)):
        out = run_cli(*args, "-w", str(ws), "--json")
        assert out.returncode == 0, (args, out.stderr)
        strict_json(out.stdout)
        assert "Traceback" not in out.stderr
    leads = ws / "leads.csv"
    leads.write_text("account,industry,employees,revenue\nAcme,Software,NaN,inf\nBeta,Retail,\"1,200\",1e400\n",
                     encoding="utf-8")
    out = run_cli("score", str(leads), "-w", str(ws), "--json")
    assert out.returncode == 0, out.stderr
    strict_json(out.stdout)
    out = run_cli("export", "--format", "json", "-w", str(ws), "--json")
    assert out.returncode == 0, out.stderr
    strict_json(Path(strict_json(out.stdout)["path"]).read_text(encoding="utf-8"))
