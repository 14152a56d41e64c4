"""Quartile bands for a number with no known banding (`bands.py` holds the known ones).

Cuts are quantile_disc over the history's rows (the smallest value with at least 25%, 50%, 75% of the
numbered rows at or below it); labels read as ranges ("up to 1968", "1969-1986", "2005 or more").
The same cuts band a leads file (`quantile_sql`), so a lead's value lands in the history's band.
"""

from __future__ import annotations

import math

from persona_assistant.ingest.csvfile import quote_ident as _q, quote_str as _qs

QUANTILES = (0.25, 0.5, 0.75)


def number(value: str) -> float | None:
    try:
        x = float(value.replace(",", "")) if value.strip() else None
    except ValueError:
        return None
    return x if x is not None and math.isfinite(x) else None


def fmt_number(x: float) -> str:
    """1,250,000 and 0.375 as such; a four-digit whole number (a year) without a separator."""
    sep = "," if abs(x) >= 10_000 else ""
    return f"{x:{sep}.0f}" if float(x).is_integer() else f"{x:{sep}.4g}"


def band_labels(cuts: list[float], integral: bool) -> list[str]:
    """Labels for the bands (-inf, c1], (c1, c2], ..., (ck, inf)."""
    labels = [f"up to {fmt_number(cuts[0])}"]
    for lo, hi in zip(cuts, cuts[1:]):
        labels.append(f"{fmt_number(lo + 1)}-{fmt_number(hi)}" if integral and lo + 1 < hi else
                      fmt_number(hi) if integral else f"above {fmt_number(lo)} up to {fmt_number(hi)}")
    labels.append(f"{fmt_number(cuts[-1] + 1)} or more" if integral else f"above {fmt_number(cuts[-1])}")
    return labels


def quantile_sql(cuts: list[float], labels: list[str]) -> str:
    v = "TRY_CAST(replace(CAST({c} AS VARCHAR), ',', '') AS DOUBLE)"
    whens = " ".join(f"WHEN {v} <= {cut!r} THEN {_qs(label)}" for cut, label in zip(cuts, labels))
    return f"CASE WHEN {v} IS NULL THEN NULL {whens} ELSE {_qs(labels[-1])} END"


def value_bands(values: list[tuple[str, int, int, int]]) -> tuple[str, dict[str, str]] | None:
    """Quartile bands from a profiled column's values and row counts: (the SQL that bands any number, e.g.
    in a leads file; {value as stored: label}). Cuts as quantile_disc: the smallest value with at least
    that share of the numbered rows at or below it."""
    numbers = sorted((x, v, n) for v, _, _, n in values if (x := number(v)) is not None)
    total = sum(n for _, _, n in numbers)
    if not total:
        return None
    cuts, seen, i = [], 0, 0
    for x, _, n in numbers:
        seen += n
        while i < len(QUANTILES) and seen >= QUANTILES[i] * total:
            cuts.append(x)
            i += 1
    cuts = sorted(set(cuts))
    labels = band_labels(cuts, all(x.is_integer() for x, _, _ in numbers))
    of_value = {v: next((lab for cut, lab in zip(cuts, labels) if x <= cut), labels[-1]) for x, v, _ in numbers}
    return quantile_sql(cuts, labels), of_value


def enum_bands(con, table: str, col: str, of_value: dict[str, str]) -> tuple[str, list[str]]:
    """The banding of an ENUM column as a list lookup by the value's code (no text per row), and its labels."""
    values = con.execute(f"SELECT enum_range({_q(col)}) FROM {table} WHERE {_q(col)} IS NOT NULL LIMIT 1"
                         ).fetchone()[0]
    lookup = ", ".join(_qs(of_value[v]) if v in of_value else "NULL" for v in values)
    return f"[{lookup}][enum_code({{c}}) + 1]", sorted(set(of_value.values()))


def quantile_transform(con, table: str, col: str) -> str | None:
    v = f"TRY_CAST(replace(CAST({_q(col)} AS VARCHAR), ',', '') AS DOUBLE)"
    cuts, integral = con.execute(f"SELECT quantile_disc({v}, {list(QUANTILES)}), bool_and({v} = round({v})) "
                                 f"FROM {table} WHERE {v} IS NOT NULL").fetchone()
    cuts = sorted({float(c) for c in cuts or [] if c is not None})
    if not cuts:
        return None
    return quantile_sql(cuts, band_labels(cuts, bool(integral)))
