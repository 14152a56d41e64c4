"""CRM exports -> one canonical DuckDB table (`deals` or `leads`) that analysis and scoring read.

Every file is first sniffed (`csvfile.open_csv`: encoding, delimiter, header),
classified from its columns (deals: a stage/status column; accounts: an account
plus firmographics; products: product + price; teams: sales agent + manager/office;
else unused) and mapped to canonical fields (`mapping.py`). The small files are then
read as text (`CsvSource.load`); a deals file, the bulk, is typed in the same pass as
the CSV read (`_stage_deals`), with no all-text copy of a million-deal export. Values
are normalised in SQL: stage names to
won/lost/open through a small table built from the DISTINCT raw stages, money
strings, dates (D/M vs M/D decided per column from its values), revenue units,
bands (`bands.band_sql`). Deals are joined to accounts (by id when both sides
have one, else by case-insensitive name), products and sales teams. Keys that
find no partner are reported in `IngestReport.unmatched`, and the deal stays
(with NULL firmographics). Nothing is merged or dropped silently: unparseable
values, blank keys, near-duplicate category values and every decision taken
land in `IngestReport.value_notices`.

Row numbers in notices are 1-based data rows (the header is not counted).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from persona_assistant.bands import EMPLOYEE_BANDS, REVENUE_BANDS, band_sql
from persona_assistant.dimensions import BASE_DIMENSIONS, TYPO_FIELDS
from persona_assistant.errors import InputError, UsageError
from persona_assistant.ingest.csvfile import (CsvSource, RawTable, open_csv, quote_ident as qi, quote_str as qs,
                                              read_table, unique_name)
from persona_assistant.ingest.mapping import MappingFile, infer_field, load_mapping, stage_outcome
from persona_assistant.ingest.numbers import (DecimalCounts, counts_sql, decide_decimals, money_code_sql, money_sql,
                                              refused_reason)
from persona_assistant.schemas import IngestReport, UnmatchedKeys

if TYPE_CHECKING:
    import duckdb

# Fields each kind of file contributes.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "deals": ("deal_id", "account_id", "account", "status", "stage", "amount", "created", "closed", "won_time",
              "lost_time", "industry", "employees", "revenue", "region", "country", "product", "lead_source",
              "owner", "technologies"),
    "accounts": ("account_id", "account", "industry", "employees", "revenue", "region", "country",
                 "technologies", "lead_source"),
    "products": ("product", "price"),
    "teams": ("owner", "manager", "region"),
    "leads": ("account", "industry", "employees", "revenue", "region", "country", "product", "lead_source",
              "technologies", "title", "contact_name", "first_name", "last_name", "email", "phone"),
}
FIRMOGRAPHIC = ("industry", "employees", "revenue", "region", "country", "technologies")
MONEY_FIELDS = ("amount", "employees", "revenue", "price")
DATE_FIELDS = ("created", "closed", "won_time", "lost_time")
# Text columns of `deals` stored as ENUMs when they hold at most ENUM_MAX values (`_category_types`).
CATEGORY_COLUMNS = ("stage", "industry", "region", "country", "product", "lead_source", "owner", "technologies")
ENUM_MAX = 10_000
REVENUE_MILLIONS_BELOW = 100_000
EXAMPLES = 5

DEAL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("deal_id", "VARCHAR"), ("account", "VARCHAR"), ("stage", "VARCHAR"), ("outcome", "VARCHAR"),
    ("amount", "DOUBLE"), ("created", "DATE"), ("closed", "DATE"), ("cycle_days", "INTEGER"),
    ("industry", "VARCHAR"), ("employees", "DOUBLE"), ("employee_band", "VARCHAR"), ("revenue", "DOUBLE"),
    ("revenue_band", "VARCHAR"), ("region", "VARCHAR"), ("country", "VARCHAR"), ("product", "VARCHAR"),
    ("lead_source", "VARCHAR"), ("owner", "VARCHAR"), ("technologies", "VARCHAR"),
)
LEAD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("row_number", "INTEGER"), ("account", "VARCHAR"), ("industry", "VARCHAR"), ("employees", "DOUBLE"),
    ("employee_band", "VARCHAR"), ("revenue", "DOUBLE"), ("revenue_band", "VARCHAR"), ("region", "VARCHAR"),
    ("country", "VARCHAR"), ("product", "VARCHAR"), ("lead_source", "VARCHAR"), ("technologies", "VARCHAR"),
    ("title", "VARCHAR"), ("contact_name", "VARCHAR"), ("email", "VARCHAR"), ("phone", "VARCHAR"),
)

# Common industry names: a value close to one of these but not equal is reported as a likely typo.
INDUSTRY_VOCABULARY = (
    "technology", "information technology", "software", "computer software", "hardware", "internet",
    "telecommunications", "media", "entertainment", "marketing", "advertising", "retail", "e-commerce",
    "wholesale", "consumer goods", "food and beverage", "finance", "financial services", "banking",
    "insurance", "real estate", "healthcare", "health care", "medical", "medical devices",
    "pharmaceuticals", "biotechnology", "education", "higher education", "government", "nonprofit",
    "manufacturing", "automotive", "aerospace", "defense", "construction", "engineering", "energy",
    "utilities", "oil and gas", "chemicals", "mining", "agriculture", "transportation", "logistics",
    "hospitality", "travel", "legal", "consulting", "professional services", "services", "employment",
    "staffing", "human resources", "security", "gaming", "publishing", "semiconductors",
)


@dataclass
class CrmData:
    """The canonical table in an in-memory DuckDB connection, and how it was built."""

    con: "duckdb.DuckDBPyConnection"
    report: IngestReport
    dimensions: list[str]
    plan: Any = None  # analysis.columns.DimensionPlan once the columns are planned (and the table adjusted)


# --------------------------------------------------------------------------- SQL value parsing


def needs_trim_sql(col: str) -> str:
    """True where `blank_sql` would change the value."""
    return f"({col} LIKE ' %' OR {col} LIKE '% ' OR {col} = '')"


def blank_sql(col: str) -> str:
    """Trimmed text; blank -> NULL. trim() only runs on values that need it (it copies every string)."""
    return f"(CASE WHEN {needs_trim_sql(col)} THEN NULLIF(trim({col}), '') ELSE {col} END)"


def date_sql(col: str, order: str = "mdy") -> str:
    """A DATE from ISO (date or datetime), M/D/YYYY or D/M/YYYY (per `order`), Y/M/D or D.M.YYYY."""
    day = f"split_part(replace({col}, 'T', ' '), ' ', 1)"
    slash = ("['%m/%d/%y', '%m/%d/%Y', '%Y/%m/%d']" if order == "mdy"
             else "['%d/%m/%y', '%d/%m/%Y', '%Y/%m/%d']")
    return f"""CASE
        WHEN {col} IS NULL THEN NULL
        WHEN {col} LIKE '____-__-__' THEN TRY_CAST({col} AS DATE)
        WHEN contains({col}, '/') THEN CAST(try_strptime({day}, {slash}) AS DATE)
        WHEN contains({day}, '.') THEN CAST(try_strptime({day}, ['%d.%m.%y', '%d.%m.%Y']) AS DATE)
        WHEN regexp_matches({day}, '^[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}$') THEN TRY_CAST({day} AS DATE)
        END"""


# --------------------------------------------------------------------------- mapping one file


@dataclass
class _File:
    raw: RawTable
    kind: str
    fields: dict[str, str]  # canonical -> header
    source: dict[str, str] = field(default_factory=dict)  # canonical -> inferred | mapping file
    stg: str = ""
    example: Callable[[str, int], str] | None = None  # (field, data row) -> raw text, when not in stg


def _map_file(raw: RawTable, mapping: MappingFile, forced_kind: str | None = None) -> _File:
    """Classify a file and map its headers to canonical fields (mapping file first)."""
    headers = raw.columns
    explicit = {c: h for c in mapping.columns if (h := mapping.column_for(c, raw.path, headers))}
    has_stage = bool({"stage", "status"} & set(explicit)) or any(
        infer_field(h, deals=True) in ("stage", "status") for h in headers)
    deals = has_stage if forced_kind is None else forced_kind == "deals"
    fields: dict[str, str] = {}
    source: dict[str, str] = {}
    notices: list[str] = []
    used = set(explicit.values())
    for h in headers:
        canon = infer_field(h, deals=deals)
        if canon is None or canon in explicit or h in used:
            continue
        if canon in fields:
            notices.append(f"column '{h}' also looks like {canon}; '{fields[canon]}' is used")
            continue
        fields[canon] = h
        source[canon] = "inferred"
    for canon, h in explicit.items():
        fields[canon] = h
        source[canon] = "mapping file"
    kind = forced_kind or _classify(fields)
    fields = {c: h for c, h in fields.items() if c in KIND_FIELDS.get(kind, ())}
    for canon, h in fields.items():
        if h in raw.duplicates and source[canon] == "inferred":
            names = ", ".join(f"'{n}'" for n in raw.duplicates[h])
            raise InputError(f"{raw.path}: header '{h}' appears more than once (now {names}); name the one "
                             f"to use in the mapping file: [columns] {canon} = \"{raw.duplicates[h][-1]}\"")
    raw.report.kind = kind
    raw.report.notices += notices
    return _File(raw, kind, fields, {c: source[c] for c in fields})


def _classify(fields: dict[str, str]) -> str:
    f = set(fields)
    if f & {"stage", "status"}:
        return "deals"
    if {"product", "price"} <= f and not f & {"account", "account_id"}:
        return "products"
    if "owner" in f and f & {"manager", "region"} and not f & {"account", "account_id"}:
        return "teams"
    if f & {"account", "account_id"} and f & set(FIRMOGRAPHIC):
        return "accounts"
    return "unused"


# --------------------------------------------------------------------------- staging one file


def _revenue_factor(con, f: _File, report: IngestReport, mapping: MappingFile, decimal: str = ".", *,
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


def _order_code_sql(c: str) -> str:
    """A small code for a slash date in raw column `c` (NULL for any other value): 1, + 2 if the first part
    is a day above 12, + 4 if the second part is above 12. `_order_counts_sql` sums the codes up."""
    first = f"TRY_CAST(split_part({c}, '/', 1) AS INTEGER)"
    second = f"TRY_CAST(split_part({c}, '/', 2) AS INTEGER)"
    slash = f"contains({c}, '/') AND NOT regexp_matches({c}, '^\\s*[0-9]{{4}}/')"
    return (f"CAST(CASE WHEN {slash} THEN 1 + (CASE WHEN {first} > 12 AND {first} <= 31 THEN 2 ELSE 0 END) + "
            f"(CASE WHEN {second} > 12 THEN 4 ELSE 0 END) END AS UTINYINT)")


def _order_counts_sql(codes: Sequence[str]) -> str:
    """Per code column: (slash dates, first part above 12, second part above 12), what `_decide_orders` reads."""
    return ", ".join(f"count({c}), count(*) FILTER (WHERE {c} & 2 <> 0), count(*) FILTER (WHERE {c} & 4 <> 0)"
                     for c in codes)


def _code_counts(con, f: _File, fields: Sequence[str], code: Callable[[str], str], counts: Callable[[list[str]], str],
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


def _date_orders(con, f: _File, report: IngestReport, table: str | None = None) -> dict[str, str]:
    """'mdy' or 'dmy' per date column, decided from all its slash dates in one scan; ambiguity reported."""
    cols, row = _code_counts(con, f, DATE_FIELDS, _order_code_sql, _order_counts_sql,
                             lambda c: f"contains({c}, '/')", table)
    return _decide_orders(f, cols, row, report)


def _decide_orders(f: _File, cols: list[tuple[str, str]], row: Sequence[int], report: IngestReport
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


def _decimals(con, f: _File, report: IngestReport | None, table: str | None = None) -> dict[str, str]:
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


def _stage(con, f: _File, report: IngestReport, mapping: MappingFile, extras: dict[str, str], idx: int) -> None:
    """Typed, trimmed, canonical columns of one file as stg_<idx>.

    Money and date fields also keep their trimmed text as "raw:<field>" so unparseable values can be
    counted. For the small files (accounts, products, teams, leads), read as text first; the raw table is
    then dropped. Deals take `_stage_deals`.
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
        _report_unparseable(con, f.stg, [f], checked, report)


