"""The CRM tables' shape: their names, their columns, and which columns are dimensions (segments, scoring),
which are not, and why.

One owner for ingestion (`ingest.deals` and `ingest.leads` build the tables to these columns) and tests
(`tests/crm_builder.py`), and one dimension list (`CANONICAL_DIMENSIONS`, the others are views of it) for
ingestion (which mapped columns count as dimensions with data, which get typo hints), analysis (`analysis.columns`: the plan of every column) and scoring. A column of an export
that maps to none of these canonical fields still becomes a candidate dimension: `analysis.columns`
profiles it (category, number banded by quantiles, small-integer codes, id, free text, date, leak).
"""

from __future__ import annotations

# The tables a CRM load builds (`ingest.crm.load_crm`, `ingest.leads.load_leads`), with their columns in order;
# extra dimensions follow the canonical columns under their own names.
DEALS_TABLE = "deals"
LEADS_TABLE = "leads"
DEAL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("deal_id", "VARCHAR"), ("account", "VARCHAR"), ("stage", "VARCHAR"), ("outcome", "VARCHAR"),
    ("amount", "DOUBLE"), ("created", "DATE"), ("closed", "DATE"), ("cycle_days", "INTEGER"),
    ("industry", "VARCHAR"), ("employees", "DOUBLE"), ("employee_band", "VARCHAR"), ("revenue", "DOUBLE"),
    ("revenue_band", "VARCHAR"), ("region", "VARCHAR"), ("country", "VARCHAR"), ("product", "VARCHAR"),
    ("lead_source", "VARCHAR"), ("owner", "VARCHAR"), ("technologies", "VARCHAR"),
)
LEAD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("row_number", "INTEGER"), ("account", "VARCHAR"), ("industry", "VARCHAR"), ("employees", "DOUBLE"),
    ("employee_band", "VARCHAR"), ("revenue", "DOUBLE"), ("revenue_band", "VARCHAR"), ("region", "VARCHAR"),
    ("country", "VARCHAR"), ("product", "VARCHAR"), ("lead_source", "VARCHAR"), ("technologies", "VARCHAR"),
    ("title", "VARCHAR"), ("contact_name", "VARCHAR"), ("email", "VARCHAR"), ("phone", "VARCHAR"),
)
# Text columns of `deals` stored as ENUMs when they hold few enough values (`ingest.deals`).
CATEGORY_COLUMNS = ("stage", "industry", "region", "country", "product", "lead_source", "owner", "technologies")

# THE dimension list: the canonical table's dimensions, in display order. The lists below are views of it.
CANONICAL_DIMENSIONS = ("industry", "employee_band", "revenue_band", "region", "country", "product",
                        "lead_source", "owner", "technologies")
# Numbers with a known banding (`bands.py`): the band column is the dimension.
BANDED_DIMENSIONS = {"employee_band": "employees", "revenue_band": "revenue"}
# Dimensions only on request: `owner` (`--dimension owner`; who sold, not who bought) and `technologies`
# (it joins once the analysis plans every column).
OPT_IN_DIMENSIONS = ("owner", "technologies")
# What `load_crm` reports as `CrmData.dimensions` by default.
BASE_DIMENSIONS = tuple(d for d in CANONICAL_DIMENSIONS if d not in OPT_IN_DIMENSIONS)
# Text categories mapped from the export, analysed as they are.
CATEGORY_DIMENSIONS = tuple(d for d in CANONICAL_DIMENSIONS if d not in BANDED_DIMENSIONS and d != "owner")
# Text fields whose values get near-duplicate (typo) hints at ingestion.
TYPO_FIELDS = tuple(d for d in CATEGORY_DIMENSIONS if d != "technologies")

# How a deal was acquired (a channel), not what the company is: reported as findings, never a company-fit
# disqualifier (services.scoring drops such hard gates). Canonical ones, and the words that mark an
# unmapped header as one (`is_channel`).
CHANNEL_DIMENSIONS = ("lead_source",)
CHANNEL_WORDS = frozenset({"source", "campaign", "channel", "utm", "medium"})


def is_channel(column: str) -> bool:
    """A channel dimension: canonical (lead_source) or a header with a channel word ("Campaign Name")."""
    words = "".join(ch if ch.isalnum() else " " for ch in column.lower()).split()
    return column in CHANNEL_DIMENSIONS or any(w in CHANNEL_WORDS or w.startswith("utm") for w in words)


# Canonical columns that are never dimensions, with the reason `analyze` prints.
NOT_DIMENSIONS = {
    "deal_id": "the deal's id",
    "account": "the account's name: a join key, one value per customer",
    "account_id": "the account's id: a join key",
    "owner": "the deal's owner: who sold, not who bought (and a person's name in the ICP prompt)",
    "stage": "the outcome itself",
    "status": "the outcome itself",
    "outcome": "the outcome itself",
    "won_time": "a date, recorded with the outcome",
    "lost_time": "a date, recorded with the outcome",
    "price": "a product's list price (joined by product)",
    "manager": "a sales team's manager (joined by owner)",
    "amount": "the deal's value: a measure (expected value), recorded with the outcome",
    "created": "a date",
    "closed": "a date, recorded with the outcome",
    "cycle_days": "measured when the deal closes",
    "employees": "a number: analysed as employee_band",
    "revenue": "a number: analysed as revenue_band",
    "row_number": "the row's position",
    "title": "a contact's job title (matched to personas)",
    "contact_name": "a person's name",
    "email": "contact details",
    "phone": "contact details",
}
