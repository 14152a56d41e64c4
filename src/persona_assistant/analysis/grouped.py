"""The grouped scans behind `analysis.segments`: segment counts, medians and receipts in a few GROUPING SETS
queries, in DuckDB's dialect (a warehouse runs them transpiled: `warehouse/query.py`)."""

from __future__ import annotations

from itertools import combinations

from persona_assistant.ingest.sqlnames import quote_ident as _q

SAMPLE_IDS = 5  # receipts per outcome: the first N won and N lost deal ids, by id
CLOSED = "outcome IN ('won', 'lost')"



def counts_sql(receipts: bool = True) -> str:
    """Additive aggregates (and the first deal ids as receipts), over closed deals."""
    won = "FILTER (WHERE outcome = 'won')"
    ids = f""",
        min(CAST(deal_id AS VARCHAR), {SAMPLE_IDS}) {won} AS won_ids,
        min(CAST(deal_id AS VARCHAR), {SAMPLE_IDS}) FILTER (WHERE outcome = 'lost') AS lost_ids"""
    return f"""
        count(*) AS closed,
        count(*) {won} AS won,
        count(*) FILTER (WHERE outcome = 'lost') AS lost,
        CAST(sum(amount) {won} AS DOUBLE) AS total_won_value{ids if receipts else ""}
    """


# Rolling the finest-grain cube up: counts and sums add. The first-N id receipts do not go through
# list merges (every group's lists gathered, flattened and sorted: the slowest part of a million-deal
# analysis, and memory-bound with many dimensions); the cube's ids are unnested (at most 2 x N per
# cube row) and a bounded min(id, N) picks each group's first ones.
_ROLLUP = "sum(closed), sum(won), sum(lost), sum(total_won_value)"
_RECEIPTS = f"min(id, {SAMPLE_IDS}) FILTER (WHERE won), min(id, {SAMPLE_IDS}) FILTER (WHERE NOT won)"
# Medians do not roll up: they run over won deals only (half the rows, no FILTER on a
# holistic aggregate), a few grouping sets per query. All sets at once holds every
# set's values in memory together; one set per query rescans each time. ~6 is the knee.
MEDIANS = "CAST(median(amount) AS DOUBLE), CAST(median(cycle_days) AS DOUBLE)"
SETS_PER_QUERY = 6


def _grouped(con, source: str, select: str, dims: list[str], dim_sets: list[tuple[str, ...]],
             having: str = "") -> dict:
    """{((dimension, value), ...): aggregate row} per set in `dim_sets`, one GROUPING SETS query.

    `source` is a query with columns d0, d1, ... for `dims` (in that order).
    """
    alias = {d: f"d{i}" for i, d in enumerate(dims)}
    used = sorted({d for s in dim_sets for d in s}, key=dims.index)
    sets = ", ".join("(" + ", ".join(alias[d] for d in s) + ")" for s in dim_sets)
    flags = ", ".join(f"GROUPING({alias[d]})" for d in used)
    # A grouped dimension whose value is NULL (blank in the CRM) is not a segment.
    no_blanks = " AND ".join(f"(GROUPING({alias[d]}) = 1 OR {alias[d]} IS NOT NULL)" for d in used)
    grouped = " + ".join(f"(1 - GROUPING({alias[d]}))" for d in used)
    having = f"{no_blanks} AND ({having.format(grouped=grouped)})" if having else no_blanks
    sql = f"""
        WITH src AS ({source})
        SELECT {", ".join(alias[d] for d in used)}, {flags}, {select}
        FROM src GROUP BY GROUPING SETS ({sets}) HAVING {having}
    """
    n = len(used)
    out = {}
    for row in con.execute(sql).fetchall():
        key = tuple((d, row[i]) for i, d in enumerate(used) if row[n + i] == 0)
        out[key] = row[2 * n:]
    return out


