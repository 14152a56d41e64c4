"""Every file of the malformed-file corpus reads as fixtures/csv-corpus/expected.toml says."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from persona_assistant.errors import InputError
from persona_assistant.ingest.csvfile import clean_header, quote_ident, read_file, sniff_delimiter

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "csv-corpus"
EXPECTED = tomllib.loads((CORPUS / "expected.toml").read_text(encoding="utf-8"))


def test_corpus_is_complete():
    files = {p.name for p in CORPUS.iterdir() if p.suffix not in (".py", ".toml") and p.is_file()}
    assert len(files) >= 20
    assert files == set(EXPECTED), "every corpus file needs an entry in expected.toml and vice versa"


def test_generator_reproduces_the_committed_files(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name, data in mod.files().items():
        assert (CORPUS / name).read_bytes() == data, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(name):
    want = EXPECTED[name]
    path = CORPUS / name
    if want["outcome"] == "error":
        with pytest.raises(InputError) as info:
            read_file(path)
        message = info.value.message
        assert "\n" not in message
        assert name in message
        for part in want["message"]:
            assert part in message, (part, message)
        return
    con, raw = read_file(path)
    report = raw.report
    assert report.rows == want["rows"]
    assert raw.columns == want["columns"]
    assert report.columns == len(want["columns"])
    assert [r[0] for r in con.execute("DESCRIBE raw").fetchall()] == want["columns"]
    if not want["notices"]:
        assert report.notices == []
    for part in want["notices"]:
        assert any(part in n for n in report.notices), (part, report.notices)
    if "encoding" in want:
        assert report.encoding == want["encoding"]
    if "delimiter" in want:
        assert report.delimiter == want["delimiter"]
    for row, column, value in want.get("cells", []):
        got = con.execute(f"SELECT {quote_ident(column)} FROM raw WHERE rowid = ?", [row - 1]).fetchone()[0]
        assert (got or "") == value, (row, column, got)
    if "cell_length" in want:
        row, column, length = want["cell_length"]
        got = con.execute(f"SELECT length({quote_ident(column)}) FROM raw WHERE rowid = ?", [row - 1]).fetchone()
        assert got[0] == length


def test_sniffer_prefers_consistent_field_counts():
    # Commas inside a semicolon file must not win: the ';' split is consistent, the ',' split is not.
    sample = "a;b;c\n1,5;x;y\n2;Acme, Inc.;z\n"
    assert sniff_delimiter(sample) == ";"
    assert sniff_delimiter("a\tb\n1\t2\n") == "\t"
    assert sniff_delimiter("only\nvalues\n") == ","


def test_clean_header_renames_case_insensitive_duplicates():
    names, dupes, notices = clean_header(["ID", "id", " Name ", "", "id"])
    assert names == ["ID", "id_2", "Name", "column_4", "id_3"]
    assert dupes == {"ID": ["ID", "id_2", "id_3"]}
    assert len(notices) == 3


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_file(tmp_path / "nope.csv")


def test_long_rows_beyond_the_sample_are_found(tmp_path):
    # The sniffer sees only the first megabyte; DuckDB's reject tracking must still name the late bad line.
    lines = ["a,b"] + [f"{i},x" for i in range(60_000)] + ["1,2,3"]
    path = tmp_path / "late.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 60002 has 3 fields"):
        read_file(path)


def test_cp1252_byte_late_in_a_large_file(tmp_path):
    body = "a,b\n" + "x,1\n" * 300_000 + "caf\xe9,2\n"
    path = tmp_path / "late.csv"
    path.write_bytes(body.encode("cp1252"))
    con, raw = read_file(path)
    assert raw.report.encoding == "cp1252"
    assert any("line 300002" in n for n in raw.report.notices)
    assert con.execute("SELECT a FROM raw WHERE b = '2'").fetchone()[0] == "café"


def test_a_cell_longer_than_the_fast_line_limit_is_read_whole(tmp_path):
    # The first read allows 8 MB lines (faster buffers); a longer line makes it read again at 64 MB,
    # so the row is neither dropped nor cut, and the rows after it stay in place.
    from persona_assistant.ingest.csvfile import LINE_LIMITS

    size = LINE_LIMITS[0] + 1024
    path = tmp_path / "huge.csv"
    path.write_text("id,notes\n1,short\n2," + "x" * size + "\n3,after\n", encoding="utf-8")
    con, raw = read_file(path)
    assert raw.report.rows == 3
    assert con.execute("SELECT id, length(notes) FROM raw ORDER BY rowid").fetchall() == [
        ("1", 5), ("2", size), ("3", 5)]


def test_nul_bytes_are_counted_in_every_chunk(tmp_path):
    # NULs are looked for per streamed chunk (a fast membership test, then a count): ones far into a large
    # file, in plain-ASCII chunks and in chunks that must be decoded, are all counted and stripped.
    from persona_assistant.ingest.csvfile import CHUNK, detect_encoding

    rows = CHUNK // 4 + 10  # "x,1\n" is 4 bytes: the NULs below land in the second and third chunks
    body = "a,b\n" + "x,1\n" * rows + "y\x00,2\n" + "é,3\n" * (CHUNK // 5) + "z\x00\x00,4\n"
    path = tmp_path / "nuls.csv"
    path.write_bytes(body.encode("utf-8"))
    assert detect_encoding(path).nuls == 3
    con, raw = read_file(path)
    assert "stripped 3 NUL byte(s)" in raw.report.notices
    assert con.execute("SELECT a FROM raw WHERE b IN ('2', '4') ORDER BY b").fetchall() == [("y",), ("z",)]
