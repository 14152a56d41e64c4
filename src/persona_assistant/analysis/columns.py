"""Which columns of the deals table are dimensions, and why the others are not: the one place deciding it.

Every column is a candidate (`load_crm(all_columns=True)` brings the unmapped ones along under their
headers). One grouped scan counts each candidate's closed deals per value and outcome; then, per column:

- settings: `[analysis] exclude` drops it; `[analysis] dimensions`, when set, is the list to choose from;
- placeholders ("unknown", "n/a", ...) are blanks (`leaks.PLACEHOLDERS`), set to NULL in the table;
- a column with one value on every deal (a constant such as "Sales Pipeline") is no dimension (with some
  deals blank, its one segment is "has a value", which the blank finding compares);
- outcome leaks (`analysis.leaks`: post-outcome names, presence, values) are excluded unless
  `[analysis] allow` names them;
- canonical categories (`dimensions.CATEGORY_DIMENSIONS`) and bands are dimensions; employees or revenue
  holding small-integer codes (MAX_CODES distinct integers up to CODE_MAX) are codes, not counts: the
  raw code becomes the dimension instead of the band, with a notice;
- an unmapped column is, in this order: an id (named *id, or nearly one value per row), a date, small-
  integer codes (a category), a number (banded into quartiles: a number with no known banding), a
  free text (`free_text`: line breaks, long values, mostly unique phrases, sentences), a category (at
  most MAX_CATEGORIES values) or too varied to be a category.

Blanks are never segments (the analysis groups only values); a blank that predicts the outcome is a
finding. The plan's transforms (blanks, bands, codes) apply to the deals table once, and to a leads file
the same way (`apply_plan`), so scoring reads the values the analysis judged.
"""

from __future__ import annotations

import re
import difflib
from dataclasses import dataclass, field
from typing import Any, Sequence

from persona_assistant.analysis.leaks import (ColumnCounts, blank_finding, is_placeholder, leak, post_outcome_name,
                                              presence_leak)
from persona_assistant.analysis.quantiles import enum_bands, fmt_number, number, quantile_transform, value_bands
from persona_assistant.dimensions import BANDED_DIMENSIONS, CATEGORY_DIMENSIONS, DEAL_COLUMNS, NOT_DIMENSIONS
from persona_assistant.errors import InputError, UsageError
from persona_assistant.ingest.csvfile import quote_ident as _q, quote_str as _qs, unique_name

MAX_CATEGORIES = 50
MAX_CODES, CODE_MAX = 12, 20
ID_SHARE = 0.9
FREE_TEXT_LENGTH = 40
TEXT_DISTINCT_SHARE, TEXT_WORDS, TEXT_SENTENCE_SHARE = 0.5, 3, 0.2  # free_text(): mostly unique phrases
_SENTENCE = re.compile(r"\w[.!?;](\s|$)")
NUMERIC_SHARE = DATE_SHARE = 0.95
PROFILE_MAX_VALUES = 10_000  # a column with more distinct values is not grouped value by value
_DATE = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?)?|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}"
                   r"( \d{1,2}:\d{2}(:\d{2})?)?)\s*$")


@dataclass(frozen=True)
class Settings:
    """`[analysis] dimensions / exclude / allow` (names: the export's header or the canonical field)."""

    dimensions: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()


def workspace_settings(ws) -> Settings:
    """The workspace's [analysis] dimension settings; a value of the wrong shape names the file and key."""
    section = ws.config().get("analysis", {})
    out: dict[str, Any] = {}
    for key in ("dimensions", "exclude", "allow"):
        value = section.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise InputError(f"{ws.config_path}: [analysis] {key} must be a list of column names, got {value!r}")
        out[key] = tuple(value)
    return Settings(**out)


@dataclass
class DimensionPlan:
    chosen: list[str]
    excluded: list[tuple[str, str]]  # (column, reason)
    leaks: list[str]  # the leak sentences, figures included
    findings: list[str]  # data quality: blanks that predict the outcome
    notices: list[str]  # codes read as categories, numbers banded
    placeholders: dict[str, list[str]] = field(default_factory=dict)  # column -> values read as blank
    transforms: dict[str, str] = field(default_factory=dict)  # column -> SQL over {c}, giving the value
    renamed: dict[str, str] = field(default_factory=dict)  # band dimension -> the code column replacing it
    labels: dict[str, str] = field(default_factory=dict)  # column -> header as written in the export

    def shown(self, column: str) -> str:
        """'Sector (industry)': the header as written, and the canonical field it was mapped to."""
        label = self.labels.get(column, column)
        return label if label == column else f"{label} ({column})"


