"""Staging: each mapped CRM file as typed, trimmed canonical columns (`stg_<i>`), then one relation per kind.

Design: the small files (accounts, products, teams, leads) are read as text and typed in one CREATE
(`stage`); a deals file, the bulk, is typed in the same pass as the CSV read (`stage_deals`), with no
all-text copy of a million-deal export. Per column the date order (D/M vs M/D) and the decimal separator
are decided from all its values (`ingest.numbers`), revenue in millions is detected, and money and date
values that do not parse are flagged in a `_bad` bit mask that `quality.report_unparseable` reads.
`union` stacks the staged files of one kind (NULL where a file lacks a field) for `ingest.deals`.
"""

from __future__ import annotations

from typing import Callable, Sequence

from persona_assistant.ingest.classify import MappedFile
from persona_assistant.ingest.csvfile import CsvSource
from persona_assistant.ingest.mapping import MappingFile
from persona_assistant.ingest.numbers import DecimalCounts, counts_sql, decide_decimals, money_code_sql, money_sql
from persona_assistant.ingest.quality import report_unparseable
from persona_assistant.ingest.sqlnames import quote_ident as qi, quote_str as qs, unique_name
from persona_assistant.ingest.sqlvalues import (DATE_FIELDS, MONEY_FIELDS, blank_sql, date_sql, order_code_sql,
                                                order_counts_sql, trim_blanks)
from persona_assistant.schemas import IngestReport

REVENUE_MILLIONS_BELOW = 100_000  # every revenue value below this: read as millions (reported)

# The money and date fields in the order of their bit in a deals file's `_bad` mask.
CHECKED = ("amount", "created", "closed", "won_time", "lost_time", "employees", "revenue", "price")
SAMPLE_ROWS = 20_000  # rows read up front to guess date orders and decimal separators; full counts confirm them


def _revenue_factor(con, f: MappedFile, report: IngestReport, mapping: MappingFile, decimal: str = ".", *,
                    parsed: bool = False) -> float:
    """1e6 when revenue is given in millions (mapping file, or every value below 100,000: reported).

    `parsed`: the file's table already holds revenue as a number (the deals fast path); else it is read
    with the column's `decimal` separator.
    """
    unit = mapping.units.get("revenue")
    col = f"{f.raw.path.name}:{f.fields['revenue']}"
    if unit is None:
        values = (f"(SELECT revenue AS v FROM {qi(f.raw.name)})" if parsed else  # parsed once, not per aggregate
                  f"(SELECT {money_sql('v', decimal)} AS v FROM (SELECT {blank_sql(qi(f.fields['revenue']))} AS v "
                  f"FROM {qi(f.raw.name)}))")
        n, top = con.execute(f"SELECT count(v), max(abs(v)) FROM {values}").fetchone()
        if not n or top >= REVENUE_MILLIONS_BELOW:
            return 1.0
        report.value_notices.append(
            f"{col}: all {n} revenue values are below {REVENUE_MILLIONS_BELOW:,} (max {top:,.2f}): read as "
            'millions of USD (set [units] revenue = "units" in the mapping file if they are plain USD)')
        return 1e6
    if unit == "millions":
        report.value_notices.append(f"{col}: revenue read as millions of USD (mapping file)")
        return 1e6
    return 1.0


def _code_counts(con, f: MappedFile, fields: Sequence[str], code: Callable[[str], str], counts: Callable[[list[str]], str],
                 hit: Callable[[str], str], table: str | None = None) -> tuple[list[tuple[str, str]], Sequence]:
    """(canonical, header) of the file's `fields`, and one row of `counts` over the per-value `code`s of
    their columns, in one scan of `table` (default the raw table; the codes' data row is "_r" there).
    The WHERE (`hit`) keeps the per-row work to the (usually few) rows a code can say something about."""
    cols = [(c, h) for c, h in f.fields.items() if c in fields]
    if not cols:
        return cols, ()
    codes = ", ".join(f"{code(qi(h))} AS k{i}" for i, (_, h) in enumerate(cols))
    where = " OR ".join(hit(qi(h)) for _, h in cols)
    row = con.execute(f"SELECT {counts([f'k{i}' for i in range(len(cols))])} FROM (SELECT {codes}, "
                      f"{'NULL' if table else 'rowid + 1'} AS _r FROM {table or qi(f.raw.name)} WHERE {where})"
                      ).fetchone()
    return cols, row


