"""SQL value parsing for CRM columns: blanks, dates, slash-date order codes, aliases.

Design: pure functions that return SQL text over a column expression; nothing here runs a query
except `trim_blanks`, which applies `blank_sql` in place. Which canonical fields are parsed as money
(`ingest.numbers`) or as dates is decided here (`MONEY_FIELDS`, `DATE_FIELDS`), once for staging,
the deals build and the quality notices.
"""

from __future__ import annotations

from typing import Sequence

from persona_assistant.ingest.sqlnames import quote_str as qs

MONEY_FIELDS = ("amount", "employees", "revenue", "price")
DATE_FIELDS = ("created", "closed", "won_time", "lost_time")


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


def order_code_sql(c: str) -> str:
    """A small code for a slash date in raw column `c` (NULL for any other value): 1, + 2 if the first part
    is a day above 12, + 4 if the second part is above 12. `order_counts_sql` sums the codes up."""
    first = f"TRY_CAST(split_part({c}, '/', 1) AS INTEGER)"
    second = f"TRY_CAST(split_part({c}, '/', 2) AS INTEGER)"
    slash = f"contains({c}, '/') AND NOT regexp_matches({c}, '^\\s*[0-9]{{4}}/')"
    return (f"CAST(CASE WHEN {slash} THEN 1 + (CASE WHEN {first} > 12 AND {first} <= 31 THEN 2 ELSE 0 END) + "
            f"(CASE WHEN {second} > 12 THEN 4 ELSE 0 END) END AS UTINYINT)")


def order_counts_sql(codes: Sequence[str]) -> str:
    """Per code column: (slash dates, first part above 12, second part above 12), as `staging.decide_orders`
    reads them."""
    return ", ".join(f"count({c}), count(*) FILTER (WHERE {c} & 2 <> 0), count(*) FILTER (WHERE {c} & 4 <> 0)"
                     for c in codes)


def trim_blanks(con, table: str, cols: list[str]) -> None:
    """`blank_sql` applied in place, one aggregate to find the columns that need it, then only their rows."""
    if not cols:
        return
    counts = con.execute(f"SELECT {', '.join(f'count(*) FILTER (WHERE {needs_trim_sql(c)})' for c in cols)} "
                         f"FROM {table}").fetchone()
    for c, n in zip(cols, counts):
        if n:
            con.execute(f"UPDATE {table} SET {c} = {blank_sql(c)} WHERE {needs_trim_sql(c)}")


def alias_sql(col: str, aliases: dict[str, str] | None) -> str:
    """`col` with the mapping file's aliases applied (raw value -> the name the other file uses)."""
    if not aliases:
        return col
    whens = " ".join(f"WHEN {qs(k)} THEN {qs(v)}" for k, v in aliases.items())
    return f"(CASE {col} {whens} ELSE {col} END)"