# --------------------------------------------------------------------------- naming


def column_labels(report) -> dict[str, str]:
    """deals column -> the export header it came from ("Industry" for industry), for messages."""
    labels = {}
    for canon, where in (getattr(report, "mapping", None) or {}).items():
        header = where.split(", ")[0].split(":", 1)[-1]
        labels[canon] = header
    for band, source in BANDED_DIMENSIONS.items():
        if source in labels:
            labels[band] = f"{labels[source]} (band)"
    return labels


def resolve(name: str, columns: Sequence[str], labels: dict[str, str], what: str,
            available: Sequence[str] | None = None) -> str:
    """A deals column from a name the user wrote: the column itself, the canonical field, or the header.

    Otherwise a one-line error naming the closest of the user's own headers (`available`: the columns
    the export holds; by default the mapped and unmapped ones) and listing them."""
    if name in columns:
        return name
    low = name.strip().lower()
    for c in columns:
        if c.lower() == low:
            return c
    for canon, header in labels.items():
        if header.lower() == low or canon == low:
            target = next((b for b, src in BANDED_DIMENSIONS.items() if src == canon), canon)
            if target in columns:
                return target
    canonical = {c for c, _ in DEAL_COLUMNS}
    if available is None:
        available = [c for c in columns if c in labels or c not in canonical]
    headers = list(dict.fromkeys(labels.get(c, c) for c in available if c not in NOT_DIMENSIONS))
    by_low = {h.lower(): h for h in headers}
    close = difflib.get_close_matches(low, list(by_low), n=1, cutoff=0.6)
    hint = f"did you mean {by_low[close[0]]!r}? " if close else ""
    raise UsageError(f"{what} {name}: no such column in the deals data; {hint}"
                     f"columns: {', '.join(headers) or 'none'}")


# --------------------------------------------------------------------------- profiling


def _profile(con, table: str, cols: list[str]) -> dict[str, list[tuple[Any, int, int, int]]]:
    """column -> [(value or None, won, lost, rows)], one GROUPING SETS scan over the table."""
    if not cols:
        return {}
    alias = [f"c{i}" for i in range(len(cols))]
    select = ", ".join(f"{_q(c)} AS {a}" for c, a in zip(cols, alias))
    flags = ", ".join(f"GROUPING({a})" for a in alias)
    # grouped on the stored values (ENUM codes), cast to text only once per group
    sql = (f"SELECT {', '.join(f'CAST({a} AS VARCHAR)' for a in alias)}, {flags}, "
           f"count(*) FILTER (WHERE outcome = 'won'), count(*) FILTER (WHERE outcome = 'lost'), count(*) "
           f"FROM (SELECT outcome, {select} FROM {table}) GROUP BY GROUPING SETS ({', '.join(f'({a})' for a in alias)})")
    out: dict[str, list] = {c: [] for c in cols}
    n = len(cols)
    for row in con.execute(sql).fetchall():
        i = row[n:2 * n].index(0)
        out[cols[i]].append((row[i], int(row[-3]), int(row[-2]), int(row[-1])))
    return out


CODE_SQL = "CAST(CAST(round({c}) AS BIGINT) AS VARCHAR)"


def _codes(numbers: list[tuple[float, int]]) -> bool:
    """Small non-negative integers, few of them: codes (sizes 1-5, ratings), not counts."""
    return (0 < len(numbers) <= MAX_CODES and all(x.is_integer() and 0 <= x <= CODE_MAX for x, _ in numbers))


def _classify(con, table: str, col: str, label: str, values: list[tuple[str, int, int, int]]
              ) -> tuple[str, str]:
    """(kind, reason) for an unmapped column: id | date | code | quantile | category | text."""
    rows = sum(n for _, _, _, n in values)
    distinct = len(values)
    key = re.sub(r"[^0-9a-z]", "", label.lower())
    if key == "id" or key.endswith("id") and distinct >= 0.5 * rows:
        return "id", f"an id or key ({distinct} distinct values in {rows} rows)"
    dates = sum(n for v, _, _, n in values if _DATE.match(v))
    if dates >= DATE_SHARE * rows:
        return "date", "a date"
    numbers = [(x, n) for v, _, _, n in values if (x := number(v)) is not None]
    numeric = sum(n for _, n in numbers) >= NUMERIC_SHARE * rows
    if numeric and distinct >= ID_SHARE * rows and rows >= 20 and all(x.is_integer() for x, _ in numbers):
        return "id", f"an id or key ({distinct} distinct values in {rows} rows)"
    if numeric:
        if _codes(numbers):
            return "code", f"small-integer codes ({distinct} values): a category, not a count"
        return "quantile", "a number with no known banding: banded into quartiles"
    text = free_text(values)
    if text:
        return "text", text
    if distinct >= ID_SHARE * rows and rows >= 20:
        return "id", f"an id or key ({distinct} distinct values in {rows} rows)"
    if distinct <= MAX_CATEGORIES:
        return "category", ""
    return "text", f"{distinct} distinct values: too many for a category (at most {MAX_CATEGORIES})"


