"""The deals build: one `deals` table from the staged deals view `d` and the small tables a, p, t.

Design: `build_deals` runs named steps in order, each one SQL job over the connection:
  1. `_join_keys`: how deals find their account (by id when both sides have one, else by name), product and
     owner, with the mapping file's aliases applied;
  2. `_map_stages`: raw stage names -> won/lost/open through a small table built from the DISTINCT names,
     with the notices on unknown or blank stages, blank accounts and forecast close dates;
  3. `_join_small_tables`: accounts, products and sales teams keyed (first row per key kept, the rest
     reported) and LEFT JOINed; keys that find no partner land in `IngestReport.unmatched`;
  4. `_column_sources`: from which relations each column of `deals` is COALESCEd (pure);
  5. `_category_types` and `_code_small_tables`: category columns as ENUMs of the values present;
  6. `_create_deals`: the table in one pass, then the unparseable and negative-cycle checks.
Nothing is merged or dropped silently; every decision lands in `IngestReport.value_notices`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from persona_assistant.bands import EMPLOYEE_BANDS, REVENUE_BANDS, band_sql
from persona_assistant.dimensions import CATEGORY_COLUMNS, DEAL_COLUMNS, DEALS_TABLE
from persona_assistant.ingest.classify import KIND_FIELDS, MappedFile
from persona_assistant.ingest.sqlnames import quote_ident as qi, unique_name
from persona_assistant.ingest.mapping import MappingFile, stage_outcome
from persona_assistant.ingest.quality import EXAMPLES, report_unparseable
from persona_assistant.ingest.sqlvalues import alias_sql
from persona_assistant.schemas import IngestReport, UnmatchedKeys

# A category column with more values than this stays VARCHAR (`_category_types`).
ENUM_MAX = 10_000
# Where the outcome is read from (Pipedrive: status).
OUTCOME_SOURCE = "COALESCE(d.status, d.stage)"
# The bands of account figures: number column -> (band column, bands).
BAND_OF = {"employees": ("employee_band", EMPLOYEE_BANDS), "revenue": ("revenue_band", REVENUE_BANDS)}

Sources = dict[str, list[tuple[str, str]]]  # column -> (relation, SQL expression) it is COALESCEd from


@dataclass(frozen=True)
class _Keys:
    """Join keys of the deals view: the account key's name and the aliased SQL of each key."""

    akey: str
    dkey: str
    product: str
    owner: str


@dataclass(frozen=True)
class _Small:
    """Which small tables exist (a: accounts, p: products, t: sales teams)."""

    acc: bool
    prod: bool
    team: bool

    def relations(self) -> tuple[tuple[str, bool], ...]:
        return (("a", self.acc), ("p", self.prod), ("t", self.team))


def build_deals(con, report: IngestReport, mapping: MappingFile, extras: list[str],
                per_file: dict[int, dict[str, str]], files: list[MappedFile],
                has_acc: bool, has_prod: bool, has_team: bool) -> None:
    """One CREATE TABLE over the deals view and the small joined tables; the checks group first."""
    deal_files = [f for f in files if f.kind == "deals"]
    small = _Small(has_acc, has_prod, has_team)
    keys = _join_keys(con, mapping, deal_files, small)
    _map_stages(con, report, mapping, keys, deal_files)
    joins = _join_small_tables(con, report, mapping, keys, small)
    parts = _column_sources(keys, extras, per_file, files, small)
    types = _category_types(con, {c: parts[c] for c in (*CATEGORY_COLUMNS, *("x:" + x for x in extras))})
    _code_small_tables(con, parts, types, small)
    _create_deals(con, report, parts, types, joins, extras, deal_files)


def _join_keys(con, mapping: MappingFile, deal_files: list[MappedFile], small: _Small) -> _Keys:
    acc_by_id = small.acc and any("account_id" in f.fields for f in deal_files) and _any(con, "a", "account_id")
    akey = "account_id" if acc_by_id else "account"
    return _Keys(akey, alias_sql(f"d.{akey}", mapping.aliases.get(akey)),
                 alias_sql("d.product", mapping.aliases.get("product")),
                 alias_sql("d.owner", mapping.aliases.get("owner")))


def _map_stages(con, report: IngestReport, mapping: MappingFile, keys: _Keys, deal_files: list[MappedFile]) -> None:
    """Stages -> outcome via table `stage_map` from the DISTINCT raw names; blank accounts; forecast dates."""
    src, dkey, akey = OUTCOME_SOURCE, keys.dkey, keys.akey
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