def _date_orders(con, f: MappedFile, report: IngestReport, table: str | None = None) -> dict[str, str]:
    """'mdy' or 'dmy' per date column, decided from all its slash dates in one scan; ambiguity reported."""
    cols, row = _code_counts(con, f, DATE_FIELDS, order_code_sql, order_counts_sql,
                             lambda c: f"contains({c}, '/')", table)
    return decide_orders(f, cols, row, report)


def decide_orders(f: MappedFile, cols: list[tuple[str, str]], row: Sequence[int], report: IngestReport
                   ) -> dict[str, str]:
    """Orders from (slash dates, first part > 12, second part > 12) counts per date column."""
    orders = {}
    for i, (canon, h) in enumerate(cols):
        n, over1, over2 = row[3 * i: 3 * i + 3]
        label = f"{f.raw.path.name}:{h}"
        order = "mdy"
        if not n or (over2 and not over1):
            pass
        elif over1 and not over2:
            report.value_notices.append(f"{label}: dates read as D/M/YYYY (a first part above 12 occurs in "
                                        f"{over1} rows)")
            order = "dmy"
        elif over1 and over2:
            report.value_notices.append(f"{label}: slash dates mix D/M and M/D; read as M/D/YYYY, the others "
                                        "count as unparseable")
        else:
            report.value_notices.append(f"{label}: ambiguous slash dates (no part above 12 in {n} rows); read as "
                                        "M/D/YYYY (set the dates to ISO YYYY-MM-DD to be sure)")
        orders[canon] = order
    return orders


def _decimals(con, f: MappedFile, report: IngestReport | None, table: str | None = None) -> dict[str, str]:
    """The decimal separator per money column, from all its values in one scan (`ingest.numbers`).

    `table`: a sample to guess from (no notices then, `report` None); default the file's raw table.
    """
    cols, row = _code_counts(con, f, MONEY_FIELDS, money_code_sql, lambda codes: counts_sql(codes, "_r"),
                             lambda c: f"contains({c}, '.') OR contains({c}, ',')", table)

    def example(canon: str, data_row: int) -> str:
        return con.execute(f"SELECT {blank_sql(qi(f.fields[canon]))} FROM {qi(f.raw.name)} WHERE rowid = ?",
                           [data_row - 1]).fetchone()[0]

    return decide_decimals(con, f.raw.path.name, f.raw.report.delimiter, cols, DecimalCounts.of(row, len(cols)),
                           None if report is None else report.value_notices, example)


def stage(con, f: MappedFile, report: IngestReport, mapping: MappingFile, extras: dict[str, str], idx: int) -> None:
    """Typed, trimmed, canonical columns of one file as stg_<idx>.

    Money and date fields also keep their trimmed text as "raw:<field>" so unparseable values can be
    counted. For the small files (accounts, products, teams, leads), read as text first; the raw table is
    then dropped. Deals take `stage_deals`.
    """
    raw, name = f.raw, f.raw.name
    orders = _date_orders(con, f, report)
    decimals = _decimals(con, f, report)
    factor = _revenue_factor(con, f, report, mapping, decimals.get("revenue", ".")) if "revenue" in f.fields else 1.0
    # Two levels: the trimmed text once per column, then the parses over it (inlining `blank_sql` into each
    # of the many places `money_sql`/`date_sql` name their input made DuckDB plan ~5 ms more per field).
    inner = [f"CAST(rowid + 1 AS BIGINT) AS _row", f"{idx} AS _src"]
    cols = ["_row", "_src"]
    for canon, h in f.fields.items():
        c = blank_sql(qi(h))
        if canon in MONEY_FIELDS or canon in DATE_FIELDS:
            text = qi("raw:" + canon)
            inner.append(f"{c} AS {text}")
            if canon in MONEY_FIELDS:
                scale = f" * {factor!r}" if canon == "revenue" and factor != 1.0 else ""
                cols += [text, f"{money_sql(text, decimals[canon])}{scale} AS {qi(canon)}"]
            else:
                cols += [text, f"{date_sql(text, orders[canon])} AS {qi(canon)}"]
        else:
            inner.append(f"{c} AS {qi(canon)}")
            cols.append(qi(canon))
    stem = qs(raw.path.stem + ":")
    cols.append(f"COALESCE({qi('deal_id')}, {stem} || _row) AS _id" if "deal_id" in f.fields else f"{stem} || _row AS _id")
    for extra, h in extras.items():
        inner.append(f"{blank_sql(qi(h))} AS {qi('x:' + extra)}")
        cols.append(qi("x:" + extra))
    f.stg = f"stg_{idx}"
    con.execute(f"CREATE TABLE {f.stg} AS SELECT {', '.join(cols)} FROM (SELECT {', '.join(inner)} FROM {qi(name)})")
    con.execute(f"DROP TABLE {qi(name)}")
    checked = [c for c in f.fields if c in MONEY_FIELDS or c in DATE_FIELDS]
    if checked:
        bad = " | ".join(f"(CASE WHEN {qi('raw:' + c)} IS NOT NULL AND {qi(c)} IS NULL THEN {1 << i} ELSE 0 END)"
                         for i, c in enumerate(checked))
        con.execute(f"ALTER TABLE {f.stg} ADD COLUMN _bad INTEGER; UPDATE {f.stg} SET _bad = {bad}")
        report_unparseable(con, f.stg, [f], checked, report)


