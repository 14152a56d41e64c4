"""Money and number strings as DuckDB SQL, and the decimal separator of a column decided from all its values.

A value such as `1,200.50`, `1.200,50 €`, `1 200,50`, `1,234,567` or `12,5` reads one way only. A value
with one separator, 1-3 digits before it and 3 after (`12.500`, `1,200`) reads two ways: thousands or
decimals. Those take the column's decimal separator, decided from every value of the column
(`money_code_sql` gives each value a code, `counts_sql` counts them, `decide_decimals` decides):

- the separator the column's unambiguous values show (a `1.200,50` makes `12.500` twelve thousand
  five hundred); the majority when they mix (reported: each mixed value still reads by its own form);
- when only ambiguous values hold a separator: ',' for a `;`-delimited file (the European habit), else
  '.', reported as ambiguous with the reading chosen.

NaN, inf and values of MONEY_MAX or more in size are refused: NULL, which ingestion counts among the
values not readable as numbers (the row is kept, the value left blank). The policy lives here alone;
`ingest.crm` runs the SQL and places the notices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

# No deal, headcount or revenue is this large, and sums over millions of rows stay finite below it.
MONEY_MAX = 1e15
# One separator, 1-3 digits before it and 3 after: thousands or decimals alike (RE2 and Python syntax).
AMBIGUOUS = "[-+]?[1-9][0-9]{0,2}[.,][0-9]{3}"
# The patterns read at most 15 integer digits, so what they match is below MONEY_MAX and finite.
_US = "[-+]?[1-9][0-9]{0,2}(,[0-9]{3}){1,4}(\\.[0-9]+)?"  # 1,200.50 1,234,567 (and 1,200)
_EU = "[-+]?[1-9][0-9]{0,2}(\\.[0-9]{3}){1,4}(,[0-9]+)?"  # 1.200,50 1.234.567 (and 12.500)
_COMMA = "[-+]?[0-9]{1,15},[0-9]+"  # 1,5 1234,50 0,500 (and 1,200)
_PLAIN = "[-+]?[0-9]{1,15}(\\.[0-9]+)?"  # 1200 12.5 0.500 (and 12.500)
# What an unambiguous value says: a decimal comma (1.200,50 12,5 1.234.567) or point (1,200.50 12.5 1,234,567).
_SAYS_COMMA = "[-+]?(([1-9][0-9]{0,2}(\\.[0-9]{3})*|[0-9]*),[0-9]+|[1-9][0-9]{0,2}(\\.[0-9]{3}){2,})"
_SAYS_POINT = "[-+]?(([1-9][0-9]{0,2}(,[0-9]{3})*|[0-9]*)\\.[0-9]+|[1-9][0-9]{0,2}(,[0-9]{3}){2,})"
COMMA, POINT, EITHER = 1, 2, 4  # the codes of `money_code_sql`


def money_sql(col: str, decimal: str = ".") -> str:
    """A DOUBLE from the money/number string `col` (NULL when it reads as none, or as NaN, inf or a
    value of MONEY_MAX or more in size). `decimal` is the column's decimal separator, which only decides
    the ambiguous values: with "." `12.500` is 12.5 and `1,200` 1200, with "," 12500 and 1.2.

    Plain numbers take the fast TRY_CAST (in a "," column only those without a '.'); the rest goes
    through the patterns, the first that matches reading the value.
    """
    t = (f"regexp_replace(regexp_replace({col}, '[\\s\\x{{00A0}}\\x{{202F}}$€£¥'']', '', 'g'), "
         f"'^(USD|EUR|GBP|CHF|CAD|AUD)|(USD|EUR|GBP|CHF|CAD|AUD)$', '', 'gi')")
    rules = {"us": (_US, f"replace({t}, ',', '')"), "eu": (_EU, f"replace(replace({t}, '.', ''), ',', '.')"),
             "comma": (_COMMA, f"replace({t}, ',', '.')"), "plain": (_PLAIN, t)}
    order = ("us", "plain", "eu", "comma") if decimal == "." else ("eu", "comma", "us", "plain")
    # TRY_CAST also reads NaN, inf, 1e400 and 1e20: the size test refuses them (abs(NaN) < x is false in
    # DuckDB); the patterns cannot match them. Only the cheap cast is repeated: guarding the whole
    # expression would run the patterns twice.
    cast = f"TRY_CAST({col} AS DOUBLE)"
    sized = f"abs({cast}) < {MONEY_MAX!r}"
    fast = f"CASE WHEN {sized} THEN {cast} END" if decimal == "." else \
        f"CASE WHEN NOT contains({col}, '.') AND {sized} THEN {cast} END"
    whens = " ".join(f"WHEN regexp_full_match({t}, '{rules[r][0]}') THEN TRY_CAST({rules[r][1]} AS DOUBLE)"
                     for r in order)
    return f"(CASE WHEN {col} IS NULL THEN NULL ELSE COALESCE({fast}, CASE {whens} END) END)"


def money_code_sql(col: str) -> str:
    """What the value in `col` says about its column's decimal separator: NULL without a '.' or ',';
    COMMA, POINT, EITHER (ambiguous), or 0 (not a number of either form)."""
    s = f"regexp_replace({col}, '[^0-9.,+-]', '', 'g')"
    return (f"CAST(CASE WHEN contains({col}, '.') OR contains({col}, ',') THEN (CASE "
            f"WHEN regexp_full_match({s}, '{AMBIGUOUS}') THEN {EITHER} "
            f"WHEN regexp_full_match({s}, '{_SAYS_COMMA}') THEN {COMMA} "
            f"WHEN regexp_full_match({s}, '{_SAYS_POINT}') THEN {POINT} ELSE 0 END) END AS UTINYINT)")


def counts_sql(codes: Sequence[str], row: str = "NULL") -> str:
    """Per code column: (decimal commas, decimal points, ambiguous, first ambiguous `row`), what
    `DecimalCounts.of` reads."""
    return ", ".join(f"count(*) FILTER (WHERE {c} = {COMMA}), count(*) FILTER (WHERE {c} = {POINT}), "
                     f"count(*) FILTER (WHERE {c} = {EITHER}), min({row}) FILTER (WHERE {c} = {EITHER})"
                     for c in codes)


@dataclass(frozen=True)
class DecimalCounts:
    comma: int
    point: int
    either: int
    first: int | None  # data row of the first ambiguous value

    @classmethod
    def of(cls, row: Sequence, n: int) -> list["DecimalCounts"]:
        """The counts of `n` columns from one row of `counts_sql`."""
        return [cls(*row[4 * i: 4 * i + 4]) for i in range(n)]


def decide_decimal(counts: DecimalCounts, delimiter: str) -> str:
    """',' or '.': what the unambiguous values show (their majority), else the file's habit."""
    if counts.comma != counts.point:
        return "," if counts.comma > counts.point else "."
    return "," if delimiter == ";" else "."


