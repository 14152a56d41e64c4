"""CRM exports -> one canonical DuckDB table (`deals` or `leads`) that analysis and scoring read.

This module is the entry point (`load_crm`, and `load_leads` from `ingest.leads`); each step lives in
its own room:
  - `csvfile.open_csv` sniffs every file (encoding, delimiter, header);
  - `classify` decides each file's kind from its columns (deals: a stage/status column; accounts: an
    account plus firmographics; products: product + price; teams: sales agent + manager/office; else
    unused) and maps headers to canonical fields (`mapping.py`);
  - `staging` types each file's columns in SQL (`sqlvalues`: blanks, dates with D/M vs M/D decided per
    column; `numbers`: money strings; revenue units). The small files are read as text first; a deals
    file, the bulk, is typed in the same pass as the CSV read, with no all-text copy of a million-deal
    export;
  - `deals` builds the table: stage names to won/lost/open through a small table built from the
    DISTINCT raw stages, bands (`bands.band_sql`), deals joined to accounts (by id when both sides have
    one, else by case-insensitive name), products and sales teams. Keys that find no partner are
    reported in `IngestReport.unmatched`, and the deal stays (with NULL firmographics);
  - `quality` reports what did not parse and likely typos.
Nothing is merged or dropped silently: unparseable values, blank keys, near-duplicate category values and
every decision taken land in `IngestReport.value_notices`.

Row numbers in notices are 1-based data rows (the header is not counted).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from persona_assistant.errors import InputError, UsageError
from persona_assistant.ingest.classify import KIND_FIELDS, MappedFile, map_file, record_mapping, resolve_extras
from persona_assistant.ingest.crmdata import CrmData, connect, present_dimensions
from persona_assistant.ingest.csvfile import CsvSource, open_csv
from persona_assistant.dimensions import CATEGORY_COLUMNS, DEAL_COLUMNS, DEALS_TABLE, LEAD_COLUMNS
from persona_assistant.ingest.deals import build_deals
from persona_assistant.ingest.leads import load_leads
from persona_assistant.ingest.mapping import MappingFile, load_mapping
from persona_assistant.ingest.numbers import money_sql
from persona_assistant.ingest.quality import near_duplicates, report_near_duplicates
from persona_assistant.ingest.sqlnames import quote_ident as qi
from persona_assistant.ingest.sqlvalues import date_sql
from persona_assistant.ingest.staging import stage, stage_deals, union
from persona_assistant.schemas import IngestReport

# The public names callers import from here (one definition each: the tables' shape in `dimensions`, the
# rest in the room named above).
__all__ = ["CATEGORY_COLUMNS", "DEAL_COLUMNS", "LEAD_COLUMNS", "CrmData", "date_sql", "load_crm", "load_leads",
           "money_sql", "near_duplicates"]


def load_crm(paths: Sequence[Path], *, mapping_file: Path | None = None,
             extra_dimensions: Sequence[str] = (), all_columns: bool = False) -> CrmData:
    """Load CRM export files into table `deals` (columns: DEAL_COLUMNS + extras); see the module docstring.

    `all_columns`: every column no canonical field took (of the deals, accounts, products and teams files)
    comes along as an extra under its header, for `analysis.columns` to profile as a candidate dimension.
    """
    if not paths:
        raise UsageError("no CRM files given (put CSV/XLSX exports in the workspace's crm/ folder)")
    mapping = load_mapping(mapping_file)
    report = IngestReport()
    con = connect(paths)
    sources: list[CsvSource] = []
    workdir = None
    try:
        if mapping.funnel is not None:  # a leads file + a deals file: joined first (ingest/funnel.py)
            import tempfile

            from persona_assistant.ingest.funnel import join_funnel

            workdir = tempfile.TemporaryDirectory(prefix="pa-funnel-")
            paths, mapping = join_funnel(con, paths, mapping, report, Path(workdir.name))
        for i, p in enumerate(paths):  # sniff and map every file first: extras are resolved across files
            sources.append(open_csv(Path(p), f"raw_{i}"))
            report.files.append(sources[-1].raw.report)
            if workdir is not None and Path(p).parent == Path(workdir.name):  # not a path the user has
                sources[-1].raw.report.path = f"{Path(p).name} (the [funnel] join)"
        files = [map_file(s.raw, mapping) for s in sources]
        if all_columns:
            used = [set(f.fields.values()) for f in files]
            extra_dimensions = [*extra_dimensions, *(h for f, u in zip(files, used) if f.kind in KIND_FIELDS
                                                     for h in f.raw.columns if h not in u)]
        return _load_crm(con, sources, files, mapping, report, extra_dimensions)
    finally:
        for s in sources:
            s.close()
        if workdir is not None:
            workdir.cleanup()


def _load_crm(con, sources: list[CsvSource], files: list[MappedFile], mapping: MappingFile, report: IngestReport,
              extra_dimensions: Sequence[str]) -> CrmData:
    by_kind = {k: [f for f in files if f.kind == k] for k in ("deals", "accounts", "products", "teams")}
    if not by_kind["deals"]:
        for src in sources:  # a file that cannot be read is the more useful message
            src.load(con)
        kinds = ", ".join(f"{f.raw.path.name} ({f.kind})" for f in files)
        raise InputError(f"no deals file among {kinds}: a deals export needs a stage or status column "
                         "(or name it in the mapping file: [columns] stage = \"...\")")
    reserved = {c for c, _ in DEAL_COLUMNS}
    per_file, extras = resolve_extras(files, extra_dimensions, reserved)
    record_mapping(files, report, per_file)
    for i, f in enumerate(files):
        if f.kind == "deals":
            stage_deals(con, sources[i], f, report, mapping, per_file[i], i)
            continue
        sources[i].load(con)
        if f.kind == "unused":
            con.execute(f"DROP TABLE {qi(f.raw.name)}")
            f.raw.report.notices.append("not used: no deals, accounts, products or sales-team columns recognised")
            continue
        stage(con, f, report, mapping, per_file[i], i)

    def extras_of(kind: str) -> list[str]:
        return [x for i, f in enumerate(files) if f.kind == kind for x in per_file[i]]

    union(con, "d", by_kind["deals"], KIND_FIELDS["deals"], extras_of("deals"), view=True)
    has_acc = union(con, "a", by_kind["accounts"], KIND_FIELDS["accounts"], extras_of("accounts"))
    has_prod = union(con, "p", by_kind["products"], KIND_FIELDS["products"], extras_of("products"))
    has_team = union(con, "t", by_kind["teams"], KIND_FIELDS["teams"], extras_of("teams"))
    build_deals(con, report, mapping, extras, per_file, files, has_acc, has_prod, has_team)
    for f in by_kind["deals"]:
        con.execute(f"DROP VIEW {f.stg}; DROP TABLE {qi(f.raw.name)}")
    dims = present_dimensions(con, DEALS_TABLE, extras)
    report_near_duplicates(con, DEALS_TABLE, report)
    return CrmData(con, report, dims)
