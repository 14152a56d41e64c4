"""The canonical deals table's columns: which are dimensions (segments, scoring) and which are not, and why.

One list for ingestion (`ingest.crm`: which mapped columns count as dimensions with data, which get typo
hints), analysis (`analysis.columns`: the plan of every column) and scoring. A column of an export
that maps to none of these canonical fields still becomes a candidate dimension: `analysis.columns`
profiles it (category, number banded by quantiles, small-integer codes, id, free text, date, leak).
"""

from __future__ import annotations

# Text categories mapped from the export, analysed as they are.
CATEGORY_DIMENSIONS = ("industry", "region", "country", "product", "lead_source", "technologies")
# Numbers with a known banding (`bands.py`): the band column is the dimension.
BANDED_DIMENSIONS = {"employee_band": "employees", "revenue_band": "revenue"}
# The dimensions of the canonical table, in display order.
CANONICAL_DIMENSIONS = ("industry", "employee_band", "revenue_band", "region", "country", "product",
                        "lead_source", "owner", "technologies")
# The subset `load_crm` reports as `CrmData.dimensions` by default (technologies joins once the analysis
# plans every column). `owner` is listed for `--dimension owner`; by default it is not a dimension.
BASE_DIMENSIONS = ("industry", "employee_band", "revenue_band", "region", "country", "product", "lead_source")
# Text fields whose values get near-duplicate (typo) hints at ingestion.
TYPO_FIELDS = ("industry", "region", "country", "product", "lead_source")

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
