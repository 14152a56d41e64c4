"""Header synonyms, stage names and the mapping file."""

from __future__ import annotations

import pytest

from persona_assistant.errors import InputError
from persona_assistant.ingest.mapping import infer_field, load_mapping, norm, stage_outcome


@pytest.mark.parametrize("header,field", [
    ("Deal Stage", "stage"), ("StageName", "stage"), ("deal_stage", "stage"), ("Stage", "stage"),
    ("Deal - Status", "status"), ("Amount", "amount"), ("close_value", "amount"), ("Deal - Value", "amount"),
    ("Industry", "industry"), ("sector", "industry"), ("Organization - Industry", "industry"),
    ("Number of Employees", "employees"), ("employees", "employees"), ("Annual Revenue", "revenue"),
    ("Country/Region", "country"), ("Billing Country", "country"), ("office_location", "country"),
    ("Associated Company", "account"), ("Account Name", "account"), ("Deal - Organization", "account"),
    ("Associated Company IDs", "account_id"), ("Opportunity ID", "deal_id"), ("Deal - ID", "deal_id"),
    ("Create Date", "created"), ("Created Date", "created"), ("engage_date", "created"),
    ("Deal - Deal created", "created"), ("Close Date", "closed"), ("Deal - Won time", "won_time"),
    ("Lead Source", "lead_source"), ("Deal owner", "owner"), ("sales_agent", "owner"),
    ("regional_office", "region"), ("sales_price", "price"), ("Job Title", "title"),
])
def test_header_synonyms(header, field):
    assert infer_field(header, deals=True) == field


def test_record_id_depends_on_the_file():
    assert infer_field("Record ID", deals=True) == "deal_id"
    assert infer_field("Record ID", deals=False) == "account_id"
    assert infer_field("Record ID") is None
    assert infer_field("year_established", deals=True) is None
    assert norm(" Deal - Stage ") == "dealstage"


@pytest.mark.parametrize("stage,outcome", [
    ("Closed Won", "won"), ("closedwon", "won"), ("Won", "won"), ("won", "won"),
    ("Closed Lost", "lost"), ("closedlost", "lost"), ("Lost", "lost"),
    ("Engaging", "open"), ("Prospecting", "open"), ("Appointment Scheduled", "open"),
    ("Negotiation/Review", "open"), ("Proposal/Price Quote", "open"), ("open", "open"),
    ("Closed Won - Expansion", "won"), ("Lost (no budget)", "lost"),
    ("Verbal Yes", None), ("Won or Lost?", None),
])
def test_stage_outcomes(stage, outcome):
    assert stage_outcome(stage) == outcome


def test_mapping_file_stages_win_over_built_in_names():
    assert stage_outcome("Verbal Yes", {"verbal yes": "won"}) == "won"
    assert stage_outcome("Engaging", {"engaging": "lost"}) == "lost"


def test_load_mapping(tmp_path):
    path = tmp_path / "mapping.toml"
    path.write_text('[columns]\nindustry = "Sector"\namount = "deals.csv:Net"\n'
                    '[stages]\n"Contract Signed" = "won"\n'
                    '[aliases.product]\n"GTXPro" = "GTX Pro"\n[units]\nrevenue = "millions"\n', encoding="utf-8")
    m = load_mapping(path)
    assert m.columns == {"industry": "Sector", "amount": "deals.csv:Net"}
    assert m.stages == {"contract signed": "won"}
    assert m.aliases == {"product": {"GTXPro": "GTX Pro"}}
    assert m.units == {"revenue": "millions"}
    from pathlib import Path
    assert m.column_for("industry", Path("x.csv"), ["id", "SECTOR"]) == "SECTOR"
    assert m.column_for("amount", Path("other.csv"), ["Net"]) is None
    assert m.column_for("amount", Path("deals.csv"), ["Net"]) == "Net"


@pytest.mark.parametrize("text,fragment", [
    ('[columns]\nsector = "Sector"\n', "[columns] sector: not a canonical field"),
    ('[stages]\n"Signed" = "maybe"\n', '[stages] "Signed"'),
    ('[aliases.colour]\n"a" = "b"\n', "[aliases.colour]"),
    ('[units]\nrevenue = "thousands"\n', "[units] revenue"),
    ('[colums]\nindustry = "x"\n', "unknown section [colums]"),
    ('[columns\n', "not valid TOML"),
])
def test_bad_mapping_files_name_the_key(tmp_path, text, fragment):
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_mapping(path)
    assert fragment in info.value.message and str(path) in info.value.message
    assert "\n" not in info.value.message


def test_missing_mapping_file(tmp_path):
    with pytest.raises(InputError, match="mapping file not found"):
        load_mapping(tmp_path / "nope.toml")
