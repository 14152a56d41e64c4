"""A warehouse table as the canonical `deals` (or `leads`) relation: the mapping applied in SQL, nothing copied.

The same `mapping.toml` and header synonyms as for exports (`ingest.mapping`) name the columns; stage names
become won/lost/open through `stage_outcome` over the table's DISTINCT stages (a few rows fetched); blanks
are trimmed to NULL, bands come from `bands.band_sql`, revenue in millions is scaled as ingestion does, and
every other column comes along as an extra under its own name for `analysis.columns` to plan. The result is a
SELECT over the user's table that `WarehouseCon` substitutes for `deals` in every query.

A warehouse holds typed columns: money fields must be numbers and date fields dates or timestamps; any
other type is refused in one line naming the source, the table and the column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from persona_assistant.bands import EMPLOYEE_BANDS, REVENUE_BANDS, band_sql
from persona_assistant.dimensions import DEAL_COLUMNS, LEAD_COLUMNS
from persona_assistant.errors import InputError
from persona_assistant.ingest.classify import KIND_FIELDS
from persona_assistant.ingest.mapping import infer_field, load_mapping, stage_outcome
from persona_assistant.ingest.sqlnames import quote_ident as qi, quote_str as qs
from persona_assistant.ingest.sqlvalues import DATE_FIELDS as DATES, MONEY_FIELDS as MONEY
from persona_assistant.ingest.staging import REVENUE_MILLIONS_BELOW
from persona_assistant.schemas import IngestReport
from persona_assistant.warehouse.query import WarehouseCon
from persona_assistant.warehouse.source import Source, connect

NUMBER_TYPES = ("smallint", "integer", "bigint", "int", "numeric", "decimal", "real", "double", "float", "hugeint",
                "tinyint", "ubigint", "uinteger", "usmallint", "utinyint", "number", "int64", "float64", "bignumeric")
DATE_TYPES = ("date", "timestamp", "datetime")


def _kind(sql_type: str) -> str:
    t = sql_type.lower()
    if t.startswith(DATE_TYPES):
        return "date"
    if t.startswith(NUMBER_TYPES):
        return "number"
    return "text" if t.startswith(("character", "varchar", "text", "string", "char", "enum", "uuid")) else t


def table_columns(con: WarehouseCon, source: Source) -> list[tuple[str, str]]:
    """(column, type) of the source's table, in order; a missing table is one line naming it."""
    schema, _, name = source.table.rpartition(".")
    where = f"table_name = {qs(name)} AND " + (f"table_schema = {qs(schema)}" if schema else
                                               "table_schema = current_schema()")
    if con.dialect == "bigquery":  # INFORMATION_SCHEMA is per dataset there
        where = f"table_name = {qs(name)}"
    query = (f"SELECT column_name, data_type FROM information_schema.columns WHERE {where} "
             "ORDER BY ordinal_position")
    if con.dialect == "spark":  # no information_schema for Spark's views
        try:
            query = f"DESCRIBE {source.table}"
            rows = [r[:2] for r in con.run(query, what="the table's columns").fetchall()]
        except InputError:
            rows = []
    else:
        rows = con.run(query, what="the table's columns").fetchall()
    if not rows:
        raise InputError(f"{source.where()}: no such table (or no columns visible to this user)")
    return [(str(c), str(t)) for c, t in rows]


def _fields(columns: list[tuple[str, str]], kind: str, mapping, table: str) -> dict[str, str]:
    """canonical field -> column: the mapping file first, then header synonyms (the first column wins)."""
    headers = [c for c, _ in columns]
    fields = {c: h for c in mapping.columns if c in KIND_FIELDS[kind]
              and (h := mapping.column_for(c, Path(table), headers))}
    used = set(fields.values())
    for h in headers:
        canon = infer_field(h, deals=kind == "deals")
        if canon in KIND_FIELDS[kind] and canon not in fields and h not in used:
            fields[canon] = h
            used.add(h)
    return fields


def _blank(col: str) -> str:
    return f"NULLIF(trim(CAST({qi(col)} AS VARCHAR)), '')"


