"""Wilson intervals, score-test p-values and the Bonferroni level against known values."""

from __future__ import annotations

import pytest

from persona_assistant.analysis.stats import bonferroni_alpha, score_test_p, wilson_interval, z_for


def test_critical_value_for_95_percent():
    assert z_for(0.05) == pytest.approx(1.959964, abs=1e-6)
    assert z_for(0.01) == pytest.approx(2.575829, abs=1e-6)


@pytest.mark.parametrize(
    "won, n, low, high",
    [
        (5, 10, 0.2366, 0.7634),  # textbook values (Newcombe 1998 / Wikipedia)
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (1, 20, 0.0089, 0.2361),
    ],
)
def test_wilson_known_values(won, n, low, high):
    lo, hi = wilson_interval(won, n)
    assert lo == pytest.approx(low, abs=5e-5)
    assert hi == pytest.approx(high, abs=5e-5)


def test_wilson_narrows_with_n_and_widens_with_confidence():
    assert wilson_interval(50, 100)[1] - wilson_interval(50, 100)[0] > \
        wilson_interval(500, 1000)[1] - wilson_interval(500, 1000)[0]
    lo95, hi95 = wilson_interval(30, 100)
    lo99, hi99 = wilson_interval(30, 100, alpha=0.01)
    assert lo99 < lo95 < 0.3 < hi95 < hi99


def test_wilson_with_no_data_knows_nothing_and_rejects_nonsense():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)
    with pytest.raises(ValueError):
        z_for(0)


def test_score_test_known_value():
    # 60 of 100 against 50%: z = 0.1 / 0.05 = 2 -> two-sided p = 0.0455
    assert score_test_p(60, 100, 0.5) == pytest.approx(0.0455, abs=1e-4)
    assert score_test_p(50, 100, 0.5) == pytest.approx(1.0)
    assert score_test_p(0, 0, 0.5) is None
    assert score_test_p(3, 10, 0.0) is None


def test_p_value_and_wilson_interval_never_disagree():
    """The verdict uses the interval and the report shows the p-value: they must tell the same story."""
    for alpha in (0.05, 0.005, 0.0005):
        for n in (30, 57, 200):
            for won in range(0, n + 1, 3):
                for p0 in (0.2, 0.5, 0.632):
                    lo, hi = wilson_interval(won, n, alpha=alpha)
                    excludes = lo > p0 or hi < p0
                    assert excludes == (score_test_p(won, n, p0) < alpha), (alpha, n, won, p0)


def test_bonferroni():
    assert bonferroni_alpha(0.05, 10) == pytest.approx(0.005)
    assert bonferroni_alpha(0.05, 0) == 0.05
