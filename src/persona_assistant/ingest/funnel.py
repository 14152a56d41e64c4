"""A funnel: a leads/MQL file plus a deals file joined by a key, read as one deals export with outcomes.

Marketing data commonly comes as the leads that entered the funnel and, separately, the deals some of
them became. With a `[funnel]` section in the mapping file (`ingest/mapping.py`) the two files are
joined on the key before anything else is read, and every lead gets an outcome:

- a lead with a won deal is won; with a lost deal (and no won one), lost; with only open deals, open;
- a lead with no deal is lost once `window_days` have passed since it was created (its closing date is
  then created + window), and open while younger; `as_of` is the day the window is measured to
  (default: the latest date in either file). A lead with no deal and no created date stays open.

A deals file with a stage/status column gives each deal's outcome like any deals export (`[stages]`
applies); without one, every row is a won deal (a closed-deals list). The deal's date (won time, close
date) is the closing date of its lead. When a lead has several deals, its won deal (else the lost one,
else an open one; the earliest date first) is used. Keys are compared trimmed; the join's unmatched keys
are reported like any join (`IngestReport.unmatched`): deals whose key matches no lead are not counted.

The joined rows (every lead column, then every deal column but the key, the stage and the date used)
are written to a temporary CSV named `<leads>+<deals>.csv` with two added columns, `funnel_stage` and
`funnel_closed`, mapped to stage and closed; `load_crm` then reads it like any deals export, so its
columns are mapped, profiled and leak-checked (attributes filled only on won deals are an outcome leak).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

from persona_assistant.errors import InputError
from persona_assistant.ingest.csvfile import read_table
from persona_assistant.ingest.mapping import MappingFile, infer_field, stage_outcome
from persona_assistant.ingest.sqlnames import quote_ident as qi, quote_str as qs
from persona_assistant.schemas import IngestReport, UnmatchedKeys

EXAMPLES = 5
STAGE, CLOSED = "funnel_stage", "funnel_closed"


def _find(paths: Sequence[Path], name: str, key: str, mapping: MappingFile) -> int:
    low = name.strip().lower()
    for i, p in enumerate(paths):
        if low in (Path(p).name.lower(), Path(p).stem.lower()):
            return i
    names = ", ".join(Path(p).name for p in paths)
    raise InputError(f"{mapping.path}: [funnel] {key} = {name!r}: no such file among {names}")


def _header(raw, wanted: str, mapping: MappingFile, what: str) -> str:
    hit = next((h for h in raw.columns if h.strip().lower() == wanted.strip().lower()), None)
    if hit is None:
        raise InputError(f"{mapping.path}: [funnel] key: {raw.path.name} has no column {wanted!r} ({what} key)")
    return hit


def _field(raw, mapping: MappingFile, fields: Sequence[str], *, deals: bool) -> str | None:
    """The header of the first of `fields` the mapping names in this file, else the first inferred."""
    for f in fields:
        h = mapping.column_for(f, raw.path, raw.columns)
        if h:
            return h
    for f in fields:
        h = next((h for h in raw.columns if infer_field(h, deals=deals) == f), None)
        if h:
            return h
    return None


def _date(col: str) -> str:
    from persona_assistant.ingest.crm import date_sql

    return date_sql(f"NULLIF(trim({col}), '')")


def join_funnel(con, paths: Sequence[Path], mapping: MappingFile, report: IngestReport, workdir: Path
                ) -> tuple[list[Path], MappingFile]:
    """Replace the funnel's two files in `paths` by their join (a CSV in `workdir`); see the module docstring.

    Returns the new paths and a mapping that maps the added columns (and no longer names the two files).
    """
    spec = mapping.funnel
    li = _find(paths, spec.leads, "leads", mapping)
    di = _find(paths, spec.deals, "deals", mapping)
    if li == di:
        raise InputError(f"{mapping.path}: [funnel] leads and deals name the same file")
    leads = read_table(con, Path(paths[li]), "funnel_leads")
    deals = read_table(con, Path(paths[di]), "funnel_deals")
    for raw, kind in ((leads, "funnel leads"), (deals, "funnel deals")):
        raw.report.kind = kind
        report.files.append(raw.report)
    lkey = _header(leads, spec.lead_key, mapping, "leads")
    dkey = _header(deals, spec.deal_key, mapping, "deals")
    created = _field(leads, mapping, ("created",), deals=False)
    stage = _field(deals, mapping, ("status", "stage"), deals=True)
    when = _field(deals, mapping, ("closed", "won_time", "lost_time"), deals=True)
    label = f"{deals.path.name}.{dkey} -> {leads.path.name}.{lkey}"
    notices = report.value_notices

    # each deal's outcome, from its stage/status (a small table of the distinct names) or "won"
    con.execute("CREATE TABLE funnel_outcomes (name VARCHAR, outcome VARCHAR)")
    if stage:
        names = [r[0] for r in con.execute(f"SELECT DISTINCT {qi(stage)} FROM funnel_deals "
                                           f"WHERE {qi(stage)} IS NOT NULL").fetchall()]
        known = {n: stage_outcome(n, mapping.stages) for n in names}
        if known:
            con.executemany("INSERT INTO funnel_outcomes VALUES (?, ?)", list(known.items()))
        unknown = sorted(n for n, o in known.items() if o is None)
        if unknown:
            notices.append(f"{deals.path.name}: stage names with no known outcome "
                           f"({', '.join(repr(n) for n in unknown[:EXAMPLES])}): those deals are not counted; "
                           "map them in the mapping file [stages]")
        outcome = f"(SELECT outcome FROM funnel_outcomes WHERE name = d.{qi(stage)})"
    else:
        notices.append(f"{deals.path.name}: no stage or status column: every row is read as a won deal")
        outcome = "'won'"
    dated = _date(f"d.{qi(when)}") if when else "CAST(NULL AS DATE)"
    lcreated = _date(f"l.{qi(created)}") if created else "CAST(NULL AS DATE)"

    # one deal per key: won, else lost, else open; earliest first
    drop = {dkey, stage, when} - {None}
    keep = [h for h in deals.columns if h not in drop]
    con.execute(f"""CREATE TABLE funnel_d AS SELECT * FROM (
        SELECT trim(d.{qi(dkey)}) AS _key, {outcome} AS _outcome, {dated} AS _date,
               {', '.join(f'd.{qi(h)}' for h in keep) or 'NULL AS _none'}
        FROM funnel_deals d WHERE NULLIF(trim(d.{qi(dkey)}), '') IS NOT NULL)
        WHERE _outcome IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY _key ORDER BY
            CASE _outcome WHEN 'won' THEN 0 WHEN 'lost' THEN 1 ELSE 2 END, _date NULLS LAST) = 1""")
    blank_deals = con.execute(f"SELECT count(*) FROM funnel_deals WHERE NULLIF(trim({qi(dkey)}), '') IS NULL"
                              ).fetchone()[0]
    if blank_deals:
        notices.append(f"{deals.path.name}: {blank_deals} deal(s) with a blank {dkey}: not counted")
    several = con.execute(f"SELECT count(*) FROM (SELECT trim({qi(dkey)}) FROM funnel_deals "
                          f"WHERE NULLIF(trim({qi(dkey)}), '') IS NOT NULL GROUP BY 1 HAVING count(*) > 1)"
                          ).fetchone()[0]
    if several:
        notices.append(f"{several} lead(s) have several deals in {deals.path.name}: the won one (else lost, "
                       "else open; earliest first) is used")
    dup = con.execute(f"SELECT count(*) - count(DISTINCT trim({qi(lkey)})) FROM funnel_leads "
                      f"WHERE NULLIF(trim({qi(lkey)}), '') IS NOT NULL").fetchone()[0]
    if dup:
        notices.append(f"{leads.path.name}: {dup} row(s) repeat a {lkey} already seen: the first row is used")
    con.execute(f"""CREATE TABLE funnel_l AS SELECT *, {lcreated} AS _created FROM funnel_leads l
        QUALIFY NULLIF(trim({qi(lkey)}), '') IS NULL
             OR row_number() OVER (PARTITION BY trim({qi(lkey)}) ORDER BY rowid) = 1""")

    n, distinct, examples = con.execute(f"""
        WITH miss AS (SELECT _key, count(*) AS c FROM funnel_d WHERE _key NOT IN
                      (SELECT trim({qi(lkey)}) FROM funnel_l WHERE {qi(lkey)} IS NOT NULL) GROUP BY 1)
        SELECT sum(c), count(*), (SELECT list(_key ORDER BY c DESC, _key)[1:{EXAMPLES}] FROM miss) FROM miss
        """).fetchone()
    if n:
        report.unmatched.append(UnmatchedKeys(join=label, count=int(n), distinct=distinct, examples=examples or []))
        notices.append(f"{n} deal(s) in {deals.path.name} match no lead in {leads.path.name}: not counted")

    as_of = spec.as_of or con.execute(
        "SELECT greatest((SELECT max(_created) FROM funnel_l), (SELECT max(_date) FROM funnel_d))").fetchone()[0]
    aso = f"DATE '{as_of.isoformat()}'" if as_of else "NULL"
    due = f"(l._created + INTERVAL {int(spec.window_days)} DAY)"
    taken = {h.lower() for h in leads.columns}
    deal_cols = [(h, h if h.lower() not in taken else f"deal {h}") for h in keep]
    con.execute(f"""CREATE TABLE funnel_joined AS SELECT l.* EXCLUDE (_created),
        {''.join(f'd.{qi(h)} AS {qi(name)}, ' for h, name in deal_cols)}
        CASE WHEN d._outcome IS NOT NULL THEN d._outcome
             WHEN l._created IS NULL OR {aso} IS NULL THEN 'open'
             WHEN {due} <= {aso} THEN 'lost' ELSE 'open' END AS {STAGE},
        CAST(CASE WHEN d._outcome IN ('won', 'lost') THEN d._date
             WHEN d._outcome IS NULL AND {due} <= {aso} THEN CAST({due} AS DATE) END AS VARCHAR) AS {CLOSED}
        FROM funnel_l l LEFT JOIN funnel_d d ON d._key = trim(l.{qi(lkey)})""")
    counts = dict(con.execute(f"SELECT {STAGE}, count(*) FROM funnel_joined GROUP BY 1").fetchall())
    no_deal = con.execute(f"""SELECT count(*) FILTER (WHERE j.{STAGE} = 'lost'), count(*) FILTER (WHERE j.{STAGE} = 'open'),
        count(*) FILTER (WHERE j.{STAGE} = 'open' AND j.{qi(created) if created else "NULL"} IS NULL)
        FROM funnel_joined j WHERE NULLIF(trim(j.{qi(lkey)}), '') IS NULL
           OR trim(j.{qi(lkey)}) NOT IN (SELECT _key FROM funnel_d)""").fetchone()
    notices.append(
        f"funnel {leads.path.name} + {deals.path.name} on {lkey}: {counts.get('won', 0)} won, "
        f"{counts.get('lost', 0)} lost, {counts.get('open', 0)} open; of the leads with no deal, {no_deal[0]} "
        f"are lost ({spec.window_days} days passed by {as_of}) and {no_deal[1]} open"
        + (f" ({no_deal[2]} without a created date)" if no_deal[2] else ""))

    out = workdir / f"{leads.path.stem}+{deals.path.stem}.csv"
    con.execute(f"COPY funnel_joined TO {qs(str(out))} (HEADER, DELIMITER ',')")
    for t in ("funnel_leads", "funnel_deals", "funnel_outcomes", "funnel_d", "funnel_l", "funnel_joined"):
        con.execute(f"DROP TABLE {t}")
    new_paths = [out if i == li else p for i, p in enumerate(paths) if i != di]
    columns = {c: spec_ for c, spec_ in mapping.columns.items()
               if ":" not in spec_ or spec_.split(":", 1)[0].strip().lower() not in
               {leads.path.name.lower(), leads.path.stem.lower(), deals.path.name.lower(), deals.path.stem.lower()}}
    for c, spec_ in mapping.columns.items():  # "leads.csv:Source" -> "Source" (the joined file holds it)
        if c not in columns and c not in ("stage", "status", "closed", "won_time", "lost_time"):
            columns[c] = spec_.split(":", 1)[1]
    columns.update(stage=STAGE, closed=CLOSED)
    columns.pop("status", None)
    return new_paths, replace(mapping, columns=columns)