def decide_decimals(con, file_name: str, delimiter: str, cols: Sequence[tuple[str, str]],
                    counts: Sequence[DecimalCounts], notices: list[str] | None,
                    example: Callable[[str, int], str]) -> dict[str, str]:
    """',' or '.' per (field, header) in `cols` from its counts; when `notices` is given, the notice of a
    mixed or ambiguous column goes there, with its first ambiguous value (`example(field, data row)`)
    and what that was read as (asked of DuckDB on `con`, so the notice shows what `money_sql` does)."""
    decimals = {}
    for (field, header), c in zip(cols, counts):
        decimals[field] = decimal = decide_decimal(c, delimiter)
        if notices is None:
            continue
        text = example(field, c.first) if c.either else None
        reading = None if text is None else con.execute(
            f"SELECT {money_sql('v', decimal)} FROM (SELECT ?::VARCHAR AS v)", [text]).fetchone()[0]
        notice = decimal_notice(f"{file_name}:{header}", c, decimal, delimiter, text, reading)
        if notice:
            notices.append(notice)
    return decimals


def decimal_notice(label: str, counts: DecimalCounts, decimal: str, delimiter: str, example: str | None,
                   reading: float | None) -> str | None:
    """The notice for a column whose numbers mix the two forms or hold ambiguous values (else None).
    `example`: the first ambiguous value, `reading`: what it was read as."""
    # Said as what each mark was taken for: "read with the decimal point" alone reads as 4.8 for '4,800'.
    taken = {",": "'.' taken as the thousands separator and ',' as the decimal comma",
             ".": "',' taken as the thousands separator and '.' as the decimal point"}[decimal]
    parts = []
    if counts.comma and counts.point:
        parts.append(f"numbers mix a decimal comma ({counts.comma} value(s) like 1.200,50) and a decimal point "
                     f"({counts.point} like 1,200.50): each read by its own form")
    if counts.either:
        shown = f": '{example}', read as {_figure(reading)}" if example is not None else ""
        what = f"{counts.either} value(s) could be thousands or decimals (first at row {counts.first}{shown})"
        if counts.comma or counts.point:
            side = "most of the column's other numbers show" if counts.comma and counts.point else \
                "the column's other numbers show"
            parts.append(f"{what}: {taken}, as {side}")
        else:
            why = ("the file is ';'-delimited, as European exports are" if delimiter == ";" else
                   "the file is not ';'-delimited")
            parts.append(f"ambiguous numbers: {what}; no other value in the column decides, so {taken} "
                         f"({why}); write them without thousands separators to be sure")
    return f"{label}: " + "; ".join(parts) if parts else None


def refused_reason(text: str) -> str:
    """Why a money text that did not read was refused, when it is a number of the wrong size ('' otherwise)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(value):
        return ": not a finite number"
    return f": {MONEY_MAX:.0e} or more in size" if abs(value) >= MONEY_MAX else ""


def _figure(value: float | None) -> str:
    return "blank" if value is None else f"{value:.15g}"
