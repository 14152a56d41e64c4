import csv
import io

import pytest

from persona_assistant.export.csv_safe import csv_text, safe_cell, write_csv


@pytest.mark.parametrize("value", [
    "=1+2", "=HYPERLINK(\"http://x.invalid\",\"y\")", "+SUM(A1:A2)", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)",
    "\t=1+2", "\n=1+2", "＝1+2", "-", "+", "+1 555 CALL-NOW", "-1+A1", "=1",
    " =1+1", "  +SUM(A1)", "\u00a0@SUM(A1)", "\u3000=1", " \t-2+3+cmd|' /C calc'!A0", "\tHello",
])
def test_formula_like_cells_are_prefixed_with_a_quote(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value,expected", [
    ("\r=1+2", "'\n=1+2"),  # a carriage return is written as a newline, then guarded
    ("\x1b[31m=1+1", "'=1+1"),  # the escape sequence goes, the formula it hid is guarded
    ("\x00 =2", "' =2"), ("ok\x07\x1b]8;;javascript:x\x07link", "oklink"), ("a\tb\nc", "a\tb\nc"),
])
def test_control_characters_are_removed_before_the_formula_guard(value, expected):
    assert safe_cell(value) == expected


@pytest.mark.parametrize("value", ["+1 555 0100", "+44 (20) 7946-0958", "-12.5", "+49 30 1234/56", "-1,000.25",
                                   " -12.5", " +1 555 0100"])
def test_phone_numbers_and_plain_numbers_stay_readable(value):
    assert safe_cell(value) == value


@pytest.mark.parametrize("value,expected", [
    (None, ""), (True, "true"), (42, "42"), (-3.5, "-3.5"), ("Acme, Inc.", "Acme, Inc."), ("a=b", "a=b"),
    ("Mr @home", "Mr @home"),
])
def test_ordinary_values_are_unchanged(value, expected):
    assert safe_cell(value) == expected


def test_csv_text_quotes_and_neutralises_every_cell_including_the_header():
    text = csv_text(["=name", "phone"], [["=cmd|'/C calc'!A0", "+1 555 0100"], ['say "hi",\nbye', None]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["'=name", "phone"], ["'=cmd|'/C calc'!A0", "+1 555 0100"], ['say "hi",\nbye', ""]]


def test_write_csv_is_atomic_an_error_midway_keeps_the_old_file(tmp_path):
    path = tmp_path / "out.csv"
    write_csv(path, ["a"], [[1]])
    before = path.read_text()

    def rows():
        yield [2]
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_csv(path, ["a"], rows())
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