CHECKED = ("amount", "created", "closed", "won_time", "lost_time", "employees", "revenue", "price")
SAMPLE_ROWS = 20_000  # rows read up front to guess date orders and decimal separators; full counts confirm them


def _deal_select(f: _File, orders: dict[str, str], decimals: dict[str, str], extras: dict[str, str]):
    """SELECT over the checked read_csv (a callable for `CsvSource.load`): typed, trimmed canonical columns.

    Parsed in the same pass as the CSV itself; no all-text copy of the file is kept. Text fields are stored
    as read and trimmed afterwards where needed (`_trim_blanks`): computing a new string per row in the
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
            inner.append(f"{(_order_code_sql if canon in DATE_FIELDS else money_code_sql)(qi(h))} AS {code}")
            mid.append(code)
            outer.append(code)
        else:  # as read (a plain column costs nothing to store); `_trim_blanks` fixes the few that need it
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


def _trim_blanks(con, table: str, cols: list[str]) -> None:
    """`blank_sql` applied in place, one aggregate to find the columns that need it, then only their rows."""
    if not cols:
        return
    counts = con.execute(f"SELECT {', '.join(f'count(*) FILTER (WHERE {needs_trim_sql(c)})' for c in cols)} "
                         f"FROM {table}").fetchone()
    for c, n in zip(cols, counts):
        if n:
            con.execute(f"UPDATE {table} SET {c} = {blank_sql(c)} WHERE {needs_trim_sql(c)}")


def _stage_deals(con, src: CsvSource, f: _File, report: IngestReport, mapping: MappingFile,
                 extras: dict[str, str], idx: int) -> None:
    """The deals fast path: typed table raw_<idx> straight from the CSV, view stg_<idx> over it.

    Same columns and notices as `_stage`, but a view over a typed table. Date orders and decimal separators
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
        aggs = ", ".join(a for a in (_order_counts_sql([qi("o:" + c) for c, _ in cols]),
                                     counts_sql([qi("m:" + c) for c, _ in money], "rowid + 1")) if a)
        found = con.execute(f"SELECT {aggs} FROM {table}").fetchone()
        exact = _decide_orders(f, cols, found[:3 * len(cols)], report)
        counts = DecimalCounts.of(found[3 * len(cols):], len(money))
        exact_decimals = decide_decimals(con, f.raw.path.name, f.raw.report.delimiter, money, counts,
                                         report.value_notices, example)
        if exact != orders or any(n.either and exact_decimals[c] != decimals[c] for (c, _), n in zip(money, counts)):
            del f.raw.report.notices[read_notices:]  # the reload adds the same read notices again
            src.load(con, _deal_select(f, exact, exact_decimals, extras))
    _trim_blanks(con, table, [qi(c) for c in f.fields if c not in MONEY_FIELDS and c not in DATE_FIELDS]
                 + [qi("x:" + x) for x in extras])
    if "revenue" in f.fields:
        factor = _revenue_factor(con, f, report, mapping, parsed=True)
        if factor != 1.0:
            con.execute(f"UPDATE {table} SET revenue = revenue * {factor!r}")
    keep = [qi(r[0]) for r in con.execute(f"DESCRIBE {table}").fetchall()
            if not r[0].startswith(("o:", "m:")) and r[0] != "_bad"]
    # A marker where the value did not parse (what `_union`/`_build_deals` test), the text itself on demand.
    keep += [f"CASE WHEN _bad & {1 << CHECKED.index(c)} <> 0 THEN '' END AS {qi('raw:' + c)}"
             for c in f.fields if c in MONEY_FIELDS or c in DATE_FIELDS]
    f.example = example
    row = "(rowid + 1)"
    ident = (f"COALESCE({qi('deal_id')}, {qs(f.raw.path.stem + ':')} || {row})" if "deal_id" in f.fields
             else f"{qs(f.raw.path.stem + ':')} || {row}")
    f.stg = f"stg_{idx}"
    con.execute(f"CREATE VIEW {f.stg} AS SELECT CAST({row} AS BIGINT) AS _row, {idx} AS _src, "
                f"{', '.join(keep)}, {ident} AS _id FROM {table}")