def _deal_select(f: MappedFile, orders: dict[str, str], decimals: dict[str, str], extras: dict[str, str]):
    """SELECT over the checked read_csv (a callable for `CsvSource.load`): typed, trimmed canonical columns.

    Parsed in the same pass as the CSV itself; no all-text copy of the file is kept. Text fields are stored
    as read and trimmed afterwards where needed (`trim_blanks`): computing a new string per row in the
    read costs more than the parsing. A money or date value that does not parse sets its bit (`CHECKED`
    order) in "_bad" (a text column, mostly NULL, would still cost 16 bytes a row; the notice re-reads
    its example from the file). Date fields add a small "o:<field>" code for slash dates (1, + 2 if a
    first part is a day above 12, + 4 if a second part is above 12) from which the D/M or M/D decision
    is checked on every row; money fields an "m:<field>" code (`numbers.money_code_sql`) for the decimal
    separator, read with `decimals` meanwhile.
    """
    inner, mid, outer, bad = [], [], [], []
    for canon, h in f.fields.items():
        c, col = blank_sql(qi(h)), qi(canon)
        if canon in MONEY_FIELDS or canon in DATE_FIELDS:
            text = qi("t:" + canon)
            parsed = money_sql(text, decimals[canon]) if canon in MONEY_FIELDS else date_sql(text, orders[canon])
            inner.append(f"{c} AS {text}")
            mid += [text, f"{parsed} AS {col}"]
            outer.append(col)
            bad.append(f"(CASE WHEN {text} IS NOT NULL AND {col} IS NULL THEN {1 << CHECKED.index(canon)} ELSE 0 END)")
            code = qi(("o:" if canon in DATE_FIELDS else "m:") + canon)
            inner.append(f"{(order_code_sql if canon in DATE_FIELDS else money_code_sql)(qi(h))} AS {code}")
            mid.append(code)
            outer.append(code)
        else:  # as read (a plain column costs nothing to store); `trim_blanks` fixes the few that need it
            inner.append(f"{qi(h)} AS {col}")
            mid.append(col)
            outer.append(col)
    for extra, h in extras.items():
        inner.append(f"{qi(h)} AS {qi('x:' + extra)}")
        mid.append(qi("x:" + extra))
        outer.append(qi("x:" + extra))
    outer.append(f"CAST({' | '.join(bad) or '0'} AS UTINYINT) AS _bad")
    # Three levels so each parse runs once and its result is reused for the unparseable check.
    return lambda src: (f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(mid)} FROM "
                        f"(SELECT {', '.join(inner)} FROM ({src})))")


