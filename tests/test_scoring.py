"""The scoring model on the planted CRM (tables built directly, no ingestion) and on hand data."""

import importlib.util
import math

import pytest

from persona_assistant.schemas import ICP, DataSufficiency, Disqualifier, QualificationSignal
from persona_assistant.scoring.gates import Gate, gates_from_icp
from persona_assistant.scoring.leads import score_leads
from persona_assistant.scoring.model import (
    NO_FIT, explain, fit, fit_counts, icp_signal_index, round_half_up, score_combo,
)

DIMS = ["industry", "employee_band", "country"]


def planted_con(fixtures_dir):
    spec = importlib.util.spec_from_file_location("planted_db", fixtures_dir / "scoring" / "planted_db.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.connect()


@pytest.fixture
def con(fixtures_dir):
    return planted_con(fixtures_dir)


@pytest.fixture
def model(con):
    return fit(con, DIMS)


def test_learned_weights_recover_the_planted_signal(model):
    coef = {f.id: f.coef for f in model.features}
    industries = sorted((c, k) for k, c in coef.items() if k.startswith("industry="))
    assert industries[-1][1] == "industry=Software" and industries[0][1] == "industry=Retail"
    assert coef["employee_band=51-200"] > coef["employee_band=1001-5000"] + 1.5
    # office_location carries no planted signal: its weights stay small next to the planted ones
    assert max(abs(c) for k, c in coef.items() if k.startswith("country=")) < 0.4
    assert model.iterations > 0 and model.closed == 2693


def test_optimum_satisfies_the_penalised_score_equations():
    """At the ridge optimum each feature's (won - expected won) equals l2 * coefficient."""
    counts = [(("a", "x"), 30, 10), (("a", "y"), 12, 20), (("b", "x"), 8, 25), (("b", "y"), 5, 40),
              ((None, "x"), 6, 6), (("c", "y"), 2, 1)]
    m = fit_counts(counts, ["d1", "d2"], min_support=5, l2=2.0)
    assert {f.id for f in m.features} == {"d1=a", "d1=b", "d2=x", "d2=y"}  # d1=c: 3 closed deals < 5
    resid = {f.id: 0.0 for f in m.features}
    total = 0.0
    for combo, w, lo in counts:
        r = w - (w + lo) * m.probability(combo)
        total += r
        for d, v in zip(m.dimensions, combo):
            if m.feature(d, v):
                resid[f"{d}={v}"] += r
    assert abs(total) < 1e-7  # intercept unpenalised
    for f in m.features:
        assert resid[f.id] == pytest.approx(m.l2 * f.coef, abs=1e-7)


def test_factors_add_up_to_the_score_for_every_row(con, model):
    scored = score_leads(con, model)
    assert len(scored.rows) == 300 and scored.combinations < 300
    for row in scored.rows:
        r = row.result
        assert 0 <= r["score"] <= 100
        assert r["base_points"] + sum(f["points"] for f in r["factors"]) == r["score"]


def test_explain_reproduces_every_score(con, model):
    info = explain(model)
    coef = {c["feature"]: c["coef"] for c in info["coefficients"]}
    assert info["kind"].startswith("L2-regularised logistic regression") and info["regularisation"]["l2"] == 1.0
    assert all(c["support"] >= info["min_support"] for c in info["coefficients"])
    for row in score_leads(con, model).rows:
        linear = sum(coef.get(f"{d}={v}", 0.0) for d, v in row.values.items() if v is not None)
        assert round_half_up(info["base"] + info["scale"] * linear) == row.result["score"]
        p = 1 / (1 + math.exp(-(info["intercept"] + linear)))
        assert row.result["win_probability"] == pytest.approx(p, abs=1e-4)
        t = info["tier_thresholds"]
        confident = row.result["confidence"] in ("high", "medium")
        assert row.result["tier"] == ("A" if p >= t["A"] and confident else "B" if p >= t["B"] else "C")


def test_missing_field_lowers_confidence_not_the_score(model):
    full = score_combo(model, ("Software", "51-200", "Germany"))
    no_country = score_combo(model, ("Software", "51-200", None))
    no_industry = score_combo(model, (None, "51-200", "Germany"))
    assert full["confidence"] == "high" and full["known_share"] == 1.0
    assert no_industry["known_share"] < no_country["known_share"] < 1.0
    assert no_industry["confidence"] in ("medium", "low")
    factor = no_industry["factors"][0]
    assert factor["status"] == "unknown" and factor["points"] == 0 and "industry unknown" in factor["note"]
    # unknown counts as the model's neutral point: exactly base + the other factors, no penalty
    expected = model.base + model.scale * (model.feature("employee_band", "51-200").coef
                                           + model.feature("country", "Germany").coef)
    assert no_industry["score"] == round_half_up(expected)
    unseen = score_combo(model, ("Aerospace", "51-200", "Germany"))
    assert unseen["factors"][0]["status"] == "no weight" and "not in the won/lost history" in unseen["factors"][0]["note"]
    assert unseen["score"] == no_industry["score"] and unseen["confidence"] == no_industry["confidence"]


def test_factor_evidence_cites_segment_statistics(con, model):
    r = score_combo(model, ("Software", "51-200", "Germany"))
    ev = r["factors"][0]["evidence"]
    won, closed = con.execute("SELECT count(*) FILTER (WHERE outcome='won'), count(*) FROM deals "
                              "WHERE outcome IN ('won','lost') AND industry='Software'").fetchone()
    assert ev["segment_id"] == "industry=Software" and (ev["won"], ev["closed"]) == (won, closed)
    assert ev["win_rate"] == pytest.approx(won / closed)
    assert ev["ci_low"] < ev["win_rate"] < ev["ci_high"]
    assert r["factors"][0]["status"] == "meets" and r["factors"][0]["points"] > 0
    assert score_combo(model, ("Retail", "51-200", "Germany"))["factors"][0]["status"] == "misses"


def _icp(disqualifiers, signals=()):
    return ICP(id="icp-1", name="x", summary="x", crm_singles_out_segment=True,
               data_sufficiency=DataSufficiency(won=1, lost=1, verdict="sufficient"),
               disqualifiers=disqualifiers, qualification_signals=list(signals))


def test_disqualifier_is_a_hard_gate_named_with_its_reason(con, model):
    icp = _icp([Disqualifier(criterion="Retail", dimension="industry", value="retail",
                             reason="Retail wins 4% of deals")],
               [QualificationSignal(criterion="Software companies", dimension="industry", value="Software",
                                    weight=1.0)])
    gates = gates_from_icp(icp)
    assert gates == [Gate({"industry": "retail"}, "Retail wins 4% of deals", "icp", [])]
    scored = score_leads(con, model, gates=gates, icp_signals=icp_signal_index(icp))
    retail = [r for r in scored.rows if r.values["industry"] == "Retail"]
    others = [r for r in scored.rows if r.values["industry"] != "Retail"]
    assert retail and all(r.result["tier"] == NO_FIT for r in retail)
    assert all(r.result["disqualified_by"][0]["reason"] == "Retail wins 4% of deals" for r in retail)
    assert all(r.result["tier"] != NO_FIT and not r.result["disqualified_by"] for r in others)
    software = next(r for r in scored.rows if r.values["industry"] == "Software")
    assert software.result["factors"][0]["icp_criterion"] == "Software companies"


def test_gate_on_a_dimension_the_model_does_not_use_and_on_a_missing_column(con, model):
    small = fit(con, ["employee_band"])
    scored = score_leads(con, small, gates=[Gate({"industry": "Retail"}, "anti-ICP", "analysis"),
                                            Gate({"revenue_band": "<$1M"}, "tiny", "analysis")])
    assert any(r.result["tier"] == NO_FIT for r in scored.rows if r.values["industry"] == "Retail")
    assert scored.notes == ["gate revenue_band=<$1M not applied: the file has no revenue_band column"]


def test_tiers_follow_the_win_probability_against_the_base_rate(model):
    base = model.won / model.closed
    assert model.tier_a == pytest.approx(1.25 * base) and model.tier_b == pytest.approx(0.8 * base)
    for combo in (("Software", "51-200", "Germany"), ("Retail", "1001-5000", "Germany"),
                  ("Healthcare", "11-50", "France")):
        result = score_combo(model, combo)
        p = model.probability(combo)
        assert result["tier"] == ("A" if p >= 1.25 * base else "B" if p >= 0.8 * base else "C")
    # a lead the model knows nothing about is scored at the intercept, with unknown confidence: never A
    blank = score_combo(model, (None, None, None))
    assert blank["confidence"] == "unknown" and blank["tier"] in ("B", "C")
    # A's probability on low confidence is at most B
    assert model.tier(0.99, "low") == "B" and model.tier(0.99, "high") == "A"


def test_no_history_signal_gives_flat_neutral_scores():
    m = fit_counts([(("a",), 10, 10), (("b",), 10, 10)], ["d"], min_support=5)
    assert all(abs(f.coef) < 1e-9 for f in m.features)
    r = score_combo(m, ("a",))
    assert r["score"] == 50 and r["base_points"] + r["factors"][0]["points"] == 50
    only_wins = fit_counts([(("a",), 10, 0)], ["d"], min_support=5)
    assert "only wins or only losses" in only_wins.notes[0]


def test_without_an_icp_the_analysis_anti_icp_segments_gate(con, model):
    from types import SimpleNamespace

    from persona_assistant.analysis.segments import analyze
    from persona_assistant.scoring.gates import gates_from_analysis

    analysis = analyze(SimpleNamespace(con=con, dimensions=DIMS, report=None), min_support=30)
    gates = gates_from_analysis(analysis)
    assert "industry=Retail" in [g.id for g in gates] and len(gates) == len(analysis.anti_icp)
    retail_gate = next(g for g in gates if g.id == "industry=Retail")
    assert retail_gate.source == "analysis" and "anti-ICP segment industry=Retail" in retail_gate.reason
    assert retail_gate.evidence[0]["segment_id"] == "industry=Retail" and retail_gate.evidence[0]["deal_ids"]
    rows = score_leads(con, model, gates=gates).rows
    assert all(r.result["tier"] == NO_FIT for r in rows if r.values["industry"] == "Retail")


def test_fit_is_identical_whatever_order_the_rows_come_in():
    from crm_builder import deals_table
    from persona_assistant.scoring.model import explain, fit

    rows = [(f"d{i}", ["Software", "Retail", "Finance", None][i % 4], ["US", "DE", "FR"][i % 3],
             "won" if (i * 7) % 5 < 2 + (i % 4 == 0) else "lost") for i in range(600)]
    models = []
    for ordered in (rows, rows[::-1], rows[1::2] + rows[::2]):
        con = deals_table({"deal_id": d, "industry": i, "country": c, "outcome": o} for d, i, c, o in ordered)
        models.append(explain(fit(con, ["industry", "country"])))
    assert models[0] == models[1] == models[2]


def test_disqualifier_citing_a_segment_whose_value_holds_an_ampersand_gates_that_value():
    from persona_assistant.schemas import StatEvidence, segment_id

    seg = segment_id({"industry": "R&D", "region": "EU"})
    ev = StatEvidence(segment_id=seg, closed=40, won=2, win_rate=0.05, ci_low=0.01, ci_high=0.17)
    gates = gates_from_icp(_icp([Disqualifier(criterion="R&D in the EU", reason="rarely buys", evidence=[ev])]))
    assert [g.conditions for g in gates] == [{"industry": "R&D", "region": "EU"}]
    assert gates[0].id == seg
    assert gates[0].matches({"industry": "r&d", "region": "EU"}) and not gates[0].matches({"industry": "R"})