def _report_unparseable(con, table: str, files: list[_File], checked: list[str], report: IngestReport) -> None:
    """Count rows whose `_bad` bit is set per field, with the first row and its raw text."""
    aggs = []
    for i, _ in enumerate(checked):
        hit = f"_bad & {1 << i} <> 0"
        aggs += [f"count(*) FILTER (WHERE {hit})", f"min(_src * 1000000000000 + _row) FILTER (WHERE {hit})"]
    row = con.execute(f"SELECT {', '.join(aggs)} FROM {table} WHERE _bad <> 0").fetchone()
    by_src = {int(f.stg.split("_")[1]): f for f in files}
    for i, canon in enumerate(checked):
        n, key = row[2 * i: 2 * i + 2]
        if not n:
            continue
        src, first = divmod(int(key), 1_000_000_000_000)
        f = by_src[src]
        example = (f.example(canon, first) if f.example else
                   con.execute(f"SELECT {qi('raw:' + canon)} FROM {f.stg} WHERE _row = ?", [first]).fetchone()[0])
        what = "dates" if canon in DATE_FIELDS else "numbers"
        where = f"{f.raw.path.name}:{f.fields[canon]}" if len(files) == 1 else canon
        at = f"row {first}" if len(files) == 1 else f"{f.raw.path.name} row {first}"
        why = refused_reason(example) if canon in MONEY_FIELDS else ""  # NaN, inf, huge: refused, counted here
        report.value_notices.append(f"{where}: {n} value(s) not readable as {what}, left blank "
                                    f"(first at {at}: '{example}'{why})")