def segment_rows(con, dims: list[str], *, pairs: bool, min_support: int) -> list[tuple[dict[str, str], tuple]]:
    """One row per segment: ({dimension: value}, aggregates); pairs only with min_support closed deals.

    Counts come from one scan into a cube at the finest grain (every dimension at once;
    a few thousand rows for typical CRMs), rolled up to singles and pairs.
    """
    if not dims:
        return []
    cols = ", ".join(f"{_q(d)} AS d{i}" for i, d in enumerate(dims))
    names = ", ".join(f"d{i}" for i in range(len(dims)))
    sets = [(d,) for d in dims] + (list(combinations(dims, 2)) if pairs else [])
    duck = getattr(con, "dialect", "duckdb") == "duckdb"
    cube = f"""SELECT {names}, {counts_sql(receipts=duck)} FROM (SELECT deal_id, outcome, amount, {cols} FROM deals
               WHERE {CLOSED}) AS s GROUP BY {names}"""
    counts = _grouped(con, cube, _ROLLUP, dims, sets, having=f"{{grouped}} = 1 OR sum(closed) >= {int(min_support)}")
    if duck:
        ids = f"""WITH c AS ({cube}) SELECT {names}, unnest(won_ids) AS id, true AS won FROM c
                  UNION ALL SELECT {names}, unnest(lost_ids) AS id, false AS won FROM c"""
        receipts = _grouped(con, ids, _RECEIPTS, dims, sets)
    else:
        receipts = _ranked_receipts(con, cols, names, dims, sets)
    won = f"SELECT amount, cycle_days, {cols} FROM deals WHERE outcome = 'won'"
    medians: dict = {}
    for i in range(0, len(sets), SETS_PER_QUERY):
        medians.update(_grouped(con, won, MEDIANS, dims, sets[i:i + SETS_PER_QUERY]))
    out = []
    for key, (closed, won_n, lost, total) in counts.items():
        med = medians.get(key, (None, None))
        won_ids, lost_ids = receipts.get(key, (None, None))
        out.append((dict(key), (int(closed), int(won_n), int(lost), total, *med, won_ids, lost_ids)))
    return out


def _ranked_receipts(con, cols: str, names: str, dims: list[str], sets: list[tuple[str, ...]]) -> dict:
    """The same receipts as `_RECEIPTS` (the first SAMPLE_IDS won and lost ids by text order, per segment)
    for engines without DuckDB's min(x, n): ranked at the finest grain, then per grouping set."""
    alias = {d: f"d{i}" for i, d in enumerate(dims)}
    order = 'id COLLATE "C"' if con.dialect == "postgres" else "id"  # byte order, as DuckDB sorts text
    first = f"""SELECT {names}, won, id FROM (SELECT {names}, outcome = 'won' AS won, CAST(deal_id AS VARCHAR) AS id,
        row_number() OVER (PARTITION BY {names}, outcome ORDER BY {order.replace("id", "CAST(deal_id AS VARCHAR)", 1)})
        AS r FROM (SELECT deal_id, outcome, {cols} FROM deals WHERE {CLOSED}) AS s) AS k WHERE r <= {SAMPLE_IDS}"""
    flags = ", ".join(f"GROUPING({alias[d]}) AS g{i}" for i, d in enumerate(dims))
    grouped = ", ".join("(" + ", ".join([*(alias[d] for d in s), "won", "id"]) + ")" for s in sets)
    part = ", ".join([*(f"g{i}" for i in range(len(dims))), names, "won"])
    sql = f"""SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY {part} ORDER BY {order}) AS r
        FROM (SELECT {names}, won, id, {flags} FROM ({first}) AS f GROUP BY GROUPING SETS ({grouped})) AS g) AS h
        WHERE r <= {SAMPLE_IDS} ORDER BY {order}"""
    n = len(dims)
    out: dict = {}
    for row in con.execute(sql).fetchall():
        values, won, ident, flags_ = row[:n], row[n], row[n + 1], row[n + 2:2 * n + 2]
        key = tuple((d, values[i]) for i, d in enumerate(dims) if flags_[i] == 0)
        if any(v is None for _, v in key):
            continue
        ids = out.setdefault(key, ([], []))
        ids[0 if won else 1].append(ident)
    return {k: (w or None, lo or None) for k, (w, lo) in out.items()}