def free_text(values: list[tuple[str, int, int, int]]) -> str | None:
    """Why a text column is free text (notes, descriptions), else None: THE rule, on any number of rows.

    Free text is: any value with a line break; or long (FREE_TEXT_LENGTH characters on average) and too
    many values for a category; or mostly unique (TEXT_DISTINCT_SHARE of the rows or more) values that
    read as phrases (TEXT_WORDS words on average, or sentence punctuation in TEXT_SENTENCE_SHARE of the
    rows); or sentences (that punctuation and TEXT_WORDS words on average) however often they repeat.
    Categories repeat and are short labels; a 30-row export's notes are unique phrases even when short.
    """
    rows = sum(n for *_, n in values)
    if not rows:
        return None
    distinct = len(values)
    breaks = sum(1 for v, *_ in values if "\n" in v or "\r" in v)
    length = sum(len(v) * n for v, *_, n in values) / rows
    words = sum(len(v.split()) * n for v, *_, n in values) / rows
    sentences = sum(n for v, *_, n in values if _SENTENCE.search(v)) / rows
    figures = f"{distinct} distinct values in {rows} rows, {length:.0f} characters and {words:.1f} words on average"
    if breaks:
        return f"free text (line breaks in {breaks} values; {figures})"
    if length >= FREE_TEXT_LENGTH and distinct > MAX_CATEGORIES:
        return f"free text ({figures})"
    if distinct >= TEXT_DISTINCT_SHARE * rows and (words >= TEXT_WORDS or sentences >= TEXT_SENTENCE_SHARE):
        return f"free text (mostly unique phrases: {figures})"
    if sentences >= TEXT_SENTENCE_SHARE and words >= TEXT_WORDS:
        return f"free text (sentences in {sentences:.0%} of rows; {figures})"
    return None


def _large_column(con, table: str, col: str, label: str) -> tuple[str, str]:
    """A column with more than PROFILE_MAX_VALUES values: an id, free text, or a number (from a sample)."""
    sample = [r[0] for r in con.execute(f"SELECT CAST({_q(col)} AS VARCHAR) FROM {table} "
                                        f"WHERE {_q(col)} IS NOT NULL LIMIT 2000").fetchall()]
    numbers = [x for v in sample if (x := number(v)) is not None]
    if sample and len(numbers) >= NUMERIC_SHARE * len(sample):
        key = re.sub(r"[^0-9a-z]", "", label.lower())
        unique_integers = len(set(numbers)) >= ID_SHARE * len(numbers) and all(x.is_integer() for x in numbers)
        if not key.endswith("id") and not unique_integers:
            return "quantile", "a number with no known banding: banded into quartiles"
    if sample and sum(bool(_DATE.match(v)) for v in sample) >= DATE_SHARE * len(sample):
        return "date", "a date"
    return "id", f"more than {PROFILE_MAX_VALUES:,} distinct values: an id, a name or free text"


# --------------------------------------------------------------------------- the plan


def _code_column(con, table: str, canon: str) -> str | None:
    """The code transform when a mapped employees/revenue column holds small-integer codes, else None."""
    scaled = f"(CASE WHEN {canon} >= 1e6 THEN {canon} / 1e6 ELSE {canon} END)" if canon == "revenue" else canon
    top = con.execute(f"SELECT max({canon}) FROM {table}").fetchone()[0]  # cheap: most columns stop here
    if top is None or top > (CODE_MAX * 1e6 if canon == "revenue" else CODE_MAX):
        return None
    n, ok, lo, hi = con.execute(
        f"SELECT count(DISTINCT {scaled}), bool_and({scaled} = round({scaled}) AND {scaled} BETWEEN 0 AND {CODE_MAX}), "
        f"min({scaled}), max({scaled}) FROM {table} WHERE {canon} IS NOT NULL").fetchone()
    if not n or n > MAX_CODES or not ok:
        return None
    return CODE_SQL.replace("{c}", scaled.replace(canon, "{c}")), f"{fmt_number(lo)}-{fmt_number(hi)}"


