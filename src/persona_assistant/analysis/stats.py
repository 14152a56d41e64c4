"""Small, exact statistics for win rates: Wilson intervals, score-test p-values, Bonferroni.

Why Wilson: the textbook "p ± z·sqrt(p(1-p)/n)" interval collapses to zero width at
0% or 100% and undercovers for small segments; Wilson's score interval does not.

The p-value is the two-sided *score test* of "this segment's win rate equals the
baseline" (normal approximation, z = (p̂ - p0) / sqrt(p0(1-p0)/n)). It is the test
the Wilson interval inverts, so "p < alpha" and "the (1 - alpha) Wilson interval
excludes the baseline" always agree: the verdict and the p-value never contradict.
"""

from __future__ import annotations

import math
from statistics import NormalDist

_STD_NORMAL = NormalDist()


def z_for(alpha: float) -> float:
    """The two-sided critical value for significance level `alpha` (1.959964 for 0.05)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    return _STD_NORMAL.inv_cdf(1 - alpha / 2)


def wilson_interval(successes: int, n: int, *, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for a proportion; (0.0, 1.0) when n is 0 (nothing is known)."""
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return 0.0, 1.0
    z = z_for(alpha)
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # Clamp float noise so the bounds stay inside [0, 1] and contain p.
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def score_test_p(successes: int, n: int, p0: float) -> float | None:
    """Two-sided p-value of H0: rate == p0 (score test, normal approximation).

    None when the test is undefined (no deals, or a baseline of exactly 0 or 1).
    """
    if n <= 0 or not 0 < p0 < 1:
        return None
    z = (successes / n - p0) / math.sqrt(p0 * (1 - p0) / n)
    return min(1.0, 2 * _STD_NORMAL.cdf(-abs(z)))


def bonferroni_alpha(alpha: float, tests: int) -> float:
    """Per-test level that keeps the family-wise error rate at `alpha` over `tests` tests."""
    return alpha / max(1, tests)


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input order.

    A test with q < alpha is a discovery at false discovery rate alpha: of all such discoveries, at most
    a share alpha is expected to be false (independent or positively dependent tests). Less strict than
    Bonferroni, which bounds the chance of even one false discovery.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    q = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        q[i] = min(1.0, running)
    return q