def _join_small_tables(con, report: IngestReport, mapping: MappingFile, keys: _Keys, small: _Small) -> list[str]:
    """The small tables keyed (`_k`, de-duplicated); their LEFT JOINs; what does not join is reported."""
    joins = ["LEFT JOIN stage_map sm ON sm.name = " + OUTCOME_SOURCE]
    akey, dkey = keys.akey, keys.dkey
    if small.acc:
        con.execute(f"ALTER TABLE a ADD COLUMN _k VARCHAR; UPDATE a SET _k = lower({akey})")
        _dedupe(con, "a", "_k", "accounts", report)
        joins.append(f"LEFT JOIN a ON a._k = lower({dkey})")
        _unmatched(con, report, f"deals.{akey} -> accounts.{akey}", dkey, "a")
    if small.prod:
        con.execute("ALTER TABLE p ADD COLUMN _k VARCHAR; UPDATE p SET _k = lower(product)")
        _dedupe(con, "p", "_k", "products", report)
        joins.append(f"LEFT JOIN p ON p._k = lower({keys.product})")
        _unmatched(con, report, "deals.product -> products.product", keys.product, "p")
    if small.team:
        con.execute("ALTER TABLE t ADD COLUMN _k VARCHAR; UPDATE t SET _k = lower(owner)")
        _dedupe(con, "t", "_k", "sales teams", report)
        joins.append(f"LEFT JOIN t ON t._k = lower({keys.owner})")
        _unmatched(con, report, "deals.owner -> sales_teams.owner", keys.owner, "t")
    for key, aliases in mapping.aliases.items():
        report.value_notices.append(f"{len(aliases)} {key} alias(es) from the mapping file applied before joining")
    return joins


def _column_sources(keys: _Keys, extras: list[str], per_file: dict[int, dict[str, str]], files: list[MappedFile],
                    small: _Small) -> Sources:
    """Per column of `deals` (and "x:<extra>"), the relations it is COALESCEd from, deals first."""
    in_deals = {c for f in files if f.kind == "deals" for c in f.fields}  # a field no deals file has: skip it
    parts: Sources = {c: [("d", f"d.{qi(c)}")] if c in in_deals else [] for c in KIND_FIELDS["deals"]}
    if small.acc:
        for c in KIND_FIELDS["accounts"]:
            if c != "account_id":
                parts[c].append(("a", f"a.{qi(c)}"))
    parts["product"] = [("d", keys.product)] if "product" in in_deals else []
    if small.team:
        parts["region"].append(("t", "t.region"))
    for x in extras:
        parts["x:" + x] = [(alias, f"{alias}.{qi('x:' + x)}") for alias, kind, ok in
                           (("d", "deals", True), ("a", "accounts", small.acc), ("p", "products", small.prod),
                            ("t", "teams", small.team))
                           if ok and any(f.kind == kind and x in per_file[i] for i, f in enumerate(files))]
    parts["stage"] = [("d", f"d.{c}") for c in ("stage", "status") if c in in_deals]
    if len(parts["stage"]) > 1:
        parts["stage"] = [("d", "COALESCE(d.stage, d.status)")]
    return parts


def _code_small_tables(con, parts: Sources, types: dict[str, str], small: _Small) -> None:
    """Small-table categories, and the bands of account figures, coded once per row of the small table
    (one rewrite each), not once per deal."""
    for rel, ok in small.relations():
        cast = [f"CAST({e} AS {types[c]}) AS {e.split('.', 1)[1]}" for c, srcs in parts.items() if c in types
                for r, e in srcs if r == rel]
        added = [f"CAST({band_sql(qi(f), bands)} AS {types[col]}) AS _{col}"
                 for f, (col, bands) in BAND_OF.items()] if rel == "a" else []
        if ok and (cast or added):
            replace = f" REPLACE ({', '.join(cast)})" if cast else ""
            con.execute(f"CREATE OR REPLACE TABLE {rel} AS SELECT *{replace}{''.join(', ' + x for x in added)} "
                        f"FROM {rel}")


def _create_deals(con, report: IngestReport, parts: Sources, types: dict[str, str], joins: list[str],
                  extras: list[str], deal_files: list[MappedFile]) -> None:
    """The table in one pass; hidden _src/_row/_bad only for the checks that follow, then dropped."""
    pick = {c: f"COALESCE({', '.join(e for _, e in srcs)})" if len(srcs) > 1 else srcs[0][1] if srcs else "NULL"
            for c, srcs in parts.items()}

    def band(field: str) -> str:
        col, bands = BAND_OF[field]
        return f"a._{col}" if parts[field] == [("a", f"a.{qi(field)}")] else band_sql(pick[field], bands)

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
    con.execute(f"""CREATE TABLE {DEALS_TABLE} AS SELECT {select}
        {''.join(f", CAST({pick['x:' + x]} AS {types.get('x:' + x, 'VARCHAR')}) AS {qi(x)}" for x in extras)}, d._src AS _src, d._row AS _row, {bad} AS _bad
        FROM d {' '.join(joins)}""")
    con.execute("RESET preserve_insertion_order")
    if checked:
        report_unparseable(con, DEALS_TABLE, deal_files, checked, report)
    neg = con.execute(f"SELECT count(*), min(deal_id) FROM {DEALS_TABLE} WHERE closed < created").fetchone()
    if neg[0]:
        report.value_notices.append(f"{neg[0]} deal(s) close before they were created: cycle_days left blank "
                                    f"(e.g. deal {neg[1]})")
    con.execute("; ".join(f"ALTER TABLE {DEALS_TABLE} DROP COLUMN {c}" for c in ("_src", "_row", "_bad")))
    for t in ("a", "p", "t", "stage_map"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    con.execute("DROP VIEW d")


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


def _any(con, table: str, col: str) -> bool:
    return con.execute(f"SELECT count({qi(col)}) FROM {table}").fetchone()[0] > 0


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
