"""Leads: one accounts/contacts file to score, loaded into table `leads` (`LEAD_COLUMNS` + extras).

Design: the same classification, staging and quality notices as the deals history (`classify`, `staging`,
`quality`), with the file's kind forced to "leads" and no joins. An extra dimension the file lacks is
skipped: the leads are scored on what they hold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from persona_assistant.bands import EMPLOYEE_BANDS, REVENUE_BANDS, band_sql
from persona_assistant.dimensions import LEAD_COLUMNS, LEADS_TABLE
from persona_assistant.ingest.classify import read_all, record_mapping, resolve_extras
from persona_assistant.ingest.crmdata import CrmData, connect, present_dimensions
from persona_assistant.ingest.sqlnames import quote_ident as qi
from persona_assistant.ingest.mapping import load_mapping
from persona_assistant.ingest.quality import report_near_duplicates
from persona_assistant.ingest.staging import stage
from persona_assistant.schemas import IngestReport

def load_leads(path: Path, *, mapping_file: Path | None = None,
               extra_dimensions: Sequence[str] = ()) -> CrmData:
    """Load one accounts/contacts file to score into table `leads` (LEAD_COLUMNS + extras).

    An extra dimension the file does not have is skipped: the leads are scored on what they hold."""
    mapping = load_mapping(mapping_file)
    report = IngestReport()
    con = connect([path])
    (f,) = read_all(con, [path], mapping, report, forced_kind="leads")
    reserved = {c for c, _ in LEAD_COLUMNS}
    per_file, extras = resolve_extras([f], extra_dimensions, reserved, missing_ok=True)
    record_mapping([f], report, per_file)
    stage(con, f, report, mapping, per_file[0], 0)
    have = {r[0] for r in con.execute(f"DESCRIBE {f.stg}").fetchall()}

    def col(c: str, typ: str = "VARCHAR") -> str:
        return qi(c) if c in have else f"CAST(NULL AS {typ})"

    name = (f"COALESCE({col('contact_name')}, NULLIF(concat_ws(' ', {col('first_name')}, {col('last_name')}), ''))")
    con.execute(f"""CREATE TABLE l AS SELECT _row AS row_number, {col('account')} AS account,
        {col('industry')} AS industry, {col('employees', 'DOUBLE')} AS employees,
        {col('revenue', 'DOUBLE')} AS revenue, {col('region')} AS region, {col('country')} AS country,
        {col('product')} AS product, {col('lead_source')} AS lead_source, {col('technologies')} AS technologies,
        {col('title')} AS title, {name} AS contact_name, {col('email')} AS email, {col('phone')} AS phone
        {''.join(f", {qi('x:' + x)} AS {qi(x)}" for x in extras)} FROM {f.stg}""")
    con.execute(f"DROP TABLE {f.stg}")
    select = _final_columns(LEAD_COLUMNS, {})
    con.execute(f"CREATE TABLE {LEADS_TABLE} AS SELECT {select}{''.join(', ' + qi(x) for x in extras)} "
                "FROM l ORDER BY row_number")
    con.execute("DROP TABLE l")
    dims = present_dimensions(con, LEADS_TABLE, extras)
    report_near_duplicates(con, LEADS_TABLE, report)
    return CrmData(con, report, dims)


def _final_columns(columns: Sequence[tuple[str, str]], special: dict[str, str]) -> str:
    """The final SELECT list: `special` expressions, bands computed from their numbers, the rest cast."""
    parts = []
    for name, typ in columns:
        if name in special:
            parts.append(f"{special[name]} AS {name}")
        elif name == "employee_band":
            parts.append(f"{band_sql('employees', EMPLOYEE_BANDS)} AS employee_band")
        elif name == "revenue_band":
            parts.append(f"{band_sql('revenue', REVENUE_BANDS)} AS revenue_band")
        else:
            parts.append(f"CAST({qi(name)} AS {typ}) AS {qi(name)}")
    return ", ".join(parts)
