"""`score --leads-table NAME --out-table NEW`: the scores written back beside the leads, in the warehouse.

Each distinct combination of the leads' planned values is scored once in Python (`scoring.model`); the
new table is one CREATE TABLE AS over the leads table joined to those combinations (and the persona of each
distinct title) sent as VALUES, so the leads never travel to be written back. Every column of the leads
table comes along as stored, then SCORE_COLUMNS (a name the table already uses gets a "pa_" prefix).
Nothing of the notes or the brief goes to the warehouse: a disqualifier is named by its gate (the CRM values
it matches), never by the drafted ICP's reason text; persona names and confidences only, no reasons.
"""

from __future__ import annotations

from typing import Any

from persona_assistant.errors import UsageError
from persona_assistant.ingest.sqlnames import quote_ident as qi, quote_str as qs
from persona_assistant.scoring.persona_match import NO_PERSONA
from persona_assistant.warehouse.source import _NAME

SCORE_COLUMNS = ("score", "tier", "win_probability", "confidence", "persona", "persona_confidence",
                 "disqualified_by", "factors")


def _lit(value: Any) -> str:
    if value is None:
        return "CAST(NULL AS VARCHAR)"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return qs(str(value))


def _scored_select(con: Any, scored: Any, factor_text) -> tuple[str, list[str]]:
    """The SELECT of every leads column as stored, then the score columns; and the output header."""
    rel = con.relations["leads"]
    raw = [c for c, _ in rel.columns if c.startswith("r:")]
    taken = {c[2:].lower() for c in raw}
    out = {c: f"pa_{c}" if c in taken else c for c in SCORE_COLUMNS}
    dims = scored.dimensions
    combos: dict[tuple, dict] = {}
    titles: dict[Any, Any] = {}
    for row in scored.rows:
        combos.setdefault(tuple(row.values[d] for d in dims), row.result)
        titles.setdefault(row.title, row.persona)
    keys = [f"k{i}" for i in range(len(dims))]
    values = ", ".join(
        "(" + ", ".join([*(_lit(v) for v in combo), _lit(r["score"]), _lit(r["tier"]), _lit(r["win_probability"]),
                         _lit(r["confidence"]),
                         _lit("; ".join(g["gate"] for g in r["disqualified_by"])),
                         _lit(factor_text(r))]) + ")"
        for combo, r in combos.items())
    s_cols = ", ".join([*keys, "score", "tier", "win_probability", "confidence", "disqualified_by", "factors"])
    on = " AND ".join(f"l.{qi(d)} IS NOT DISTINCT FROM s.{k}" for d, k in zip(dims, keys)) or "TRUE"
    select = [f"l.{qi(c)} AS {qi(c[2:])}" for c in raw]
    select += [f"s.{c} AS {qi(out[c])}" for c in ("score", "tier", "win_probability", "confidence")]
    joins = f"LEFT JOIN (VALUES {values}) AS s({s_cols}) ON {on}"
    persona = [(t, p) for t, p in titles.items() if p is not None and t is not None]
    if persona:
        rows = ", ".join(f"({_lit(t)}, {_lit(p.persona_name or NO_PERSONA)}, {_lit(p.confidence)})"
                         for t, p in persona)
        joins += f" LEFT JOIN (VALUES {rows}) AS pm(title, persona, persona_confidence) ON l.title = pm.title"
        select += [f"pm.persona AS {qi(out['persona'])}", f"pm.persona_confidence AS {qi(out['persona_confidence'])}"]
    else:
        select += [f"CAST(NULL AS VARCHAR) AS {qi(out[c])}" for c in ("persona", "persona_confidence")]
    select += [f"s.{c} AS {qi(out[c])}" for c in ("disqualified_by", "factors")]
    header = [c[2:] for c in raw] + [out[c] for c in SCORE_COLUMNS]
    return f"SELECT {', '.join(select)} FROM leads AS l {joins}", header


def write_scores(con: Any, scored: Any, factor_text, *, out_table: str | None = None, out_csv=None) -> int:
    """The scored leads as a new table `out_table` in the warehouse (CREATE TABLE AS: the leads stay there),
    or fetched into `out_csv` (formula-safe, `export.csv_safe`); returns the rows written."""
    sql, header = _scored_select(con, scored, factor_text)
    if out_table is not None:
        if not _NAME.match(out_table):
            raise UsageError(f"--out-table {out_table}: a table name is [schema.]name of letters, digits and _")
        con.execute(f"CREATE TABLE {out_table} AS {sql}")
        return con.execute(f"SELECT count(*) FROM {out_table}").fetchone()[0]
    from persona_assistant.export.csv_safe import write_csv

    rows = con.execute(sql).fetchall()
    write_csv(out_csv, header, rows)
    return len(rows)


def leads_source(ws: Any, file: Any, history: Any, leads_table: str | None, out_table: str | None) -> Any:
    """The warehouse table `score` scores (--leads-table, in the history's --source or [source]), or None
    for a FILE; the combinations of FILE, --leads-table and --out-table checked."""
    from persona_assistant.analysis.segments import workspace_source
    from persona_assistant.warehouse.source import source_from

    if (file is None) == (leads_table is None):
        raise UsageError("score: name the leads as FILE or as --leads-table NAME (one of them)")
    if leads_table is None:
        if out_table is not None:
            raise UsageError("--out-table: only with --leads-table (a FILE's scores go to --out FILE.csv)")
        return None
    history = history or workspace_source(ws)
    if history is None:
        raise UsageError(f"--leads-table {leads_table}: name the warehouse with --source URL (or [source] url)")
    return source_from(history.url, leads_table, what="--leads-table")  # the name checked
