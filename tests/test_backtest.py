"""Backtest: AUC with ties, interval, top decile, calibration, planted vs no signal."""

import datetime as dt
import importlib.util
import itertools
import random

import pytest

from crm_builder import deals_table
from persona_assistant.errors import InputError, UsageError
from persona_assistant.scoring.backtest import (
    NO_SIGNAL, auc_from_groups, calibration, hanley_mcneil, run_backtest, top_share_win_rate,
)


def _brute_auc(groups):
    wins = [s for s, w, _ in groups for _ in range(w)]
    losses = [s for s, _, lo in groups for _ in range(lo)]
    pairs = [(1.0 if a > b else 0.5 if a == b else 0.0) for a, b in itertools.product(wins, losses)]
    return sum(pairs) / len(pairs)


def test_auc_matches_pairwise_count_with_ties():
    rng = random.Random(3)
    for _ in range(20):
        groups = [(rng.choice([0.1, 0.2, 0.2, 0.5, 0.9]), rng.randint(0, 5), rng.randint(0, 5)) for _ in range(8)]
        if sum(g[1] for g in groups) and sum(g[2] for g in groups):
            assert auc_from_groups(groups) == pytest.approx(_brute_auc(groups))
    assert auc_from_groups([(0.3, 10, 10)]) == 0.5  # one score for all: chance
    assert auc_from_groups([(1, 5, 0), (0, 0, 5)]) == 1.0
    assert auc_from_groups([(1, 5, 0)]) is None


def test_hanley_mcneil_interval_narrows_with_more_deals():
    small = hanley_mcneil(0.7, 20, 20)
    large = hanley_mcneil(0.7, 2000, 2000)
    assert small[0] < large[0] < 0.7 < large[1] < small[1]
    assert large[1] - large[0] < 0.05


def test_top_decile_counts_a_tie_group_pro_rata():
    # 100 deals; the top 10 come from a tie group of 20 with win rate 0.5 -> 0.5, whatever the order
    groups = [(0.9, 10, 10), (0.1, 0, 80)]
    assert top_share_win_rate(groups, 0.1) == pytest.approx(0.5)
    assert top_share_win_rate([(0.9, 5, 0), (0.5, 3, 2), (0.1, 0, 90)], 0.1) == pytest.approx(0.8)


def test_calibration_bins_cover_all_deals_and_keep_ties_together():
    groups = [(p / 100, 1 + p % 3, 2) for p in range(1, 50)] + [(0.6, 40, 40)]
    bins = calibration(groups, bins=5)
    assert sum(b["deals"] for b in bins) == sum(w + lo for _, w, lo in groups)
    assert sum(1 for b in bins if b["predicted_min"] <= 0.6 <= b["predicted_max"]) == 1
    assert [b["predicted_win_rate"] for b in bins] == sorted(b["predicted_win_rate"] for b in bins)
    assert len(bins) <= 5


def _load_planted(fixtures_dir):
    spec = importlib.util.spec_from_file_location("planted_db", fixtures_dir / "scoring" / "planted_db.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.connect()


def test_planted_signal_is_found_on_the_later_period(fixtures_dir):
    con = _load_planted(fixtures_dir)
    bt = run_backtest(con, ["industry", "employee_band", "country"], split=0.7)
    assert bt.auc >= 0.75 and bt.signal and bt.auc_ci[0] > 0.5
    assert bt.top_decile_win_rate > 1.5 * bt.baseline_win_rate
    last_train = con.execute(f"SELECT max(closed) FROM deals WHERE outcome IN ('won','lost') "
                             f"AND closed <= DATE '{bt.cutoff}'").fetchone()[0]
    assert last_train.isoformat() == bt.cutoff
    assert bt.train["deals"] + bt.test["deals"] == 2693
    assert 0.65 <= bt.train["deals"] / 2693 <= 0.75
    assert bt.model.closed == bt.train["deals"]  # learned only on the earlier part
    data = bt.to_dict()
    assert "model" not in data and data["verdict"].startswith("predictive")


def _random_history(n=3000, seed=7):
    """Outcomes independent of the dimensions: a backtest must report no signal."""
    rng = random.Random(seed)
    start = dt.date(2020, 1, 1)
    return deals_table({"deal_id": f"D{i}", "outcome": "won" if rng.random() < 0.6 else "lost",
                        "closed": start + dt.timedelta(days=rng.randint(0, 700)), "industry": rng.choice("ABCDEFG"),
                        "employee_band": rng.choice(["1-10", "11-50", "51-200"])} for i in range(n))


def test_no_signal_is_said_plainly():
    bt = run_backtest(_random_history(), ["industry", "employee_band"])
    assert not bt.signal
    assert bt.verdict.startswith(NO_SIGNAL) and "do not rank leads" in bt.verdict
    assert 0.4 < bt.auc < 0.6


def test_bad_split_and_undated_history():
    con = _random_history(200)
    with pytest.raises(UsageError, match="--split"):
        run_backtest(con, ["industry"], split=1.0)
    con.execute("UPDATE deals SET closed = NULL")
    with pytest.raises(InputError, match="close date"):
        run_backtest(con, ["industry"])