def _names(settings_names, columns, labels, key) -> list[str]:
    return [resolve(n, columns, labels, f"[analysis] {key}:") for n in settings_names]


def plan_dimensions(crm, settings: Settings | None = None) -> DimensionPlan:
    """Decide every column of `crm`'s deals table (see the module docstring), adjust the table, keep the plan.

    Sets `crm.plan` and `crm.dimensions` (the chosen dimensions); planning twice returns the first plan.
    """
    if getattr(crm, "plan", None) is not None:
        return crm.plan
    settings = settings or Settings()
    con = crm.con
    described = con.execute("DESCRIBE deals").fetchall()
    columns = [r[0] for r in described]
    types = {r[0]: r[1] for r in described}
    labels = column_labels(getattr(crm, "report", None))
    mapped = set(labels)
    extras = [c for c in columns if c not in NOT_DIMENSIONS and c not in BANDED_DIMENSIONS
              and c not in CATEGORY_DIMENSIONS]
    exclude = set(_names(settings.exclude, columns, labels, "exclude"))
    allow = set(_names(settings.allow, columns, labels, "allow"))
    wanted = None if settings.dimensions is None else _names(settings.dimensions, columns, labels, "dimensions")
    plan = DimensionPlan([], [], [], [], [], labels={**labels, **{c: labels.get(c, c) for c in columns}})

    chosen_anyway = [c for c in NOT_DIMENSIONS if c in columns and (c in allow or c in (wanted or ()))]
    candidates = [c for c in (*CATEGORY_DIMENSIONS, *BANDED_DIMENSIONS) if c in columns] + chosen_anyway
    for band, source in BANDED_DIMENSIONS.items():
        found = _code_column(con, "deals", source) if source in columns else None
        if found:
            plan.transforms[source], span = found
            plan.renamed[band] = source
            candidates[candidates.index(band)] = source
            plan.notices.append(
                f"{labels.get(source, source)} (mapped to {source}) holds small-integer codes ({span}), not "
                f"{'head counts' if source == 'employees' else 'amounts'}: analysed as the category {source} "
                f"instead of {band}")
    large = set()
    fast: dict[str, tuple[str, list[str]]] = {}  # column -> a cheaper transform for this table (ENUM code lookups)
    text_extras = [c for c in extras if not types[c].startswith("ENUM")]
    if text_extras:
        counts = con.execute("SELECT " + ", ".join(f"approx_count_distinct({_q(c)})" for c in text_extras)
                             + " FROM deals").fetchone()
        large = {c for c, n in zip(text_extras, counts) if n > PROFILE_MAX_VALUES}
    profile = _profile(con, "deals", [c for c in candidates + extras if c not in large])
    won_total, lost_total = con.execute("SELECT count(*) FILTER (WHERE outcome = 'won'), "
                                        "count(*) FILTER (WHERE outcome = 'lost') FROM deals").fetchone()
    plan.excluded += [(c, why) for c, why in NOT_DIMENSIONS.items()
                      if c in mapped and c not in plan.transforms and c not in chosen_anyway]
    for col in candidates + extras:
        label = plan.labels[col]
        if col in exclude:
            plan.excluded.append((col, "excluded in the settings ([analysis] exclude)"))
            continue
        if wanted is not None and col not in wanted and plan.renamed.get(col) not in wanted:
            plan.excluded.append((col, "not listed in the settings ([analysis] dimensions)"))
            continue
        if col in large:  # too many values to group: presence and name are checked, not values
            wf, lf = con.execute(f"SELECT count({_q(col)}) FILTER (WHERE outcome = 'won'), "
                                 f"count({_q(col)}) FILTER (WHERE outcome = 'lost') FROM deals").fetchone()
            counts = ColumnCounts(label, [("", wf, lf)], won_total, lost_total)
            found = presence_leak(counts) or post_outcome_name(label)
            if found and col not in allow:
                plan.excluded.append((col, "an outcome leak"))
                plan.leaks.append(found)
                continue
            kind, reason = _large_column(con, "deals", col, label)
            filled = None
        else:
            rows = profile[col]
            blanks = sorted({v for v, *_ in rows if v is not None and is_placeholder(v)})
            if blanks:
                plan.placeholders[col] = blanks
                plan.notices.append(f"{label}: {', '.join(repr(b) for b in blanks)} read as blank")
            filled = [(v, w, lo, n) for v, w, lo, n in rows if v is not None and not is_placeholder(v)]
            if not filled:
                if col in mapped or col in extras or col in plan.placeholders:
                    plan.excluded.append((col, "no values"))
                continue
            if len(filled) == 1 and filled[0][3] == sum(n for *_, n in rows):  # every segment would repeat as itself x it
                plan.excluded.append((col, f"one value ({filled[0][0]!r}) on every deal: nothing to compare"))
                continue
            counts = ColumnCounts(label, [(v, w, lo) for v, w, lo, _ in filled], won_total, lost_total)
            found = leak(counts)
            if found and col not in allow:
                plan.excluded.append((col, "an outcome leak"))
                plan.leaks.append(found)
                continue
            if found:
                plan.notices.append(found.replace("excluded", "let in by [analysis] allow"))
            finding = blank_finding(counts, label, len(candidates) + len(extras))
            if finding:
                plan.findings.append(finding)
            kind, reason = ("category", "") if col not in extras else _classify(con, "deals", col, label, filled)
        if kind in ("id", "date", "text") and col not in allow:
            plan.excluded.append((col, reason))
            continue
        if kind == "quantile":
            bands = (quantile_transform(con, "deals", col), None) if filled is None else value_bands(filled)
            if bands is None or bands[0] is None:
                plan.excluded.append((col, "no numbers"))
                continue
            plan.transforms[col] = bands[0]
            if bands[1] is not None and types[col].startswith("ENUM"):
                fast[col] = enum_bands(con, "deals", col, bands[1])
            plan.notices.append(f"{label}: {reason}")
        elif kind == "code":
            plan.notices.append(f"{label}: {reason}")
        plan.chosen.append(col)
    apply_plan(con, "deals", plan, fast=fast)
    crm.plan = plan
    crm.dimensions = list(plan.chosen)
    return plan