def _typed(source: Source, canon: str, col: str, types: dict[str, str]) -> str:
    """The parsed value of a money or date field; an unusable type is refused naming the column."""
    kind = _kind(types[col])
    want = "number" if canon in MONEY else "date"
    if kind != want:
        raise InputError(f"{source.where(col)}: type {types[col]} cannot be read as {canon} "
                         f"(a {want} column is needed; cast it in a view)")
    return f"CAST({qi(col)} AS DOUBLE)" if want == "number" else f"CAST({qi(col)} AS DATE)"


def open_table(source: Source, *, mapping_file: Path | None = None, kind: str = "deals",
               con: WarehouseCon | None = None, extras_wanted: Sequence[str] | None = None):
    """`CrmData` whose `con` is a `WarehouseCon` with the relation `deals` (or `leads`) defined.

    `con`: a connection that already holds the history (the leads to score live beside it); `extras_wanted`:
    only these unmapped columns come along (a leads table keeps every column as stored too, as "r:<name>")."""
    from persona_assistant.ingest.crmdata import CrmData, present_dimensions

    mapping = load_mapping(mapping_file)
    con = con or WarehouseCon(source, connect(source), source.dialect)
    columns = table_columns(con, source)
    types = dict(columns)
    fields = _fields(columns, kind, mapping, source.table)
    if kind == "deals":  # a column the mapping names for this table must be there
        for canon, spec in mapping.columns.items():
            file, sep, name = spec.partition(":")  # "file:header" as `MappingFile.column_for` reads it
            file, name = (file, name) if sep else ("", spec)
            found = mapping.column_for(canon, Path(source.table), list(types))
            if canon in KIND_FIELDS[kind] and found is None and (
                    not file or file.strip().lower() == source.table.lower()):
                raise InputError(f"{source.where(name.strip())}: no such column (named for {canon} in "
                                 f"{mapping.path.name if mapping.path else 'the mapping file'})")
    report = IngestReport()
    for canon, h in fields.items():
        report.mapping[canon] = f"{source.table}:{h}"
        report.mapping_source[canon] = "mapping file" if canon in mapping.columns else "inferred"
    used = set(fields.values())
    extras = [c for c, _ in columns if c not in used and (extras_wanted is None or c in extras_wanted)]
    inner = []
    for canon, h in fields.items():
        inner.append(f"{_typed(source, canon, h, types) if canon in MONEY or canon in DATES else _blank(h)} "
                     f"AS {qi(canon)}")
    inner += [f"{_blank(x)} AS {qi('x:' + x)}" for x in extras]
    raw = [c for c, _ in columns] if kind == "leads" else []  # as stored, for scores written back beside them
    inner += [f"{qi(c)} AS {qi('r:' + c)}" for c in raw]
    base = f"SELECT {', '.join(inner) or '1 AS _none'} FROM {source.table}"
    if kind == "deals":
        outer, out_columns, relation = _deal_columns(con, source, fields, mapping, base, report)
    else:
        outer, out_columns, relation = _lead_columns(con, fields, mapping, base, report)
    outer += [f"{qi('x:' + x)} AS {qi(x)}" for x in extras] + [qi("r:" + c) for c in raw]
    out_columns += [(x, "VARCHAR") for x in extras] + [("r:" + c, types[c]) for c in raw]
    con.define(kind, f"SELECT {', '.join(outer)} FROM ({relation}) AS t", out_columns)
    return CrmData(con, report, present_dimensions(con, kind, extras))


def _col(fields: dict[str, str], canon: str, typ: str = "VARCHAR") -> str:
    return qi(canon) if canon in fields else f"CAST(NULL AS {typ})"


def _revenue(con: WarehouseCon, fields: dict[str, str], mapping, base: str, report: IngestReport) -> str:
    """revenue scaled to USD: x 1e6 when the mapping says millions, or (reported) every value is below 100,000."""
    if "revenue" not in fields:
        return "CAST(NULL AS DOUBLE)"
    unit = mapping.units.get("revenue")
    col = f"{con.source.table}:{fields['revenue']}"
    if unit is None:
        n, top = con.run(con.sql(f"SELECT count(revenue), max(abs(revenue)) FROM ({base}) AS t"),
                         what="revenue units").fetchone()
        if n and top < REVENUE_MILLIONS_BELOW:
            report.value_notices.append(
                f"{col}: all {n} revenue values are below {REVENUE_MILLIONS_BELOW:,} (max {top:,.2f}): read as "
                'millions of USD (set [units] revenue = "units" in the mapping file if they are plain USD)')
            unit = "millions"
    elif unit == "millions":
        report.value_notices.append(f"{col}: revenue read as millions of USD (mapping file)")
    return "revenue * 1000000.0" if unit == "millions" else "revenue"


