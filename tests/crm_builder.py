"""Canonical CRM tables and deals exports from a few keyword rows, so tests name only the fields they use.

The columns come from `persona_assistant.dimensions` (the tables' one owner), never from a copied list:
`deals_table` builds an in-memory `deals` table with every canonical column (NULL where a row is silent),
`deals_csv` writes a deals export whose header is the fields the rows name, in first-seen order.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import duckdb

from persona_assistant.dimensions import DEAL_COLUMNS, DEALS_TABLE


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def deals_table(rows: Iterable[Mapping[str, Any]], *, extra: Sequence[str] = (),
                con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    """Table `deals` (`DEAL_COLUMNS`, then `extra` as VARCHAR) holding `rows`; a field a row does not name is NULL.

    A row naming a field that is neither canonical nor in `extra` is a mistake in the test: KeyError."""
    con = con or duckdb.connect()
    cols = [*DEAL_COLUMNS, *((name, "VARCHAR") for name in extra)]
    names = [n for n, _ in cols]
    con.execute(f"CREATE TABLE {DEALS_TABLE} (" + ", ".join(f"{_ident(n)} {t}" for n, t in cols) + ")")
    data = []
    for row in rows:
        unknown = set(row) - set(names)
        if unknown:
            raise KeyError(f"not a column of {DEALS_TABLE}: {sorted(unknown)}")
        data.append([row.get(n) for n in names])
    if data:
        con.executemany(f"INSERT INTO {DEALS_TABLE} VALUES ({', '.join('?' * len(names))})", data)
    return con


def deals_csv(path: Path, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> Path:
    """A deals export at `path`: header `columns` (default: every field the rows name, first-seen order),
    one line per row, a field a row does not name left blank; values written with str()."""
    header = list(columns) if columns is not None else list(dict.fromkeys(k for row in rows for k in row))
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for row in rows:
            w.writerow(["" if row.get(c) is None else str(row[c]) for c in header])
    return Path(path)
