"""The ICP on real CRM shapes (issue 12): outcome leaks, blanks, funnels, code columns, every column.

The fixtures are generated (fixtures/icp_shapes/make_icp_shapes.py) into a temp folder; expected figures
are recomputed here from the generated CSVs with the csv module, not taken from the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from persona_assistant.analysis.quantiles import band_labels
from persona_assistant.analysis.render import format_p, print_analysis
from persona_assistant.analysis.segments import analyze, analyze_workspace, load_history
from persona_assistant.analysis.stats import benjamini_hochberg
from persona_assistant.draft.offline import offline_icp
from persona_assistant.errors import InputError, UsageError
from persona_assistant.ingest.crm import load_crm, near_duplicates
from persona_assistant.workspace import Workspace


GENERATOR = Path(__file__).resolve().parent.parent / "fixtures" / "icp_shapes" / "make_icp_shapes.py"


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("make_icp_shapes", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def shapes(gen, tmp_path_factory):
    out = tmp_path_factory.mktemp("shapes")
    return {"funnel": gen.write_funnel(out), "opp": gen.write_opportunities(out), "winloss": gen.write_winloss(out)}


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _analysis(files, mapping=None, **kw):
    return analyze(load_crm(files, mapping_file=mapping, all_columns=True), **kw)


def _ws(tmp_path: Path, files, mapping=None, config: str = "") -> Workspace:
    root = tmp_path / "ws"
    (root / "crm").mkdir(parents=True)
    for f in files:
        (root / "crm" / f.name).write_bytes(f.read_bytes())
    if mapping is not None:
        (root / "mapping.toml").write_bytes(mapping.read_bytes())
    (root / "persona-assistant.toml").write_text("[analysis]\nmin_support = 30\n" + config, encoding="utf-8")
    return Workspace(root)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "persona_assistant", *args], capture_output=True, text=True)


# --------------------------------------------------------------------------- funnel


def test_funnel_gives_the_right_won_lost_open_counts_and_reports_unmatched_keys(gen, shapes):
    f = shapes["funnel"]
    leads, deals = _rows(f["leads"]), _rows(f["deals"])
    keys = {r["mql_id"] for r in leads}
    with_deal = {r["mql_id"] for r in deals} & keys
    due = gen.AS_OF - dt.timedelta(days=gen.WINDOW)
    won = len(with_deal)
    lost = sum(1 for r in leads if r["mql_id"] not in with_deal and dt.date.fromisoformat(r["first_contact_date"]) <= due)
    open_ = len(leads) - won - lost
    assert won and lost and open_

    crm = load_crm([f["leads"], f["deals"]], mapping_file=f["mapping"], all_columns=True)
    got = dict(crm.con.execute("SELECT outcome, count(*) FROM deals GROUP BY 1").fetchall())
    assert got == {"won": won, "lost": lost, "open": open_}
    (u,) = crm.report.unmatched
    assert (u.join, u.count, sorted(u.examples)) == ("closed_deals.csv.mql_id -> leads.csv.mql_id", 2,
                                                     ["M99998", "M99999"])
    assert any(f"{won} won, {lost} lost, {open_} open" in n for n in crm.report.value_notices)
    # a lost lead without a deal closes when its window ends
    lead = next(r for r in leads if r["mql_id"] not in with_deal
                and dt.date.fromisoformat(r["first_contact_date"]) <= due)
    closed = crm.con.execute("SELECT closed FROM deals WHERE deal_id LIKE ? AND outcome = 'lost' AND created = ?",
                             ["%", dt.date.fromisoformat(lead["first_contact_date"])]).fetchall()
    assert (dt.date.fromisoformat(lead["first_contact_date"]) + dt.timedelta(days=gen.WINDOW),) in closed


def test_funnel_attributes_filled_only_on_won_deals_are_leaks_named_with_figures(shapes):
    f = shapes["funnel"]
    won = sum(1 for r in _rows(f["deals"]) if r["mql_id"] not in ("M99998", "M99999"))
    a = _analysis([f["leads"], f["deals"]], f["mapping"])
    for column in ("business_segment", "lead_type", "seller_id"):
        assert any(x.startswith(f"{column}: filled on 100% of won and 0% of lost deals ({won} of {won} won")
                   and x.endswith("an outcome leak, excluded") for x in a.leaks), column
        assert not any(column in s.dimensions for s in a.segments)
    assert "lead_source" in a.dimensions
    assert a.icp_candidates[0] == "lead_source=paid_search"
    # "unknown" and blank origins are one blank: reported, never a segment
    assert not any(s.dimensions.get("lead_source") in ("unknown", "") for s in a.segments)
    assert any(x.startswith("deals with no origin win") and "fill the field in" in x for x in a.findings)


def test_funnel_section_errors_name_the_file_and_key(tmp_path, shapes):
    f = shapes["funnel"]
    bad = tmp_path / "mapping.toml"
    bad.write_text('[funnel]\nleads = "leads.csv"\ndeals = "nope.csv"\nkey = "mql_id"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"mapping.toml: \[funnel\] deals = 'nope.csv': no such file"):
        load_crm([f["leads"], f["deals"]], mapping_file=bad)
    bad.write_text('[funnel]\nleads = "leads.csv"\ndeals = "closed_deals.csv"\nkey = "mql_id"\nwindow_days = 0\n')
    with pytest.raises(InputError, match=r"\[funnel\] window_days"):
        load_crm([f["leads"], f["deals"]], mapping_file=bad)


# --------------------------------------------------------------------------- opportunity export


def test_loss_reason_and_contract_term_are_excluded_and_named_with_figures(shapes):
    rows = _rows(shapes["opp"]["deals"])
    won = sum(r["Stage"] == "Closed Won" for r in rows)
    lost = sum(r["Stage"] == "Closed Lost" for r in rows)
    a = _analysis([shapes["opp"]["deals"]])
    assert any(x.startswith(f"Contract Term: filled on 100% of won and 0% of lost deals ({won} of {won} won, "
                            f"0 of {lost} lost)") for x in a.leaks)
    assert any(x.startswith("Loss Reason: filled on 0% of won and 100% of lost deals") for x in a.leaks)
    assert {e.column: e.reason for e in a.excluded}["Contract Term"] == "an outcome leak"
    assert not any({"Contract Term", "Loss Reason"} & set(s.dimensions) for s in a.segments)
    # the real effect leads; the blank lead source is a finding, not a segment
    assert a.icp_candidates[0] == "industry=Logistics" and "industry=Retail" in a.anti_icp
    assert not any(s.dimensions.get("lead_source") == "Unknown" for s in a.segments)
    blank = [r for r in rows if r["Lead Source"] == "Unknown" and r["Stage"] != "Prospecting"]
    rate = sum(r["Stage"] == "Closed Won" for r in blank) / len(blank)
    assert any(x.startswith(f"deals with no Lead Source win {rate:.0%} ") for x in a.findings)


def test_every_exclusion_is_listed_with_its_reason(shapes):
    a = _analysis([shapes["opp"]["deals"]])
    reasons = {e.column: e.reason for e in a.excluded}
    assert reasons["Opportunity ID (deal_id)"] == "the deal's id"
    assert reasons["Created Date (created)"] == "a date"
    assert reasons["Description"].startswith("free text (")
    assert "Amount (amount)" in reasons
    w = _analysis([shapes["winloss"]["deals"]], shapes["winloss"]["mapping"])
    assert {e.column: e.reason for e in w.excluded}["Opportunity Number"].startswith("an id or key")


def test_allow_lets_a_leak_in_and_dimension_accepts_the_header(tmp_path, shapes):
    ws = _ws(tmp_path, [shapes["opp"]["deals"]], config='allow = ["Contract Term"]\n')
    a = analyze_workspace(ws)
    assert "Contract Term" in a.dimensions
    assert any(n.startswith("Contract Term: filled on 100%") and "let in by [analysis] allow" in n
               for n in a.column_notices)
    crm = load_crm([shapes["opp"]["deals"]], all_columns=True)
    assert analyze(crm, dimensions=["Lead Source"]).dimensions == ["lead_source"]  # header -> canonical
    with pytest.raises(UsageError, match=r"--dimension Contract Term: Contract Term: filled on 100%.*allow"):
        analyze(crm, dimensions=["Contract Term"])
    with pytest.raises(UsageError, match="--dimension Colour: no such column"):
        analyze(crm, dimensions=["Colour"])


def test_dimensions_setting_is_shared_by_analyze_score_and_backtest(tmp_path, gen):
    made = gen.write_opportunities(tmp_path / "gen", lost_close_dates=True)
    ws = _ws(tmp_path, [made["deals"]], config='dimensions = ["Industry", "Lead Source"]\nexclude = ["Region"]\n')
    assert analyze_workspace(ws).dimensions == ["industry", "lead_source"]
    assert load_history(ws).dimensions == ["industry", "lead_source"]
    res = run_cli("backtest", "--workspace", str(ws.root), "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["dimensions"] == ["industry", "lead_source"]
    res = run_cli("score", str(made["leads"]), "--workspace", str(ws.root), "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["dimensions"] == ["industry", "lead_source"]
    (ws.root / "persona-assistant.toml").write_text('[analysis]\nexclude = "Region"\n', encoding="utf-8")
    res = run_cli("analyze", "--workspace", str(ws.root))
    assert res.returncode == 1 and "[analysis] exclude must be a list of column names" in res.stderr


# --------------------------------------------------------------------------- win-loss export


def test_code_columns_are_categories_and_the_planted_unmapped_effect_is_the_headline(shapes):
    w = shapes["winloss"]
    a = _analysis([w["deals"]], w["mapping"])
    assert "employees" in a.dimensions and "employee_band" not in a.dimensions
    assert any(n.startswith("Client Size By Employee Count (mapped to employees) holds small-integer codes (1-5)")
               for n in a.column_notices)
    assert {s.dimensions["employees"] for s in a.segments if list(s.dimensions) == ["employees"]} == set("12345")
    planted = "Revenue From Client Past Two Years"
    assert a.icp_candidates[0] == f"{planted}=1"
    top = a.segment(a.icp_candidates[0])
    rows = _rows(w["deals"])
    hit = [r for r in rows if r[planted] == "1"]
    assert (top.won, top.closed) == (sum(r["Opportunity Result"] == "Won" for r in hit), len(hit))
    icp = offline_icp(a, [])
    assert icp.name == f"Best fit: {planted} 1"
    assert "interview quotes" not in icp.summary  # there are no notes
    # a number with no known banding is banded into quartiles
    assert any(n == "Elapsed Days In Sales Stage: a number with no known banding: banded into quartiles"
               for n in a.column_notices)
    assert len({s.dimensions["Elapsed Days In Sales Stage"] for s in a.segments
                if list(s.dimensions) == ["Elapsed Days In Sales Stage"]}) == 4


def test_values_display_as_written_and_typo_hints_only_for_rare_look_alikes(shapes):
    w = shapes["winloss"]
    crm = load_crm([w["deals"]], mapping_file=w["mapping"], all_columns=True)
    notices = crm.report.value_notices
    assert any("'Nortwest' (6 rows) looks like 'Northwest'" in n for n in notices)
    assert not any("Southwest" in n or "Southeast" in n for n in notices)
    buf = io.StringIO()
    from rich.console import Console

    print_analysis(analyze(crm), Console(file=buf, width=200))
    text = buf.getvalue()
    assert "Supplies Subgroup=Tires & Wheels" in text and "%26" not in text
    assert "Benjamini-Hochberg" in text


def test_typo_rule_needs_a_rare_value_near_a_common_one():
    found = near_duplicates([("Southwest", 8153), ("Southeast", 8000), ("Nortwest", 30), ("Northwest", 700),
                             ("Midwest", 40)])
    assert found == [("Nortwest", 30, "Northwest")]  # 700 / 30 >= 20, 1 edit; Midwest is 2 edits but common
    assert near_duplicates([("Nortwest", 40), ("Northwest", 700)]) == []  # 700 / 40 < 20


# --------------------------------------------------------------------------- statistics and display


def test_benjamini_hochberg_matches_a_hand_computation():
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted: 0.005 (x4/1 = 0.02), 0.01 (x4/2 = 0.02), 0.03 (x4/3 = 0.04), 0.04 (x4/4 = 0.04)
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert benjamini_hochberg([0.9, 0.8]) == pytest.approx([0.9, 0.9])


def test_correction_names_the_number_of_tests_and_both_corrections(shapes):
    a = _analysis([shapes["opp"]["deals"]])
    tested = [s for s in a.segments if s.p_value is not None]
    assert a.tests == len(tested) > 0
    assert f"Bonferroni: {a.tests} segment(s)" in a.correction
    discoveries = sum(s.q_value < 0.05 for s in tested)
    assert f"Benjamini-Hochberg over the same {a.tests} tests" in a.correction
    assert f"{discoveries} segment(s) with q < 0.05" in a.correction
    assert discoveries >= len(a.icp_candidates) + len(a.anti_icp)  # BH is never stricter than Bonferroni


def test_p_values_below_the_float_floor_never_print_as_zero():
    assert format_p(0.0) == "< 1e-16" and format_p(1e-300) == "< 1e-16"
    assert format_p(0.000123) == "0.00012" and format_p(None) == "-"


def test_quantile_band_labels_read_as_ranges():
    assert band_labels([10, 20, 30], integral=True) == ["up to 10", "11-20", "21-30", "31 or more"]
    assert band_labels([1.5, 2.5], integral=False) == ["up to 1.5", "above 1.5 up to 2.5", "above 2.5"]


# --------------------------------------------------------------------------- backtest and score


def test_backtest_refuses_without_close_dates_and_orders_by_the_created_date(tmp_path, gen, shapes):
    rows = _rows(shapes["opp"]["deals"])
    lost = sum(r["Stage"] == "Closed Lost" for r in rows)
    no_created = gen.write_opportunities(tmp_path / "a", created=False)
    ws = _ws(tmp_path / "one", [no_created["deals"]])
    res = run_cli("backtest", "--workspace", str(ws.root))
    assert res.returncode == 1
    assert (f"cannot test: {lost} lost deals have no close date; map a created/last-activity date (mapping.toml) "
            "to order them") in res.stderr
    assert "Traceback" not in res.stderr

    ws = _ws(tmp_path / "two", [shapes["opp"]["deals"]])
    res = run_cli("backtest", "--workspace", str(ws.root), "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["order_by"] == "created" and out["auc"] is not None and len(out["auc_ci"]) == 2
    n = out["test"]["deals"]
    assert f"on {n} later deals (by created date; base rate {out['test']['won'] / n:.1%})" in out["verdict"]
    assert any(f"{lost} lost deals have no close date" in x for x in out["notes"])
    res = run_cli("backtest", "--workspace", str(ws.root))
    assert "AUC" in res.stdout and "95% CI" in res.stdout


def test_score_out_keeps_every_input_column_and_row_in_order(tmp_path, shapes):
    ws = _ws(tmp_path, [shapes["opp"]["deals"]])
    out = tmp_path / "scored.csv"
    res = run_cli("score", str(shapes["opp"]["leads"]), "--workspace", str(ws.root), "--out", str(out), "--json")
    assert res.returncode == 0, res.stderr
    with shapes["opp"]["leads"].open(newline="", encoding="utf-8") as fh:
        given = list(csv.reader(fh))
    with out.open(newline="", encoding="utf-8") as fh:
        got = list(csv.reader(fh))
    n = len(given[0])
    assert got[0][:n] == given[0] and got[0][0] == "Lead ID"
    assert got[0][n:] == ["score", "tier", "win_probability", "confidence", "persona", "persona_confidence",
                          "persona_reason", "disqualified_by", "factors"]
    assert len(got) == len(given)
    for g, o in zip(given[1:], got[1:]):
        assert o[:n] == [("'" + c if c.startswith("=") else c) for c in g]  # formula-safe, else as given
    payload = json.loads(res.stdout)
    assert not {"Contract Term", "Loss Reason"} & set(payload["dimensions"])
    # a blank or "Unknown" lead source is no bonus: no points for it, and lower confidence
    rows = {r["row_number"]: r for r in payload["rows"]}
    unknown = rows[4]  # Logistics, West, "Unknown"
    assert unknown["values"]["lead_source"] is None
    fit = payload["fits"][unknown["fit"]]
    factor = next(f for f in fit["factors"] if f["dimension"] == "lead_source")
    assert factor["status"] == "unknown" and factor["points"] >= 0
    assert unknown["confidence"] != "high"


# --------------------------------------------------------------------------- the public dataset


def test_maven_crm_figures_unchanged_with_every_column(shared_dir, tmp_path):
    maven = shared_dir / "datasets" / "maven-crm"
    ws = _ws(tmp_path, [maven / n for n in ("accounts.csv", "sales_pipeline.csv", "products.csv", "sales_teams.csv")])
    a = analyze_workspace(ws)
    assert (a.baseline.won, a.baseline.lost) == (4238, 2473)
    assert round(a.baseline.win_rate * 100, 2) == 63.15
    assert a.icp_candidates == [] and "does not single out an ICP" in a.verdict
    assert {"year_established", "series", "subsidiary_of"} <= set(a.dimensions)
    assert a.leaks == []


def test_a_column_too_varied_to_group_is_still_checked_for_a_presence_leak(tmp_path, monkeypatch):
    import persona_assistant.analysis.columns as columns

    monkeypatch.setattr(columns, "PROFILE_MAX_VALUES", 5)  # every column counts as too varied to group
    path = tmp_path / "deals.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Deal ID", "Stage", "Invoice Number", "Industry"])
        for i in range(200):
            won = i % 2 == 0
            w.writerow([f"D{i}", "Won" if won else "Lost", f"INV-{i:04d}" if won else "", f"I{i % 9}"])
    a = _analysis([path])
    assert any(x.startswith("Invoice Number: filled on 100% of won and 0% of lost deals") for x in a.leaks)