def _firmographics(con, fields, mapping, base, report) -> dict[str, str]:
    revenue = _revenue(con, fields, mapping, base, report)
    return {"employees": _col(fields, "employees", "DOUBLE"),
            "employee_band": band_sql(_col(fields, "employees", "DOUBLE"), EMPLOYEE_BANDS),
            "revenue": revenue, "revenue_band": band_sql(f"({revenue})", REVENUE_BANDS)}


def _deal_columns(con: WarehouseCon, source: Source, fields: dict[str, str], mapping, base: str,
                  report: IngestReport) -> tuple[list[str], list[tuple[str, str]], str]:
    if "deal_id" not in fields:
        raise InputError(f"{source.where()}: no deal id column (name it in the mapping file: [columns] deal_id = "
                         "\"...\"); receipts name deals by their id")
    stage_cols = [c for c in ("status", "stage") if c in fields]
    if not stage_cols:
        raise InputError(f"{source.where()}: no stage or status column (name it in the mapping file: "
                         "[columns] stage = \"...\")")
    src = f"COALESCE({', '.join(qi(c) for c in stage_cols)})"
    names = [r[0] for r in con.run(con.sql(f"SELECT DISTINCT {src} FROM ({base}) AS t"),
                                   what="the stage names").fetchall() if r[0] is not None]
    outcome_of = {n: stage_outcome(n, mapping.stages) for n in names}
    unmapped = sorted(n for n, o in outcome_of.items() if o is None)
    if unmapped:
        report.value_notices.append(f"stage names with no known outcome ({', '.join(map(repr, unmapped[:5]))}): "
                                    "outcome left blank; map them in the mapping file [stages]")
    whens = " ".join(f"WHEN {qs(n)} THEN {qs(o)}" for n, o in sorted(outcome_of.items()) if o)
    outcome = f"CASE {src} {whens} END" if whens else "CAST(NULL AS VARCHAR)"
    stage = ("COALESCE(stage, status)" if len(stage_cols) == 2 else qi(stage_cols[0]))
    created = _col(fields, "created", "DATE")
    ends = {o: _col(fields, f"{o}_time", "DATE") for o in ("won", "lost")}
    closed = (f"CASE WHEN o = 'open' THEN NULL ELSE COALESCE({_col(fields, 'closed', 'DATE')}, "
              f"CASE o WHEN 'won' THEN {ends['won']} WHEN 'lost' THEN {ends['lost']} END) END")
    special = {"deal_id": qi("deal_id"), "stage": stage, "outcome": "o", "closed": "c",
               "cycle_days": f"CASE WHEN c >= {created} THEN CAST(date_diff('day', {created}, c) AS INTEGER) END",
               "created": created,
               **_firmographics(con, fields, mapping, base, report)}
    select = [f"CAST({special.get(n, _col(fields, n, t))} AS {t}) AS {qi(n)}" for n, t in DEAL_COLUMNS]
    # the outcome and the close date once per row, under short names the outer SELECT reads
    relation = f"SELECT *, {closed} AS c FROM (SELECT *, {outcome} AS o FROM ({base}) AS b) AS s"
    return select, list(DEAL_COLUMNS), relation


def _lead_columns(con: WarehouseCon, fields: dict[str, str], mapping, base: str, report: IngestReport
                  ) -> tuple[list[str], list[tuple[str, str]], str]:
    name = (f"COALESCE({_col(fields, 'contact_name')}, NULLIF(concat_ws(' ', {_col(fields, 'first_name')}, "
            f"{_col(fields, 'last_name')}), ''))")
    special = {"contact_name": name, **_firmographics(con, fields, mapping, base, report)}
    select = [f"CAST({special.get(n, _col(fields, n, t))} AS {t}) AS {qi(n)}" for n, t in LEAD_COLUMNS]
    return select, list(LEAD_COLUMNS), base  # row_number NULL: a table's rows have no order
