"""analyze(): segment statistics, verdicts, correction, ranking and sufficiency.

Most tests build the canonical `deals` table directly in an in-memory DuckDB, so they
pin the analysis independently of ingestion; the end-to-end tests go through load_crm.
"""

from __future__ import annotations

import csv
import random
import statistics
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from crm_builder import deals_table
from persona_assistant.analysis.segments import analyze, sufficiency
from persona_assistant.analysis.stats import score_test_p, wilson_interval
from persona_assistant.errors import UsageError
from persona_assistant.schemas import IngestReport

def make_crm(rows: list[dict], dimensions: list[str] | None = None, extra: tuple[str, ...] = ()):
    """A CrmData look-alike: an in-memory `deals` table with the canonical columns, from dicts."""
    rows = [{"deal_id": f"D{i:05d}", **row} for i, row in enumerate(rows)]
    for row in rows:
        if row.get("created") and row.get("closed"):
            row.setdefault("cycle_days", (row["closed"] - row["created"]).days)
    con = deals_table(rows, extra=extra)
    if dimensions is None:
        dimensions = [n for n in ("industry", "employee_band", "region", "product", *extra)
                      if any(r.get(n) is not None for r in rows)]
    return SimpleNamespace(con=con, report=IngestReport(value_notices=["test"]), dimensions=dimensions)


def deals(n: int, won: int, **fields) -> list[dict]:
    """n closed deals of which `won` are won, all with the same dimension values."""
    return [{"outcome": "won" if i < won else "lost", **fields} for i in range(n)]


def planted_rows(seed: int = 7) -> list[dict]:
    """A strong segment (Software x 201-500), a weak one (Healthcare), everything else at ~20%."""
    rng = random.Random(seed)
    rows = []
    start = date(2024, 1, 1)
    for i in range(1500):
        industry = rng.choice(["Software", "Healthcare", "Retail", "Logistics"])
        band = rng.choice(["51-200", "201-500", "1001-5000"])
        p = 0.6 if (industry, band) == ("Software", "201-500") else 0.06 if industry == "Healthcare" else 0.2
        created = start + timedelta(days=rng.randint(0, 400))
        rows.append({
            "outcome": "won" if rng.random() < p else "lost", "industry": industry, "employee_band": band,
            "region": rng.choice(["EMEA", "NA"]), "amount": float(rng.randint(5, 20) * 1000),
            "created": created, "closed": created + timedelta(days=rng.randint(20, 90)),
        })
    return rows


# --------------------------------------------------------------------------- figures


def test_baseline_and_segment_figures_match_a_hand_computation():
    start = date(2025, 1, 1)
    rows = []
    for i in range(40):  # industry A: 40 closed, 16 won
        rows.append({"outcome": "won" if i % 5 < 2 else "lost", "industry": "A", "amount": 1000.0 + i,
                     "created": start, "closed": start + timedelta(days=10 + i)})
    for i in range(40):  # industry B: 40 closed, 8 won
        rows.append({"outcome": "won" if i % 5 == 0 else "lost", "industry": "B", "amount": 500.0 + i,
                     "created": start, "closed": start + timedelta(days=30 + i)})
    rows += [{"outcome": "open", "industry": "A", "amount": 1e9}, {"outcome": None, "industry": "B"}]
    a = analyze(make_crm(rows), min_support=30)

    closed = [(i, r) for i, r in enumerate(rows) if r["outcome"] in ("won", "lost")]
    won = [(i, r) for i, r in closed if r["outcome"] == "won"]
    assert (a.baseline.closed, a.baseline.won, a.baseline.lost) == (80, 24, 56)
    assert a.baseline.win_rate == pytest.approx(24 / 80)
    assert (a.baseline.ci_low, a.baseline.ci_high) == pytest.approx(wilson_interval(24, 80))
    assert a.baseline.median_won_value == pytest.approx(statistics.median(r["amount"] for _, r in won))
    assert a.baseline.median_cycle_days == pytest.approx(
        statistics.median((r["closed"] - r["created"]).days for _, r in won))
    assert a.baseline.total_won_value == pytest.approx(sum(r["amount"] for _, r in won))

    seg = a.segment("industry=A")
    a_won = [(i, r) for i, r in won if r["industry"] == "A"]
    a_lost = [(i, r) for i, r in closed if r["industry"] == "A" and r["outcome"] == "lost"]
    assert (seg.closed, seg.won, seg.lost) == (40, 16, 24)
    assert seg.win_rate == pytest.approx(0.4)
    assert (seg.ci_low, seg.ci_high) == pytest.approx(wilson_interval(16, 40))
    assert seg.lift == pytest.approx(0.4 / 0.3)
    assert seg.share_won_revenue == pytest.approx(sum(r["amount"] for _, r in a_won) / a.baseline.total_won_value)
    assert seg.p_value == pytest.approx(score_test_p(16, 40, 0.3))
    # receipts: the first five won and first five lost deal ids, by id
    assert seg.deal_ids == [f"D{i:05d}" for i, _ in a_won[:5]] + [f"D{i:05d}" for i, _ in a_lost[:5]]
    assert a.ingest is not None and a.ingest.value_notices == ["test"]


