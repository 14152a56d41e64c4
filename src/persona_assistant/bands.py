"""Numeric firmographics banded into documented ranges.

One definition serves ingestion (band columns of the canonical deals table),
analysis (segments), scoring (lead features) and the ICP text, so a band
means the same thing everywhere.

Employee bands follow the ranges LinkedIn and most CRMs use. Revenue bands are
in US dollars (annual); ingestion converts a revenue column given in millions.
"""

from __future__ import annotations

import math

# (upper bound inclusive, label); the last band is open-ended.
EMPLOYEE_BANDS: list[tuple[float, str]] = [
    (10, "1-10"),
    (50, "11-50"),
    (200, "51-200"),
    (500, "201-500"),
    (1000, "501-1000"),
    (5000, "1001-5000"),
    (10000, "5001-10000"),
    (math.inf, "10001+"),
]

REVENUE_BANDS: list[tuple[float, str]] = [
    (1e6, "<$1M"),
    (10e6, "$1M-$10M"),
    (50e6, "$10M-$50M"),
    (100e6, "$50M-$100M"),
    (500e6, "$100M-$500M"),
    (1e9, "$500M-$1B"),
    (10e9, "$1B-$10B"),
    (math.inf, "$10B+"),
]

BANDS = {"employee_band": EMPLOYEE_BANDS, "revenue_band": REVENUE_BANDS}


def band(value: float | None, bands: list[tuple[float, str]]) -> str | None:
    """The label of the band holding `value`; None for a missing or negative value."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value < 0:
        return None
    for upper, label in bands:
        if value <= upper:
            return label
    return None


def band_sql(column: str, bands: list[tuple[float, str]]) -> str:
    """The same banding as a SQL CASE expression (DuckDB), for set-based ingestion."""
    parts = []
    for upper, label in bands:
        quoted = label.replace("'", "''")
        if math.isinf(upper):
            parts.append(f"WHEN {column} >= 0 THEN '{quoted}'")
        else:
            parts.append(f"WHEN {column} >= 0 AND {column} <= {upper!r} THEN '{quoted}'")
    return "CASE " + " ".join(parts) + " ELSE NULL END"


def band_order(label: str) -> int:
    """Sort key so bands print small to large."""
    for bands in BANDS.values():
        for i, (_, name) in enumerate(bands):
            if name == label:
                return i
    return len(label)