def stage_deals(con, src: CsvSource, f: MappedFile, report: IngestReport, mapping: MappingFile,
                 extras: dict[str, str], idx: int) -> None:
    """The deals fast path: typed table raw_<idx> straight from the CSV, view stg_<idx> over it.

    Same columns and notices as `stage`, but a view over a typed table. Date orders and decimal separators
    are guessed from the first rows and confirmed from the per-row codes; a guess the whole column
    contradicts (for money: where it has ambiguous values) costs one more read.
    """
    cols = [(c, h) for c, h in f.fields.items() if c in DATE_FIELDS]
    money = [(c, h) for c, h in f.fields.items() if c in MONEY_FIELDS]
    orders: dict[str, str] = {}
    decimals: dict[str, str] = {}
    if cols or money:  # the first rows, read once for both guesses
        sample = unique_name("pa_sample")
        con.execute(f"CREATE TEMP TABLE {sample} AS SELECT * FROM ({src.scan_sql(head=True)}) LIMIT {SAMPLE_ROWS}")
        orders = _date_orders(con, f, IngestReport(), table=sample)
        decimals = _decimals(con, f, None, table=sample)
        con.execute(f"DROP TABLE {sample}")
    read_notices = len(f.raw.report.notices)
    src.load(con, _deal_select(f, orders, decimals, extras))
    table = qi(f.raw.name)

    def example(canon: str, row: int) -> str:
        text = blank_sql(qi(f.fields[canon]))
        return con.execute(f"SELECT {text} FROM ({src.scan_sql()}) LIMIT 1 OFFSET {int(row) - 1}").fetchone()[0]

    if cols or money:
        aggs = ", ".join(a for a in (order_counts_sql([qi("o:" + c) for c, _ in cols]),
                                     counts_sql([qi("m:" + c) for c, _ in money], "rowid + 1")) if a)
        found = con.execute(f"SELECT {aggs} FROM {table}").fetchone()
        exact = decide_orders(f, cols, found[:3 * len(cols)], report)
        counts = DecimalCounts.of(found[3 * len(cols):], len(money))
        exact_decimals = decide_decimals(con, f.raw.path.name, f.raw.report.delimiter, money, counts,
                                         report.value_notices, example)
        if exact != orders or any(n.either and exact_decimals[c] != decimals[c] for (c, _), n in zip(money, counts)):
            del f.raw.report.notices[read_notices:]  # the reload adds the same read notices again
            src.load(con, _deal_select(f, exact, exact_decimals, extras))
    trim_blanks(con, table, [qi(c) for c in f.fields if c not in MONEY_FIELDS and c not in DATE_FIELDS]
                 + [qi("x:" + x) for x in extras])
    if "revenue" in f.fields:
        factor = _revenue_factor(con, f, report, mapping, parsed=True)
        if factor != 1.0:
            con.execute(f"UPDATE {table} SET revenue = revenue * {factor!r}")
    keep = [qi(r[0]) for r in con.execute(f"DESCRIBE {table}").fetchall()
            if not r[0].startswith(("o:", "m:")) and r[0] != "_bad"]
    # A marker where the value did not parse (what `union`/`deals.build_deals` test), the text itself on demand.
    keep += [f"CASE WHEN _bad & {1 << CHECKED.index(c)} <> 0 THEN '' END AS {qi('raw:' + c)}"
             for c in f.fields if c in MONEY_FIELDS or c in DATE_FIELDS]
    f.example = example
    row = "(rowid + 1)"
    ident = (f"COALESCE({qi('deal_id')}, {qs(f.raw.path.stem + ':')} || {row})" if "deal_id" in f.fields
             else f"{qs(f.raw.path.stem + ':')} || {row}")
    f.stg = f"stg_{idx}"
    con.execute(f"CREATE VIEW {f.stg} AS SELECT CAST({row} AS BIGINT) AS _row, {idx} AS _src, "
                f"{', '.join(keep)}, {ident} AS _id FROM {table}")


def union(con, name: str, files: list[MappedFile], fields: Sequence[str], extras: Sequence[str], *,
           view: bool = False) -> bool:
    """One relation from the staged files of a kind, with every field (NULL where a file lacks it)."""
    if not files:
        return False
    selects = []
    for f in files:
        have = {r[0] for r in con.execute(f"DESCRIBE {f.stg}").fetchall()}
        parts = ["_src", "_row", "_id"]
        for c in fields:
            typ = "DATE" if c in DATE_FIELDS else "DOUBLE" if c in MONEY_FIELDS else "VARCHAR"
            parts.append(qi(c) if c in have else f"CAST(NULL AS {typ}) AS {qi(c)}")
            if c in MONEY_FIELDS or c in DATE_FIELDS:
                parts.append(qi("raw:" + c) if "raw:" + c in have else f"CAST(NULL AS VARCHAR) AS {qi('raw:' + c)}")
        for x in extras:
            parts.append(qi("x:" + x) if "x:" + x in have else f"CAST(NULL AS VARCHAR) AS {qi('x:' + x)}")
        selects.append(f"SELECT {', '.join(parts)} FROM {f.stg}")
    con.execute(f"CREATE {'VIEW' if view else 'TABLE'} {name} AS " + " UNION ALL ".join(selects))
    if not view:
        for f in files:
            con.execute(f"DROP TABLE {f.stg}")
    return True