def test_open_deals_and_blank_values_are_not_segments():
    rows = deals(40, 10, industry="A") + deals(40, 10, industry=None) + [{"outcome": "open", "industry": "Z"}] * 50
    a = analyze(make_crm(rows, dimensions=["industry"]))
    assert [s.id for s in a.segments] == ["industry=A"]
    assert a.baseline.closed == 80


# --------------------------------------------------------------------------- verdicts


def test_planted_segment_is_the_top_icp_candidate_and_the_weak_one_is_anti_icp():
    a = analyze(make_crm(planted_rows()), min_support=30)
    assert a.icp_candidates[0] == "employee_band=201-500&industry=Software"
    assert "industry=Healthcare" in a.anti_icp
    assert a.segment("industry=Healthcare").verdict == "worse"
    assert not any("Healthcare" in sid for sid in a.icp_candidates)
    assert "employee_band=201-500, industry=Software" in a.verdict  # values as written, not an id
    top = a.segment(a.icp_candidates[0])
    assert top.lift > 2
    # ranked by expected value = win rate x median won value / median cycle days
    assert top.expected_value == pytest.approx(top.win_rate * top.median_won_value / top.median_cycle_days)
    evs = [a.segment(s).expected_value for s in a.icp_candidates]
    assert evs == sorted(evs, reverse=True)


def test_verdicts_follow_the_bonferroni_level_and_agree_with_p_values():
    a = analyze(make_crm(planted_rows()), min_support=30)
    tested = [s for s in a.segments if s.verdict != "insufficient support"]
    alpha_c = 0.05 / len(tested)
    assert f"{len(tested)} segment(s)" in a.correction and "Bonferroni" in a.correction
    for s in tested:
        significant = s.verdict in ("better", "worse")
        assert significant == (s.p_value < alpha_c), s.id
        if significant:
            assert (s.verdict == "better") == (s.win_rate > a.baseline.win_rate)


def test_nominally_significant_segment_is_not_significant_after_correction():
    # Baseline 50%; segment X at 62/100 has p ~ 0.016 < 0.05 but 10 segments are tested.
    rows = deals(100, 62, industry="X")
    for k in range(9):
        rows += deals(100, 50, industry=f"Y{k}")
    rows += deals(100, 38, industry="Z")  # keeps the baseline at 50%
    a = analyze(make_crm(rows, dimensions=["industry"]))
    x = a.segment("industry=X")
    assert x.p_value < 0.05
    assert x.verdict == "not significant"
    assert a.icp_candidates == []
    assert "No segment's win rate differs significantly from the baseline of" in a.verdict
    assert "does not single out an ICP" in a.verdict
    # with a single test the same segment would have been called better
    alone = analyze(make_crm(deals(100, 62, industry="X") + deals(100, 38), dimensions=["industry"]))
    assert alone.segment("industry=X").verdict == "better"


