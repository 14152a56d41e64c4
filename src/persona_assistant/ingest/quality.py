"""Quality notices on CRM values: unparseable money and dates, and likely typos among category values.

Design: nothing is merged or dropped here; every finding becomes one line in
`IngestReport.value_notices` naming the file, column, count and a first example. Unparseable values are
found from the `_bad` bit mask that staging and the deals build set per row (`report_unparseable`);
typo hints compare each value of `dimensions.TYPO_FIELDS` with more common values and with a small
industry vocabulary (`near_duplicates`, a pure function).
"""

from __future__ import annotations

import difflib
import re
from typing import Sequence

from persona_assistant.dimensions import TYPO_FIELDS
from persona_assistant.ingest.classify import MappedFile
from persona_assistant.ingest.sqlnames import quote_ident as qi
from persona_assistant.ingest.numbers import refused_reason
from persona_assistant.ingest.sqlvalues import DATE_FIELDS, MONEY_FIELDS
from persona_assistant.schemas import IngestReport

EXAMPLES = 5  # examples quoted per notice

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


def report_unparseable(con, table: str, files: list[MappedFile], checked: list[str], report: IngestReport) -> None:
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


def report_near_duplicates(con, table: str, report: IngestReport, limit: int = 500) -> None:
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
