"""Which unmapped columns are dimensions (cold user review): free text and constants are left out, with
the reason `analyze` prints; short categories stay dimensions, on 30 rows as on 5,000."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from persona_assistant.analysis.segments import analyze
from persona_assistant.errors import UsageError
from persona_assistant.ingest.crm import load_crm

PHRASES = ["Went with Deputy", "Credentialing tracking mattered", "Chose incumbent; price",
           "Loved the scheduling demo. Asked for SSO.", "Champion left the company", "No response after demo",
           "Compared against When I Work", "Pilot went well!", "Needed HIPAA BAA, signed quickly",
           "Budget frozen until next year"]


def _write(path: Path, n: int, notes, **columns) -> Path:
    rng = random.Random(n)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Deal", "Company", "Stage", "Amount", "Industry", "Segment", "Notes", *columns])
        for i in range(n):
            w.writerow([f"D-{i}", f"Co {i}", "Closed Won" if rng.random() < 0.4 else "Closed Lost",
                        f"${rng.randint(2, 9)},{rng.randint(100, 999)}", rng.choice(["Healthcare", "Retail"]),
                        rng.choice(["SMB", "Mid-Market", "Enterprise"]), notes(i, rng),
                        *(v(i, rng) for v in columns.values())])
    return path


def _reasons(a) -> dict[str, str]:
    return {e.column: e.reason for e in a.excluded}


def _short_notes(i, rng):
    # mostly unique short phrases, no line breaks, none long: what a 30-deal export's notes look like
    return rng.choice(PHRASES) + ("" if i % 3 else f" - rep {i % 11}")


@pytest.mark.parametrize("n", [30, 5000])
def test_free_text_notes_are_not_a_dimension_on_small_and_large_data(tmp_path, n):
    notes = _short_notes if n == 30 else (lambda i, rng: rng.choice(PHRASES))  # 5,000 rows: 10 phrases repeat
    a = analyze(load_crm([_write(tmp_path / "deals.csv", n, notes)], all_columns=True))
    assert "Notes" not in a.dimensions
    assert not any("Notes" in s.dimensions for s in a.segments)
    assert _reasons(a)["Notes"].startswith("free text (")
    assert "Segment" in a.dimensions and "industry" in a.dimensions  # short repeated labels stay categories


def test_multi_line_notes_are_free_text_even_when_they_repeat(tmp_path):
    notes = lambda i, rng: rng.choice(["Budget cut\nrevisit Q3", "Went with Deputy"])  # noqa: E731
    a = analyze(load_crm([_write(tmp_path / "deals.csv", 30, notes)], all_columns=True))
    assert "Notes" not in a.dimensions
    assert _reasons(a)["Notes"].startswith("free text (line breaks in 1 values")


def test_a_constant_column_is_no_dimension_and_does_not_double_the_segments(tmp_path):
    pipeline = {"Pipeline": lambda i, rng: "Sales Pipeline"}
    with_constant = analyze(load_crm([_write(tmp_path / "a.csv", 200, _short_notes, **pipeline)], all_columns=True))
    without = analyze(load_crm([_write(tmp_path / "b.csv", 200, _short_notes)], all_columns=True))
    assert "Pipeline" not in with_constant.dimensions
    assert "one value ('Sales Pipeline')" in _reasons(with_constant)["Pipeline"]
    assert len(with_constant.segments) == len(without.segments)
    assert not any("Pipeline" in s.dimensions for s in with_constant.segments)


def test_an_unknown_dimension_suggests_the_closest_of_the_users_headers(tmp_path):
    crm = load_crm([_write(tmp_path / "deals.csv", 30, _short_notes)], all_columns=True)
    with pytest.raises(UsageError) as err:
        analyze(crm, dimensions=["Indsutry"])
    message = str(err.value)
    assert "did you mean 'Industry'?" in message
    listed = message.split("columns: ", 1)[1].split(", ")
    assert {"Industry", "Segment", "Notes"} <= set(listed)
    assert not {"revenue_band", "region", "product", "industry"} & set(listed)  # not in the file / not the header
