"""Sniffing a delimited file: the delimiter and the header, from the first megabyte.

Design: Python's csv module reads a sample (`SAMPLE` bytes) with each candidate delimiter; the one whose
records most consistently have the header's field count wins. The header is cleaned here (blank names
become `column_N`, duplicates `x`, `x_2`, ...) with a notice for each change. Pure functions over text,
except `sample_text`, which reads the sample.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

SAMPLE = 1 << 20  # bytes sniffed for delimiter and header
DELIMITERS = (",", ";", "\t", "|")


def sample_text(path: Path, skip: int) -> tuple[str, bool]:
    """The first SAMPLE bytes of a UTF-8 file as text, and whether that is the whole file."""
    with path.open("rb") as fh:
        fh.seek(skip)
        raw = fh.read(SAMPLE + 1)
    complete = len(raw) <= SAMPLE
    raw = raw[:SAMPLE]
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(raw, complete)
    return text, complete


def records(sample: str, delimiter: str, complete: bool, limit: int = 200) -> list[list[str]]:
    """Up to `limit` + 1 non-blank records of `sample` (the last one dropped when the sample is cut short)."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, quotechar='"', doublequote=True,
                        strict=False)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if row:  # csv yields [] for a blank line
                rows.append(row)
            if len(rows) > limit:
                break
    except csv.Error:
        pass
    if not complete and len(rows) <= limit and rows:
        rows.pop()  # the sample may end inside the last record
    return rows


def sniff_delimiter(sample: str, complete: bool = True) -> str:
    """The candidate delimiter whose records most consistently have the header's field count (>1)."""
    best, best_key = ",", (-1.0, 0)
    for delim in DELIMITERS:
        rows = records(sample, delim, complete)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        body = rows[1:] or rows
        share = sum(len(r) == width for r in body) / len(body)
        key = (share, width)
        if key > best_key:
            best, best_key = delim, key
    return best


def clean_header(names: list[str]) -> tuple[list[str], dict[str, list[str]], list[str]]:
    """Blank names -> column_N; duplicates (case-insensitive) -> x, x_2. Returns (names, duplicates, notices)."""
    out: list[str] = []
    seen: dict[str, int] = {}
    dupes: dict[str, list[str]] = {}
    notices: list[str] = []
    blanks = 0
    taken = {n.strip().lower() for n in names}
    for i, raw in enumerate(names):
        name = raw.strip().lstrip("\ufeff").strip()
        if not name:
            name = f"column_{i + 1}"
            blanks += 1
        key = name.lower()
        if key in seen:
            seen[key] += 1
            new = f"{name}_{seen[key]}"
            while new.lower() in taken or new.lower() in seen:
                seen[key] += 1
                new = f"{name}_{seen[key]}"
            first = next(o for o in out if o.lower() == key)
            dupes.setdefault(first, [first]).append(new)
            notices.append(f"duplicate header '{name}' (column {i + 1}): renamed to '{new}'")
            seen[new.lower()] = 1
            name = new
        else:
            seen[key] = 1
        out.append(name)
    if blanks:
        notices.append(f"{blanks} blank header name(s) named column_N by position")
    return out, dupes, notices