# --------------------------------------------------------------------------- loading


def _read_all(con, paths: Sequence[Path], mapping: MappingFile, report: IngestReport,
              forced_kind: str | None = None) -> list[_File]:
    files = []
    for i, p in enumerate(paths):
        raw = read_table(con, Path(p), f"raw_{i}")
        report.files.append(raw.report)
        files.append(_map_file(raw, mapping, forced_kind))
    return files


def _resolve_extras(files: list[_File], extra_dimensions: Sequence[str], reserved: set[str], *,
                    missing_ok: bool = False) -> tuple[dict[int, dict[str, str]], list[str]]:
    """extra name -> header per file index (first file holding it, by kind order); names kept.

    `missing_ok`: a name no file holds is skipped (a leads file scored on the history's dimensions)."""
    per_file: dict[int, dict[str, str]] = {i: {} for i in range(len(files))}
    names: list[str] = []
    order = {"deals": 0, "leads": 0, "accounts": 1, "products": 2, "teams": 3}
    for extra in extra_dimensions:
        if extra.lower() in reserved:
            continue  # already a canonical column
        holders = [(order.get(f.kind, 9), i, h) for i, f in enumerate(files) if f.kind in order
                   for h in f.raw.columns if h.lower() == extra.lower()]
        if not holders and missing_ok:
            continue
        if not holders:
            where = ", ".join(f.raw.path.name for f in files)
            raise UsageError(f"dimension '{extra}': no column of that name in {where}")
        _, i, h = min(holders)
        per_file[i][h] = h
        if h not in names:
            names.append(h)
    return per_file, names


def _union(con, name: str, files: list[_File], fields: Sequence[str], extras: Sequence[str], *,
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


def _alias_sql(col: str, aliases: dict[str, str] | None) -> str:
    if not aliases:
        return col
    whens = " ".join(f"WHEN {qs(k)} THEN {qs(v)}" for k, v in aliases.items())
    return f"(CASE {col} {whens} ELSE {col} END)"


def _dedupe(con, table: str, key: str, label: str, report: IngestReport) -> None:
    """Keep the first row per join key, so a join never multiplies deals; report the rest."""
    dup, examples = con.execute(
        f"SELECT count(*) - count(DISTINCT {key}), list(DISTINCT {key}) FILTER (WHERE {key} IN "
        f"(SELECT {key} FROM {table} GROUP BY 1 HAVING count(*) > 1)) FROM {table} WHERE {key} IS NOT NULL"
    ).fetchone()
    if dup:
        report.value_notices.append(f"{label}: {dup} row(s) repeat a key already seen (e.g. "
                                    f"{', '.join(repr(e) for e in sorted(examples)[:EXAMPLES])}); the first row is used")
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table} "
                    f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY _src, _row) = 1 OR {key} IS NULL")


def _unmatched(con, report: IngestReport, join: str, key: str, other: str) -> None:
    """Deal keys (grouped first: cheap on a million rows) that find no row in the small table `other`."""
    n, distinct, examples = con.execute(f"""
        WITH g AS (SELECT {key} AS k, count(*) AS c FROM d WHERE {key} IS NOT NULL GROUP BY 1),
             miss AS (SELECT k, c FROM g WHERE lower(k) NOT IN (SELECT _k FROM {other} WHERE _k IS NOT NULL))
        SELECT sum(c), count(*), (SELECT list(k ORDER BY c DESC, k)[1:{EXAMPLES}] FROM miss) FROM miss""").fetchone()
    if n:
        report.unmatched.append(UnmatchedKeys(join=join, count=int(n), distinct=distinct, examples=examples or []))


# DuckDB's default memory limit is 80% of RAM, and it keeps freed buffers cached up to it: on a million
# deals (bench/bench_analyze.py) that showed as ~440 MB peak RSS, ~365 MB with this cap. The cap grows
# with the input (floor MEMORY_FLOOR); above it DuckDB spills to a private temp directory, which it
# removes on close (never the default `.tmp` in the user's working directory).
MEMORY_FLOOR = 300 * 2**20
MEMORY_PER_INPUT_BYTE = 4