def test_min_support_marks_small_segments_untested():
    rows = deals(29, 29, industry="Tiny") + deals(200, 40, industry="Big") + deals(200, 40, industry="Other")
    a = analyze(make_crm(rows, dimensions=["industry"]), min_support=30)
    tiny = a.segment("industry=Tiny")
    assert tiny.verdict == "insufficient support" and tiny.p_value is None
    assert "industry=Tiny" not in a.icp_candidates
    assert "2 segment(s)" in a.correction
    lowered = analyze(make_crm(rows, dimensions=["industry"]), min_support=20)
    assert lowered.segment("industry=Tiny").verdict == "better"
    assert "3 segment(s)" in lowered.correction


def test_pairs_below_support_are_left_out_and_no_pairs_option():
    rows = (deals(60, 30, industry="A", region="N") + deals(10, 5, industry="A", region="S")
            + deals(60, 30, industry="B", region="S"))
    crm = make_crm(rows, dimensions=["industry", "region"])
    ids = {s.id for s in analyze(crm).segments}
    assert "industry=A&region=N" in ids and "industry=B&region=S" in ids
    assert "industry=A&region=S" not in ids  # 10 closed < 30
    assert not any("&" in sid for sid in {s.id for s in analyze(crm, pairs=False).segments})


def test_dimension_selection_and_unknown_dimension():
    rows = deals(60, 30, industry="A", region="N", segment_x="v")
    crm = make_crm(rows, extra=("segment_x",))
    a = analyze(crm, dimensions=["region"])
    assert a.dimensions == ["region"] and {s.id for s in a.segments} == {"region=N"}
    assert analyze(crm, dimensions=["segment_x"]).segment("segment_x=v") is not None
    with pytest.raises(UsageError, match="--dimension nope"):
        analyze(crm, dimensions=["nope"])
    with pytest.raises(UsageError, match="--min-support"):
        analyze(crm, min_support=0)


def test_awkward_column_names_and_values_are_data():
    rows = deals(40, 20, **{'we"ird': "x' OR 1=1 --"}) + deals(40, 10, **{'we"ird': "plain"})
    a = analyze(make_crm(rows, dimensions=['we"ird'], extra=('we"ird',)))
    seg = a.segment("we\"ird=x' OR 1%3D1 --")  # '=' inside a value is escaped in the id
    assert seg.won == 20 and seg.dimensions == {'we"ird': "x' OR 1=1 --"}


def test_segment_ids_read_back_whatever_the_values_hold():
    from persona_assistant.schemas import segment_conditions, segment_id

    assert segment_id({"industry": "Software", "employee_band": "51-200"}) == "industry=Software&employee_band=51-200"
    for dims in ({"industry": "R&D"}, {"industry": "a=b", "region": "100%"}, {"x&y": "%26"}):
        assert segment_conditions(segment_id(dims)) == dims
    rows = deals(40, 30, industry="R&D", region="EU") + deals(40, 5, industry="Retail", region="EU")
    a = analyze(make_crm(rows, dimensions=["industry", "region"]))
    for seg in a.segments:
        assert segment_conditions(seg.id) == seg.dimensions
    assert a.segment("industry=R%26D").won == 30


def test_expected_value_falls_back_without_dates_or_amounts():
    rows = deals(100, 80, industry="A", amount=100.0) + deals(400, 80, industry="B", amount=100.0)
    a = analyze(make_crm(rows, dimensions=["industry"]))
    seg = a.segment("industry=A")
    assert seg.expected_value == pytest.approx(0.8 * 100.0)
    assert "win rate x median won value" in a.verdict
    rows = deals(100, 80, industry="A") + deals(400, 80, industry="B")
    a = analyze(make_crm(rows, dimensions=["industry"]))
    assert a.segment("industry=A").expected_value == pytest.approx(a.segment("industry=A").lift)
    assert a.segment("industry=A").median_won_value is None