def apply_plan(con, table: str, plan: DimensionPlan, *, every_blank: bool = False,
               fast: dict[str, tuple[str, list[str]]] | None = None) -> None:
    """Placeholders to NULL, then the transforms (bands, codes), on the plan's columns `table` has.

    `every_blank`: look for placeholders in every chosen column (a leads file), not only where the
    history had them. `fast`: per column, an equivalent transform for this table's storage (an ENUM's
    code lookup); its result is stored as an ENUM of the labels.
    """
    from persona_assistant.analysis.leaks import PLACEHOLDERS

    have = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    blank_cols = set(plan.chosen) | set(plan.placeholders) if every_blank else set(plan.placeholders)
    words = ", ".join(_qs(p) for p in sorted(PLACEHOLDERS))
    if hasattr(con, "relations"):  # a warehouse table (warehouse/query.py): the same steps as a SELECT over it
        rel = con.relations[table]
        select = []
        for col, typ in rel.columns:
            value = _q(col)
            if col in blank_cols:
                value = f"CASE WHEN lower(trim(CAST({value} AS VARCHAR))) IN ({words}) THEN NULL ELSE {value} END"
            if col in plan.transforms:
                value, typ = f"({plan.transforms[col].replace('{c}', value)})", "VARCHAR"
            select.append((f"{value} AS {_q(col)}", (col, typ)))
        con.define(table, f"SELECT {', '.join(s for s, _ in select)} FROM ({rel.select}) AS p",
                   [c for _, c in select])
        return
    for col in sorted(blank_cols & have):
        con.execute(f"UPDATE {table} SET {_q(col)} = NULL WHERE lower(trim(CAST({_q(col)} AS VARCHAR))) IN ({words})")
    for col, (sql, labels) in (fast or {}).items():
        name = unique_name("pa_band")
        con.execute(f"CREATE TYPE {name} AS ENUM (SELECT unnest(?::VARCHAR[]))", [labels])
        con.execute(f"ALTER TABLE {table} ALTER {_q(col)} SET DATA TYPE {name} USING ({sql.replace('{c}', _q(col))})")
    for col, sql in plan.transforms.items():
        if col in have and col not in (fast or {}):
            con.execute(f"ALTER TABLE {table} ALTER {_q(col)} SET DATA TYPE VARCHAR USING ({sql.replace('{c}', _q(col))})")
