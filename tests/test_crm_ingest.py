"""CRM exports -> the canonical deals/leads tables: flavours, joins, value parsing, reports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from crm_builder import deals_csv
from persona_assistant.errors import InputError, UsageError
from persona_assistant.ingest.crm import (
    CATEGORY_COLUMNS, DEAL_COLUMNS, LEAD_COLUMNS, date_sql, load_crm, load_leads, money_sql, near_duplicates,
)

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "crm-samples"
CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "csv-corpus"


def rows(crm, sql):
    return crm.con.execute(sql).fetchall()


def deal(crm, deal_id):
    cur = crm.con.execute("SELECT * FROM deals WHERE deal_id = ?", [deal_id])
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchone()))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_deals_table_always_has_the_contract_columns():
    crm = load_crm([SAMPLES / "pipedrive-deals.csv"])
    described = [(r[0], r[1]) for r in rows(crm, "DESCRIBE deals")]
    assert [n for n, _ in described] == [n for n, _ in DEAL_COLUMNS]
    categories = {*CATEGORY_COLUMNS, "outcome", "employee_band", "revenue_band"}
    for (name, typ), (_, want) in zip(described, DEAL_COLUMNS):
        if name in categories:  # stored as codes; read, compared and grouped as text
            assert typ.startswith("ENUM(") or typ == want, (name, typ)
        else:
            assert typ == want, (name, typ)


def test_category_columns_are_enums_that_behave_as_text(tmp_path, monkeypatch):
    import persona_assistant.ingest.deals as crm_mod

    f = deals_csv(tmp_path / "d.csv", [dict(deal_id=1, stage="Won", industry="beta", owner="Ann"),
                                       dict(deal_id=2, stage="Lost", industry="Alpha", owner="Bob"),
                                       dict(deal_id=3, stage="Won", owner="Cy")])
    monkeypatch.setattr(crm_mod, "ENUM_MAX", 2)  # owner has 3 values: it stays text
    crm = load_crm([f])
    types = dict((r[0], r[1]) for r in rows(crm, "DESCRIBE deals"))
    assert types["industry"] == "ENUM('Alpha', 'beta')"
    assert types["outcome"] == "ENUM('lost', 'open', 'won')"
    assert types["owner"] == "VARCHAR"
    # Values come back as str, ORDER BY is text order, and a value the data lacks compares false, not an error.
    assert rows(crm, "SELECT industry FROM deals ORDER BY industry NULLS LAST") == [("Alpha",), ("beta",), (None,)]
    assert crm.con.execute("SELECT count(*) FROM deals WHERE industry = ?", ["Gamma"]).fetchone() == (0,)
    assert rows(crm, "SELECT deal_id FROM deals WHERE outcome = 'won' ORDER BY deal_id") == [("1",), ("3",)]


def test_hubspot_deals_join_companies_by_id():
    crm = load_crm([SAMPLES / "hubspot-deals.csv", SAMPLES / "hubspot-companies.csv"])
    r = crm.report
    assert [f.kind for f in r.files] == ["deals", "accounts"]
    assert r.mapping["stage"] == "hubspot-deals.csv:Deal Stage"
    assert r.mapping["industry"] == "hubspot-companies.csv:Industry"
    assert r.mapping_source["stage"] == "inferred"
    assert "hubspot-companies.csv:City" in r.unmapped_columns
    d = deal(crm, "9003")
    assert d["outcome"] == "won" and d["stage"] == "closedwon"
    assert d["amount"] == 30000.5
    assert d["created"] == dt.date(2024, 1, 15) and d["closed"] == dt.date(2024, 4, 2) and d["cycle_days"] == 78
    assert d["industry"] == "COMPUTER_SOFTWARE" and d["employees"] == 45 and d["employee_band"] == "11-50"
    assert d["revenue"] == 6_000_000 and d["revenue_band"] == "$1M-$10M" and d["country"] == "Germany"
    assert deal(crm, "9002")["outcome"] == "lost" and deal(crm, "9004")["outcome"] == "open"
    # Unknown company id 599: the deal stays, without firmographics, and the key is reported.
    lit = deal(crm, "9008")
    assert lit["outcome"] == "won" and lit["industry"] is None
    assert [(u.join, u.count, u.examples) for u in r.unmatched] == [
        ("deals.account_id -> accounts.account_id", 1, ["599"])]
    # An unknown stage name: outcome blank, reported with its count.
    assert r.unmapped_stages == {"Verbal Yes": 1}
    assert deal(crm, "9006")["outcome"] is None
    assert crm.dimensions == ["industry", "employee_band", "revenue_band", "country"]
    # HubSpot enum spellings are not typos of the vocabulary words they spell.
    assert not any("looks like" in n for n in r.value_notices)


def test_salesforce_report_money_and_us_dates():
    crm = load_crm([SAMPLES / "salesforce-opportunities.csv"])
    d = deal(crm, "0065g00000A4")
    assert d["amount"] == 150250.5 and d["closed"] == dt.date(2024, 4, 19) and d["created"] == dt.date(2024, 1, 22)
    assert d["lead_source"] == "Web" and d["country"] == "United States" and d["account"] == "Umbrella Corp"
    assert sorted(rows(crm, "SELECT outcome, count(*) FROM deals GROUP BY 1")) == [
        ("lost", 2), ("open", 3), ("won", 2)]
    # Open opportunities carry an expected close date: not a closing, and said so.
    assert deal(crm, "0065g00000A5")["closed"] is None and deal(crm, "0065g00000A5")["cycle_days"] is None
    assert any("3 open deal(s) carry a close date" in n for n in crm.report.value_notices)
    assert crm.dimensions == ["industry", "country", "lead_source"]


def test_pipedrive_status_gives_the_outcome_and_won_lost_times_the_close():
    crm = load_crm([SAMPLES / "pipedrive-deals.csv"])
    assert crm.report.mapping["status"] == "pipedrive-deals.csv:Deal - Status"
    won, lost, open_ = deal(crm, "101"), deal(crm, "102"), deal(crm, "103")
    assert (won["outcome"], won["stage"], won["closed"], won["cycle_days"]) == (
        "won", "Negotiations Started", dt.date(2024, 2, 1), 29)
    assert (lost["outcome"], lost["closed"]) == ("lost", dt.date(2024, 1, 29))
    assert (open_["outcome"], open_["closed"]) == ("open", None)
    blank = [u for u in crm.report.unmatched if "blank" in u.join]
    assert blank and blank[0].count == 1 and blank[0].examples == ["105"]


def test_xlsx_deals_sheet_loads_like_a_csv():
    crm = load_crm([CORPUS / "deals.xlsx"])
    assert crm.report.files[0].kind == "deals"
    assert rows(crm, "SELECT deal_id, account, outcome, amount, closed FROM deals ORDER BY 1") == [
        ("O1", "Zoë Café GmbH", "won", 1200.5, dt.date(2024, 3, 5)),
        ("O2", "Beta", "lost", 300.0, dt.date(2024, 4, 1))]


def test_synthesised_deal_ids_name_file_and_row(tmp_path):
    f = write(tmp_path / "ops.csv", "stage,amount\nWon,1\nLost,2\n")
    crm = load_crm([f])
    assert rows(crm, "SELECT deal_id FROM deals ORDER BY 1") == [("ops:1",), ("ops:2",)]


def test_name_join_aliases_units_and_extras(tmp_path):
    deals = write(tmp_path / "pipeline.csv",
                  "opportunity_id,sales_agent,product,account,deal_stage,close_value\n"
                  "1,Ann,GTXPro,Acme ,Won,100\n2,Ann,GTX Pro,ACME,Lost,0\n3,Bob,Other,Nobody,Engaging,\n"
                  "4,Zed,GTX Pro,,Prospecting,\n")
    accounts = write(tmp_path / "accounts.csv",
                     "account,sector,revenue,employees,subsidiary_of\nAcme,software,12.5,40,Big Co\n")
    products = write(tmp_path / "products.csv", "product,series,sales_price\nGTX Pro,GTX,4821\n")
    teams = write(tmp_path / "teams.csv", "sales_agent,manager,regional_office\nAnn,Mia,East\nBob,Mia,West\n")
    files = [deals, accounts, products, teams]
    crm = load_crm(files, extra_dimensions=["subsidiary_of", "series"])
    r = crm.report
    assert [f.kind for f in r.files] == ["deals", "accounts", "products", "teams"]
    # Names join case-insensitively and trimmed; revenue below 100,000 is read as millions, and said so.
    d1 = deal(crm, "1")
    assert (d1["industry"], d1["revenue"], d1["region"], d1["subsidiary_of"]) == ("software", 12.5e6, "East", "Big Co")
    assert any("read as millions" in n for n in r.value_notices)
    joins = {u.join: u for u in r.unmatched}
    assert joins["deals.product -> products.product"].examples == ["GTXPro", "Other"]
    assert joins["deals.account -> accounts.account"].examples == ["Nobody"]
    assert joins["deals.owner -> sales_teams.owner"].examples == ["Zed"]
    assert joins["deals.account blank"].count == 1
    assert deal(crm, "1")["series"] is None and deal(crm, "2")["series"] == "GTX"
    assert crm.dimensions[-2:] == ["subsidiary_of", "series"]

    mapping = write(tmp_path / "mapping.toml", '[aliases.product]\n"GTXPro" = "GTX Pro"\n'
                                               '[units]\nrevenue = "units"\n[stages]\n"Engaging" = "lost"\n')
    crm = load_crm(files, mapping_file=mapping, extra_dimensions=["series"])
    joins = {u.join: u for u in crm.report.unmatched}
    assert joins["deals.product -> products.product"].examples == ["Other"]
    assert deal(crm, "1")["series"] == "GTX" and deal(crm, "1")["product"] == "GTX Pro"
    assert deal(crm, "1")["revenue"] == 12.5
    assert deal(crm, "3")["outcome"] == "lost"


def test_mapping_file_columns_win_over_inference(tmp_path):
    f = write(tmp_path / "deals.csv", "Stage,Amount,Net,Sector,Industry\nWon,100,90,Tech,Retail\nLost,5,4,Tech,Retail\n")
    crm = load_crm([f])
    assert crm.report.mapping["amount"] == "deals.csv:Amount"
    assert deal(crm, "deals:1")["industry"] == "Tech"  # the first look-alike column wins ...
    assert any("'Industry' also looks like industry" in n for n in crm.report.files[0].notices)  # ... said so
    mapping = write(tmp_path / "mapping.toml", '[columns]\namount = "net"\nindustry = "Industry"\n')
    crm = load_crm([f], mapping_file=mapping)
    assert crm.report.mapping["amount"] == "deals.csv:Net"
    assert crm.report.mapping_source["amount"] == "mapping file"
    assert crm.report.mapping_source["stage"] == "inferred"
    assert deal(crm, "deals:1")["amount"] == 90 and deal(crm, "deals:1")["industry"] == "Retail"
    assert "deals.csv:Amount" in crm.report.unmapped_columns


def test_mapping_file_can_name_the_stage_column(tmp_path):
    f = write(tmp_path / "export.csv", "Phase,Amount\nSigned,1\nDropped,2\n")
    with pytest.raises(InputError, match="no deals file"):
        load_crm([f])
    mapping = write(tmp_path / "m.toml", '[columns]\nstage = "Phase"\n[stages]\n"Dropped" = "lost"\n')
    crm = load_crm([f], mapping_file=mapping)
    assert rows(crm, "SELECT stage, outcome FROM deals ORDER BY 1") == [("Dropped", "lost"), ("Signed", "won")]


def test_duplicate_mapped_header_is_refused_unless_named(tmp_path):
    f = CORPUS / "duplicate-headers.csv"
    with pytest.raises(InputError) as info:
        load_crm([f])
    assert "duplicate-headers.csv" in info.value.message and "'amount'" in info.value.message
    mapping = write(tmp_path / "m.toml", '[columns]\namount = "Amount_2"\n')
    crm = load_crm([f], mapping_file=mapping)
    assert rows(crm, "SELECT amount FROM deals ORDER BY 1") == [(90.0,), (180.0,)]


def test_unknown_extra_dimension_is_a_usage_error():
    with pytest.raises(UsageError, match="dimension 'colour'"):
        load_crm([SAMPLES / "pipedrive-deals.csv"], extra_dimensions=["colour"])


def test_unparseable_values_are_counted_with_first_row(tmp_path):
    f = write(tmp_path / "d.csv", "stage,amount,created\nWon,$1,200.50,2024-01-02\nWon,n/a,yesterday\n"
                                  "Lost,12,2024-02-30\nLost, ,\n".replace("$1,200.50", '"$1,200.50"'))
    crm = load_crm([f])
    notes = crm.report.value_notices
    assert any("d.csv:amount: 1 value(s) not readable as numbers" in n and "row 2: 'n/a'" in n for n in notes)
    assert any("d.csv:created: 2 value(s) not readable as dates" in n and "row 2: 'yesterday'" in n for n in notes)
    assert rows(crm, "SELECT amount FROM deals ORDER BY deal_id") == [(1200.5,), (None,), (12.0,), (None,)]


def test_day_first_dates_are_detected_and_ambiguity_reported(tmp_path):
    f = write(tmp_path / "eu.csv", "stage,created,closed\nWon,03/02/2024,25/02/2024\nLost,04/02/2024,05/03/2024\n")
    crm = load_crm([f])
    assert rows(crm, "SELECT closed FROM deals ORDER BY deal_id") == [(dt.date(2024, 2, 25),), (dt.date(2024, 3, 5),)]
    assert any("eu.csv:closed: dates read as D/M/YYYY" in n for n in crm.report.value_notices)
    assert any("eu.csv:created: ambiguous slash dates" in n for n in crm.report.value_notices)


@pytest.mark.parametrize("text,value", [
    ("1200", 1200.0), ("$1,200.50", 1200.5), ("1.200,50 €", 1200.5), ("1 200,50", 1200.5), ("1,5", 1.5),
    ("1,200", 1200.0), ("1.234.567", 1234567.0), ("USD 99", 99.0), ("-5", -5.0), ("12,3,4", None),
    ("abc", None), (None, None), ("1'200", 1200.0),
])
def test_money_parsing(text, value):
    got = duckdb.execute(f"SELECT {money_sql('v')} FROM (SELECT $1::VARCHAR AS v)", [text]).fetchone()[0]
    assert got == value


@pytest.mark.parametrize("text,order,value", [
    ("2024-03-05", "mdy", dt.date(2024, 3, 5)), ("2024-03-05 10:22", "mdy", dt.date(2024, 3, 5)),
    ("2024-03-05T10:22:00Z", "mdy", dt.date(2024, 3, 5)), ("3/5/2024", "mdy", dt.date(2024, 3, 5)),
    ("3/5/2024", "dmy", dt.date(2024, 5, 3)), ("3/5/24", "mdy", dt.date(2024, 3, 5)),
    ("05.03.2024", "mdy", dt.date(2024, 3, 5)), ("2024/03/05", "dmy", dt.date(2024, 3, 5)),
    ("13/5/2024", "mdy", None), ("soon", "mdy", None),
])
def test_date_parsing(text, order, value):
    got = duckdb.execute(f"SELECT {date_sql('v', order)} FROM (SELECT $1::VARCHAR AS v)", [text]).fetchone()[0]
    assert got == value


def test_near_duplicates_keep_values_and_name_the_look_alike():
    found = near_duplicates([("software", 40), ("retail", 30), ("technolgy", 12), ("Software", 3)],
                            ["technology", "software", "retail"])
    assert ("technolgy", 12, "technology") in found
    assert ("Software", 3, "software") in found
    assert not any(v in ("software", "retail") for v, _, _ in found)


def test_leads_table(tmp_path):
    leads = load_leads(SAMPLES / "leads-contacts.csv")
    described = [(r[0], r[1]) for r in rows(leads, "DESCRIBE leads")]
    assert described == list(LEAD_COLUMNS)
    assert leads.report.files[0].kind == "leads"
    got = rows(leads, "SELECT row_number, account, contact_name, title, employees, revenue_band, email "
                      "FROM leads ORDER BY row_number")
    assert got == [
        (1, "Northwind Traders", "Ada Park", "VP Engineering", 180.0, "$10M-$50M", "ada@example.com"),
        (2, "Acme Retail", "Ben Cho", "Head of Operations", 2400.0, "$500M-$1B", "ben@example.com"),
        (3, "Tiny Shop", "Cy Diaz", None, None, None, "cy@example.com")]
    assert leads.dimensions == ["industry", "employee_band", "revenue_band", "country", "lead_source"]


def test_maven_crm_acceptance(shared_dir):
    maven = shared_dir / "datasets" / "maven-crm"
    crm = load_crm([maven / n for n in ("accounts.csv", "sales_pipeline.csv", "products.csv", "sales_teams.csv")],
                   extra_dimensions=["series", "manager"])
    assert dict(rows(crm, "SELECT outcome, count(*) FROM deals GROUP BY 1")) == {
        "won": 4238, "lost": 2473, "open": 2089}
    joins = {u.join: u for u in crm.report.unmatched}
    assert "GTXPro" in joins["deals.product -> products.product"].examples
    assert joins["deals.account blank"].count == 1425
    assert any("1425 deal(s) have a blank account (1425 of them open)" in n for n in crm.report.value_notices)
    assert any("'technolgy'" in n and "looks like 'technology'" in n for n in crm.report.value_notices)
    assert rows(crm, "SELECT count(*) FROM deals WHERE industry = 'technolgy'")[0][0] > 0
    assert any("read as millions" in n for n in crm.report.value_notices)
    assert crm.report.unmapped_stages == {}
    assert crm.dimensions == ["industry", "employee_band", "revenue_band", "region", "country", "product",
                              "series", "manager"]
    # The blank-account open deals stay, with NULL firmographics.
    assert rows(crm, "SELECT count(*), count(industry) FROM deals WHERE account IS NULL")[0] == (1425, 0)


def test_day_first_evidence_after_the_sniffed_sample_still_decides_the_order(tmp_path):
    # Every date in the first 25,000 rows fits M/D; only the last row proves D/M.
    f = deals_csv(tmp_path / "late.csv", [*(dict(deal_id=f"D{i}", stage="Won", closed="01/02/2024") for i in range(25_000)),
                                          dict(deal_id="DLAST", stage="Won", closed="25/02/2024")])
    crm = load_crm([f])
    assert deal(crm, "DLAST")["closed"] == dt.date(2024, 2, 25)
    assert deal(crm, "D0")["closed"] == dt.date(2024, 2, 1)  # read day-first like the rest of the column
    assert any("late.csv:closed: dates read as D/M/YYYY" in n for n in crm.report.value_notices)


def test_a_line_too_long_for_the_head_sample_is_still_read_and_decides_the_order(tmp_path):
    # The date-order guess reads the first rows with small buffers, which skip a line longer than
    # HEAD_BUFFER; the checked read still loads that row, and its day-first date still decides the order.
    from persona_assistant.ingest.csvfile import HEAD_BUFFER, open_csv

    long = "x" * (HEAD_BUFFER + 10)
    body = f"A0,Won,25/02/2024,{long}\n" + "".join(f"D{i},Won,01/0{1 + i % 9}/2024,n\n" for i in range(30))
    f = write(tmp_path / "long.csv", "deal_id,stage,closed,notes\n" + body)
    src = open_csv(f, "raw")
    try:
        head = f"SELECT count(*) FROM ({src.scan_sql(head=True)})"
        assert duckdb.connect().execute(head).fetchone()[0] == 30  # the long line is not in the sample
    finally:
        src.close()
    crm = load_crm([f])
    assert deal(crm, "A0")["closed"] == dt.date(2024, 2, 25)
    assert deal(crm, "D1")["closed"] == dt.date(2024, 2, 1)
    assert any("long.csv:closed: dates read as D/M/YYYY" in n for n in crm.report.value_notices)


def test_padded_keys_are_trimmed_and_blank_ids_name_file_and_row(tmp_path):
    f = write(tmp_path / "pad.csv", "deal_id,account,stage\n  A1 ,  Acme  ,Won\n,Beta,Lost\n")
    crm = load_crm([f])
    assert rows(crm, "SELECT deal_id, account FROM deals ORDER BY account") == [("A1", "Acme"), ("pad:2", "Beta")]