def test_analysis_is_deterministic():
    rows = planted_rows(3)
    first = analyze(make_crm(rows)).model_dump_json()
    assert analyze(make_crm(rows)).model_dump_json() == first


def test_no_closed_deals():
    a = analyze(make_crm([{"outcome": "open", "industry": "A"}]))
    assert a.baseline.closed == 0 and a.icp_candidates == [] and a.sufficiency.verdict == "insufficient"
    assert "no closed" in a.verdict.lower()


@pytest.mark.parametrize(
    "won, lost, verdict",
    [(9, 500, "insufficient"), (500, 19, "insufficient"), (10, 20, "directional only"),
     (49, 100, "directional only"), (50, 20, "sufficient")],
)
def test_sufficiency_thresholds(won, lost, verdict):
    s = sufficiency(won, lost)
    assert s.verdict == verdict and (s.won, s.lost) == (won, lost) and str(won) in s.note


def test_sufficiency_is_reported_in_the_verdict():
    a = analyze(make_crm(deals(60, 20, industry="A")))
    assert a.sufficiency.verdict == "directional only"
    assert "directional only" in a.verdict


# --------------------------------------------------------------------------- end to end through load_crm


def _load_crm():
    crm = pytest.importorskip("persona_assistant.ingest.crm")
    return crm.load_crm


def test_sample_workspace_planted_signal(fixtures_dir):
    load_crm = _load_crm()
    crm_dir = fixtures_dir / "sample-workspace" / "crm"
    a = analyze(load_crm(sorted(crm_dir.glob("*.csv"))), min_support=30)
    assert a.icp_candidates, a.verdict
    top = a.segment(a.icp_candidates[0])
    assert top.dimensions.get("industry") == "Software"
    assert top.dimensions.get("employee_band") in ("201-500", "501-1000")
    assert "industry=Healthcare" in a.anti_icp
    assert 0.15 < a.baseline.win_rate < 0.3
    assert top.lift > 2


def test_maven_crm_has_no_significant_winner(shared_dir):
    load_crm = _load_crm()
    maven = shared_dir / "datasets" / "maven-crm"
    a = analyze(load_crm([maven / "accounts.csv", maven / "sales_pipeline.csv"]))
    assert (a.baseline.won, a.baseline.lost) == (4238, 2473)
    assert round(a.baseline.win_rate * 100, 2) == 63.15

    # Hand computation with the csv module: won/closed per sector.
    with (maven / "accounts.csv").open(newline="", encoding="utf-8") as fh:
        sector = {r["account"]: r["sector"] for r in csv.DictReader(fh)}
    tally: dict[str, list[int]] = {}
    with (maven / "sales_pipeline.csv").open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["deal_stage"] in ("Won", "Lost") and r["account"] in sector:
                t = tally.setdefault(sector[r["account"]], [0, 0])
                t[0] += r["deal_stage"] == "Won"
                t[1] += 1
    industry = {s.dimensions["industry"].lower(): s for s in a.segments if list(s.dimensions) == ["industry"]}
    assert tally
    for name, (won, closed) in tally.items():
        seg = industry[name.lower()]
        assert (seg.won, seg.closed) == (won, closed), name
        assert seg.win_rate == pytest.approx(won / closed)

    assert a.icp_candidates == []
    assert not any(s.verdict == "better" for s in a.segments)
    assert "does not single out an ICP" in a.verdict


def test_sample_crm_generator_reproduces_the_committed_fixture(tmp_path, fixtures_dir):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_sample_crm", fixtures_dir / "make_sample_crm.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path in module.write(tmp_path):
        assert path.read_bytes() == (fixtures_dir / "sample-workspace" / "crm" / path.name).read_bytes(), path.name