def _connect(paths: Sequence[Path]) -> "duckdb.DuckDBPyConnection":
    """An in-memory connection with a memory limit sized to the input files."""
    import os
    import tempfile
    import uuid

    import duckdb

    size = sum(Path(p).stat().st_size for p in paths if Path(p).is_file())
    limit = max(MEMORY_FLOOR, MEMORY_PER_INPUT_BYTE * size)
    spill = Path(tempfile.gettempdir()) / f"pa-duckdb-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    return duckdb.connect(config={"memory_limit": f"{limit // 2**20}MB", "temp_directory": str(spill)})


def load_crm(paths: Sequence[Path], *, mapping_file: Path | None = None,
             extra_dimensions: Sequence[str] = (), all_columns: bool = False) -> CrmData:
    """Load CRM export files into table `deals` (columns: DEAL_COLUMNS + extras); see the module docstring.

    `all_columns`: every column no canonical field took (of the deals, accounts, products and teams files)
    comes along as an extra under its header, for `analysis.columns` to profile as a candidate dimension.
    """
    if not paths:
        raise UsageError("no CRM files given (put CSV/XLSX exports in the workspace's crm/ folder)")
    mapping = load_mapping(mapping_file)
    report = IngestReport()
    con = _connect(paths)
    sources: list[CsvSource] = []
    workdir = None
    try:
        if mapping.funnel is not None:  # a leads file + a deals file: joined first (ingest/funnel.py)
            import tempfile

            from persona_assistant.ingest.funnel import join_funnel

            workdir = tempfile.TemporaryDirectory(prefix="pa-funnel-")
            paths, mapping = join_funnel(con, paths, mapping, report, Path(workdir.name))
        for i, p in enumerate(paths):  # sniff and map every file first: extras are resolved across files
            sources.append(open_csv(Path(p), f"raw_{i}"))
            report.files.append(sources[-1].raw.report)
            if workdir is not None and Path(p).parent == Path(workdir.name):  # not a path the user has
                sources[-1].raw.report.path = f"{Path(p).name} (the [funnel] join)"
        files = [_map_file(s.raw, mapping) for s in sources]
        if all_columns:
            used = [set(f.fields.values()) for f in files]
            extra_dimensions = [*extra_dimensions, *(h for f, u in zip(files, used) if f.kind in KIND_FIELDS
                                                     for h in f.raw.columns if h not in u)]
        return _load_crm(con, sources, files, mapping, report, extra_dimensions)
    finally:
        for s in sources:
            s.close()
        if workdir is not None:
            workdir.cleanup()


def _load_crm(con, sources: list[CsvSource], files: list[_File], mapping: MappingFile, report: IngestReport,
              extra_dimensions: Sequence[str]) -> CrmData:
    by_kind = {k: [f for f in files if f.kind == k] for k in ("deals", "accounts", "products", "teams")}
    if not by_kind["deals"]:
        for src in sources:  # a file that cannot be read is the more useful message
            src.load(con)
        kinds = ", ".join(f"{f.raw.path.name} ({f.kind})" for f in files)
        raise InputError(f"no deals file among {kinds}: a deals export needs a stage or status column "
                         "(or name it in the mapping file: [columns] stage = \"...\")")
    reserved = {c for c, _ in DEAL_COLUMNS}
    per_file, extras = _resolve_extras(files, extra_dimensions, reserved)
    _record_mapping(files, report, per_file)
    for i, f in enumerate(files):
        if f.kind == "deals":
            _stage_deals(con, sources[i], f, report, mapping, per_file[i], i)
            continue
        sources[i].load(con)
        if f.kind == "unused":
            con.execute(f"DROP TABLE {qi(f.raw.name)}")
            f.raw.report.notices.append("not used: no deals, accounts, products or sales-team columns recognised")
            continue
        _stage(con, f, report, mapping, per_file[i], i)

    def extras_of(kind: str) -> list[str]:
        return [x for i, f in enumerate(files) if f.kind == kind for x in per_file[i]]

    _union(con, "d", by_kind["deals"], KIND_FIELDS["deals"], extras_of("deals"), view=True)
    has_acc = _union(con, "a", by_kind["accounts"], KIND_FIELDS["accounts"], extras_of("accounts"))
    has_prod = _union(con, "p", by_kind["products"], KIND_FIELDS["products"], extras_of("products"))
    has_team = _union(con, "t", by_kind["teams"], KIND_FIELDS["teams"], extras_of("teams"))
    _build_deals(con, report, mapping, extras, per_file, files, has_acc, has_prod, has_team)
    for f in by_kind["deals"]:
        con.execute(f"DROP VIEW {f.stg}; DROP TABLE {qi(f.raw.name)}")
    dims = _dimensions(con, "deals", extras)
    _near_duplicates(con, "deals", report)
    return CrmData(con, report, dims)


def _record_mapping(files: list[_File], report: IngestReport, per_file: dict[int, dict[str, str]]) -> None:
    for i, f in enumerate(files):
        for canon, h in f.fields.items():
            where = f"{f.raw.path.name}:{h}"
            report.mapping[canon] = f"{report.mapping[canon]}, {where}" if canon in report.mapping else where
            if report.mapping_source.get(canon) != "mapping file":
                report.mapping_source[canon] = f.source[canon]
        used = set(f.fields.values()) | set(per_file.get(i, {}))
        report.unmapped_columns += [f"{f.raw.path.name}:{h}" for h in f.raw.columns if h not in used]


def _build_deals(con, report: IngestReport, mapping: MappingFile, extras: list[str],
                 per_file: dict[int, dict[str, str]], files: list[_File],
                 has_acc: bool, has_prod: bool, has_team: bool) -> None:
    """One CREATE TABLE over the deals view and the small joined tables; the checks group first."""
    deal_files = [f for f in files if f.kind == "deals"]
    acc_by_id = has_acc and any("account_id" in f.fields for f in deal_files) and _any(con, "a", "account_id")
    akey = "account_id" if acc_by_id else "account"
    dkey = _alias_sql(f"d.{akey}", mapping.aliases.get(akey))
    product = _alias_sql("d.product", mapping.aliases.get("product"))
    owner = _alias_sql("d.owner", mapping.aliases.get("owner"))
    src = "COALESCE(d.status, d.stage)"  # what the outcome is read from (Pipedrive: status)

    # ---- stages -> outcome via a small table from the DISTINCT raw names; blank accounts; forecast dates
    groups = con.execute(f"""SELECT {src}, count(*), count(*) FILTER (WHERE {dkey} IS NULL),
            min(d._id, {EXAMPLES}) FILTER (WHERE {dkey} IS NULL), count(d.closed)
        FROM d GROUP BY 1""").fetchall()
    outcome_of = {name: stage_outcome(name, mapping.stages) for name, *_ in groups if name is not None}
    con.execute("CREATE TABLE stage_map (name VARCHAR, outcome VARCHAR)")
    if outcome_of:
        con.executemany("INSERT INTO stage_map VALUES (?, ?)", list(outcome_of.items()))
    unmapped = sorted(((n, c) for n, c, *_ in groups if n is not None and outcome_of[n] is None),
                      key=lambda x: (-x[1], x[0]))
    if unmapped:
        report.unmapped_stages = dict(unmapped)
        report.value_notices.append(
            f"{sum(c for _, c in unmapped)} deal(s) have stage names with no known outcome "
            f"({', '.join(repr(n) for n, _ in unmapped[:EXAMPLES])}): outcome left blank; map them "
            "in the mapping file [stages]")
    blank_stage = sum(c for n, c, *_ in groups if n is None)
    if blank_stage:
        report.value_notices.append(f"{blank_stage} deal(s) have a blank stage: outcome left blank")
    has_account = any(k in f.fields for f in deal_files for k in ("account", "account_id"))
    blank = sum(g[2] for g in groups)
    if blank and has_account:
        blank_open = sum(g[2] for g in groups if g[0] is not None and outcome_of[g[0]] == "open")
        ids = sorted(i for g in groups for i in (g[3] or []))[:EXAMPLES]
        report.unmatched.append(UnmatchedKeys(join=f"deals.{akey} blank", count=blank, distinct=0, examples=ids))
        report.value_notices.append(f"{blank} deal(s) have a blank account ({blank_open} of them open): kept, "
                                    "with blank firmographics")
    forecast = sum(g[4] for g in groups if g[0] is not None and outcome_of[g[0]] == "open")
    if forecast:
        report.value_notices.append(f"{forecast} open deal(s) carry a close date (an expected date): "
                                    "closed and cycle_days left blank for them")

    # ---- the small tables, keyed; what does not join. `parts`: the sources a column is COALESCEd from.
    joins = ["LEFT JOIN stage_map sm ON sm.name = " + src]
    in_deals = {c for f in deal_files for c in f.fields}  # a field no deals file has is a NULL in `d`: skip it
    parts: dict[str, list[tuple[str, str]]] = {c: [("d", f"d.{qi(c)}")] if c in in_deals else []
                                               for c in KIND_FIELDS["deals"]}
    if has_acc:
        con.execute(f"ALTER TABLE a ADD COLUMN _k VARCHAR; UPDATE a SET _k = lower({akey})")
        _dedupe(con, "a", "_k", "accounts", report)
        joins.append(f"LEFT JOIN a ON a._k = lower({dkey})")
        for c in KIND_FIELDS["accounts"]:
            if c != "account_id":
                parts[c].append(("a", f"a.{qi(c)}"))
        _unmatched(con, report, f"deals.{akey} -> accounts.{akey}", dkey, "a")
    parts["product"] = [("d", product)] if "product" in in_deals else []
    if has_prod:
        con.execute("ALTER TABLE p ADD COLUMN _k VARCHAR; UPDATE p SET _k = lower(product)")
        _dedupe(con, "p", "_k", "products", report)
        joins.append(f"LEFT JOIN p ON p._k = lower({product})")
        _unmatched(con, report, "deals.product -> products.product", product, "p")
    if has_team:
        con.execute("ALTER TABLE t ADD COLUMN _k VARCHAR; UPDATE t SET _k = lower(owner)")
        _dedupe(con, "t", "_k", "sales teams", report)
        joins.append(f"LEFT JOIN t ON t._k = lower({owner})")
        parts["region"].append(("t", "t.region"))
        _unmatched(con, report, "deals.owner -> sales_teams.owner", owner, "t")
    for key, aliases in mapping.aliases.items():
        report.value_notices.append(f"{len(aliases)} {key} alias(es) from the mapping file applied before joining")
    for x in extras:
        parts["x:" + x] = [(alias, f"{alias}.{qi('x:' + x)}") for alias, kind, ok in
                           (("d", "deals", True), ("a", "accounts", has_acc), ("p", "products", has_prod),
                            ("t", "teams", has_team))
                           if ok and any(f.kind == kind and x in per_file[i] for i, f in enumerate(files))]
    parts["stage"] = [("d", f"d.{c}") for c in ("stage", "status") if c in in_deals]
    if len(parts["stage"]) > 1:
        parts["stage"] = [("d", "COALESCE(d.stage, d.status)")]
    pick = {c: f"COALESCE({', '.join(e for _, e in srcs)})" if len(srcs) > 1 else srcs[0][1] if srcs else "NULL"
            for c, srcs in parts.items()}

    types = _category_types(con, {c: parts[c] for c in (*CATEGORY_COLUMNS, *("x:" + x for x in extras))})
    # Small-table categories, and the bands of account figures, are coded once per row of the small
    # table (one rewrite each), not once per deal.
    band_of = {"employees": ("employee_band", EMPLOYEE_BANDS), "revenue": ("revenue_band", REVENUE_BANDS)}
    for rel, ok in (("a", has_acc), ("p", has_prod), ("t", has_team)):
        cast = [f"CAST({e} AS {types[c]}) AS {e.split('.', 1)[1]}" for c, srcs in parts.items() if c in types
                for r, e in srcs if r == rel]
        added = [f"CAST({band_sql(qi(f), bands)} AS {types[col]}) AS _{col}"
                 for f, (col, bands) in band_of.items()] if rel == "a" else []
        if ok and (cast or added):
            replace = f" REPLACE ({', '.join(cast)})" if cast else ""
            con.execute(f"CREATE OR REPLACE TABLE {rel} AS SELECT *{replace}{''.join(', ' + x for x in added)} "
                        f"FROM {rel}")

    def band(field: str) -> str:
        col, bands = band_of[field]
        return f"a._{col}" if parts[field] == [("a", f"a.{qi(field)}")] else band_sql(pick[field], bands)

    # ---- the table, in one pass; hidden _src/_row/_bad only for the checks below, then dropped
    checked = [c for c in ("amount", "created", "closed", "won_time", "lost_time")
               if any(c in f.fields for f in deal_files)]
    bad = " | ".join(f"(CASE WHEN d.{qi('raw:' + c)} IS NOT NULL AND d.{qi(c)} IS NULL THEN {1 << i} ELSE 0 END)"
                     for i, c in enumerate(checked)) or "0"
    closed = f"COALESCE(d.closed, CASE sm.outcome WHEN 'won' THEN d.won_time WHEN 'lost' THEN d.lost_time END)"
    closed = f"(CASE WHEN sm.outcome = 'open' THEN NULL ELSE {closed} END)"
    special = {
        "deal_id": "d._id", "account": pick["account"], "stage": pick["stage"],
        "outcome": "sm.outcome", "closed": closed,
        "cycle_days": f"CASE WHEN {closed} >= d.created THEN CAST(date_diff('day', d.created, {closed}) AS INTEGER) END",
        "employee_band": band("employees"), "revenue_band": band("revenue"),
        **{c: pick[c] for c in ("amount", "created", "industry", "employees", "revenue", "region", "country",
                                "product", "lead_source", "owner", "technologies")},
    }
    select = ", ".join(f"CAST({special[name]} AS {types.get(name, typ)}) AS {qi(name)}" for name, typ in DEAL_COLUMNS)
    # Row order carries no meaning in `deals` (every consumer aggregates); not preserving it lets DuckDB
    # write the table in parallel with less memory.
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"""CREATE TABLE deals AS SELECT {select}
        {''.join(f", CAST({pick['x:' + x]} AS {types.get('x:' + x, 'VARCHAR')}) AS {qi(x)}" for x in extras)}, d._src AS _src, d._row AS _row, {bad} AS _bad
        FROM d {' '.join(joins)}""")
    con.execute("RESET preserve_insertion_order")
    if checked:
        _report_unparseable(con, "deals", deal_files, checked, report)
    neg = con.execute("SELECT count(*), min(deal_id) FROM deals WHERE closed < created").fetchone()
    if neg[0]:
        report.value_notices.append(f"{neg[0]} deal(s) close before they were created: cycle_days left blank "
                                    f"(e.g. deal {neg[1]})")
    con.execute("ALTER TABLE deals DROP COLUMN _src; ALTER TABLE deals DROP COLUMN _row; "
                "ALTER TABLE deals DROP COLUMN _bad")
    for t in ("a", "p", "t", "stage_map"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    con.execute("DROP VIEW d")


def _category_types(con, sources: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    """SQL type per category column of `deals`: an ENUM of the values its sources hold, else VARCHAR.

    Why: a million-deal table then stores a category as a 1-2 byte code instead of a string, which
    makes building the table about twice and grouping it several times as fast (bench/bench_analyze.py).
    Values are ordered by code point, DuckDB's VARCHAR order, so ORDER BY and min/max read as on text;
    a comparison with a string that is not a value is simply false. `sources`: column -> (relation, SQL
    expression) pairs over the relations d, a, p, t (one GROUPING SETS scan each). A column with more
    than ENUM_MAX values stays VARCHAR. Outcome and band columns have fixed value sets.
    """
    by_relation: dict[str, list[str]] = {}
    for expressions in sources.values():
        for rel, e in expressions:
            if e not in by_relation.setdefault(rel, []):
                by_relation[rel].append(e)
    found: dict[str, list[str] | None] = {}
    for rel, expressions in by_relation.items():
        cols = [f"CAST({e} AS VARCHAR) AS c{i}" for i, e in enumerate(expressions)]
        sets = ", ".join(f"(c{i})" for i in range(len(expressions)))
        value = [f"g{i} = 0 AND c{i} IS NOT NULL" for i in range(len(expressions))]
        counts = ", ".join(f"count(*) FILTER (WHERE {v}) OVER () AS n{i}" for i, v in enumerate(value))
        # the value count first, so a column over ENUM_MAX never has its values gathered into a list
        lists = ", ".join(f"list(c{i}) FILTER (WHERE {v} AND n{i} <= {ENUM_MAX})" for i, v in enumerate(value))
        flags = ", ".join(f"GROUPING(c{i}) AS g{i}" for i in range(len(expressions)))
        row = con.execute(f"""WITH s AS (SELECT {', '.join(cols)} FROM {rel}),
            g AS (SELECT *, {flags} FROM s GROUP BY GROUPING SETS ({sets})),
            w AS (SELECT *, {counts} FROM g)
            SELECT {lists} FROM w""").fetchone()
        found.update(zip(expressions, row))
    types = {"outcome": _enum(con, "outcome", ["won", "lost", "open"])}
    for band, labels in (("employee_band", EMPLOYEE_BANDS), ("revenue_band", REVENUE_BANDS)):
        types[band] = _enum(con, band, [label for _, label in labels])
    for column, expressions in sources.items():
        values = [found[e] for _, e in expressions]
        if values and all(v is not None for v in values):
            merged = {v for vs in values for v in vs}
            if len(merged) <= ENUM_MAX:
                types[column] = _enum(con, column, merged)
    return types


def _enum(con, column: str, values) -> str:
    """CREATE an ENUM type of `values` (sorted by code point); returns its name."""
    name = unique_name(f"pa_{re.sub(r'[^0-9a-z]+', '_', column.lower())}")
    con.execute(f"CREATE TYPE {name} AS ENUM (SELECT unnest(?::VARCHAR[]))", [sorted(set(values))])
    return name


def _final_columns(columns: Sequence[tuple[str, str]], special: dict[str, str]) -> str:
    parts = []
    for name, typ in columns:
        if name in special:
            parts.append(f"{special[name]} AS {name}")
        elif name == "employee_band":
            parts.append(f"{band_sql('employees', EMPLOYEE_BANDS)} AS employee_band")
        elif name == "revenue_band":
            parts.append(f"{band_sql('revenue', REVENUE_BANDS)} AS revenue_band")
        else:
            parts.append(f"CAST({qi(name)} AS {typ}) AS {qi(name)}")
    return ", ".join(parts)


def _any(con, table: str, col: str) -> bool:
    return con.execute(f"SELECT count({qi(col)}) FROM {table}").fetchone()[0] > 0


def _dimensions(con, table: str, extras: Sequence[str]) -> list[str]:
    """BASE_DIMENSIONS then extras, only those with at least one value."""
    names = list(BASE_DIMENSIONS) + list(extras)
    counts = con.execute(f"SELECT {', '.join(f'count({qi(n)})' for n in names)} FROM {table}").fetchone()
    return [n for n, c in zip(names, counts) if c]


def _near_duplicates(con, table: str, report: IngestReport, limit: int = 500) -> None:
    """Report values that look like typos of another value (or a common industry name); keep them as they are."""
    for col in TYPO_FIELDS:
        rows = con.execute(f"SELECT {col}, count(*) FROM {table} WHERE {col} IS NOT NULL GROUP BY 1 "
                           f"ORDER BY 2 DESC, 1 LIMIT {limit + 1}").fetchall()
        if not rows or len(rows) > limit:
            continue
        for value, count, target in near_duplicates(rows, INDUSTRY_VOCABULARY if col == "industry" else ()):
            report.value_notices.append(f"{col}: '{value}' ({count} rows) looks like '{target}'; kept as it is "
                                        "(fix it in the export to merge them)")


def _words(value: str) -> str:
    """Comparison key: lower case, punctuation and underscores as single spaces."""
    return " ".join(re.split(r"[^0-9a-z]+", value.lower())).strip()


TYPO_COUNT_RATIO = 20  # a typo hint needs the look-alike to be this many times as common
TYPO_MAX_EDITS = 2


def edit_distance(a: str, b: str, limit: int = TYPO_MAX_EDITS) -> int:
    """Levenshtein distance, cut short at `limit` + 1 (only "at most `limit`" matters here)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def near_duplicates(counts: Sequence[tuple[str, int]], vocabulary: Sequence[str] = (), cutoff: float = 0.85
                    ) -> list[tuple[str, int, str]]:
    """(value, rows, look-alike) for values that are probably misspellings or spelling variants: equal to a
    more frequent value but for case and punctuation; a rare value within TYPO_MAX_EDITS edits of one at
    least TYPO_COUNT_RATIO times as common (two large values, 'Southwest' and 'Southeast', are both real);
    or close to but not equal to a vocabulary word."""
    vocab = {_words(w) for w in vocabulary}
    found = []
    for value, count in counts:
        key = _words(value)
        others = [o for o, c in counts if o != value and (c, o) > (count, value)]
        keys = {_words(o): o for o in reversed(others)}
        if key in keys:
            found.append((value, count, keys[key]))
            continue
        common = [(c, o) for o, c in counts if c >= TYPO_COUNT_RATIO * count
                  and edit_distance(key, _words(o)) <= TYPO_MAX_EDITS]
        if common:
            found.append((value, count, max(common)[1]))
            continue
        if key not in vocab:
            close = difflib.get_close_matches(key, sorted(vocab), n=1, cutoff=cutoff)
            if close:
                found.append((value, count, close[0]))
    return found


# --------------------------------------------------------------------------- leads


def load_leads(path: Path, *, mapping_file: Path | None = None,
               extra_dimensions: Sequence[str] = ()) -> CrmData:
    """Load one accounts/contacts file to score into table `leads` (LEAD_COLUMNS + extras).

    An extra dimension the file does not have is skipped: the leads are scored on what they hold."""
    mapping = load_mapping(mapping_file)
    report = IngestReport()
    con = _connect([path])
    (f,) = _read_all(con, [path], mapping, report, forced_kind="leads")
    reserved = {c for c, _ in LEAD_COLUMNS}
    per_file, extras = _resolve_extras([f], extra_dimensions, reserved, missing_ok=True)
    _record_mapping([f], report, per_file)
    _stage(con, f, report, mapping, per_file[0], 0)
    have = {r[0] for r in con.execute(f"DESCRIBE {f.stg}").fetchall()}

    def col(c: str, typ: str = "VARCHAR") -> str:
        return qi(c) if c in have else f"CAST(NULL AS {typ})"

    name = (f"COALESCE({col('contact_name')}, NULLIF(concat_ws(' ', {col('first_name')}, {col('last_name')}), ''))")
    con.execute(f"""CREATE TABLE l AS SELECT _row AS row_number, {col('account')} AS account,
        {col('industry')} AS industry, {col('employees', 'DOUBLE')} AS employees,
        {col('revenue', 'DOUBLE')} AS revenue, {col('region')} AS region, {col('country')} AS country,
        {col('product')} AS product, {col('lead_source')} AS lead_source, {col('technologies')} AS technologies,
        {col('title')} AS title, {name} AS contact_name, {col('email')} AS email, {col('phone')} AS phone
        {''.join(f", {qi('x:' + x)} AS {qi(x)}" for x in extras)} FROM {f.stg}""")
    con.execute(f"DROP TABLE {f.stg}")
    select = _final_columns(LEAD_COLUMNS, {})
    con.execute(f"CREATE TABLE leads AS SELECT {select}{''.join(', ' + qi(x) for x in extras)} "
                "FROM l ORDER BY row_number")
    con.execute("DROP TABLE l")
    dims = _dimensions(con, "leads", extras)
    _near_duplicates(con, "leads", report)
    return CrmData(con, report, dims)
