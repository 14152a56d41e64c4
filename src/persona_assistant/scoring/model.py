"""Learned, explainable ICP-fit scores.

Why this shape:

* Weights are learned, never hand-set: an L2-regularised logistic regression of won vs lost
  on one-hot dimension values (industry=Software, employee_band=51-200, ...). It is fitted by
  Newton-Raphson in pure Python over *aggregated counts* (one row per distinct combination of
  values, with its won and lost counts), which is exact and small: a million deals collapse
  to a few thousand combinations.
* A value needs `min_support` closed deals to get a weight; rarer, unseen and missing values
  contribute 0 (the model's neutral point) and lower a separate confidence, never the score.
* The score is additive so every point is explained: for each dimension the coefficients and
  0 span [lo_d, hi_d]; ``scale = 100 / sum(hi_d - lo_d)``, ``base = -scale * sum(lo_d)`` and
  ``score = round_half_up(base + scale * sum(active coefficients))``, always within 0..100.
  Printed points are apportioned by largest remainder so base + points == score exactly.
* Tiers come from the calibrated win probability (the fitted logistic model's, checked out of sample
  by the backtest's calibration table) against the history's base rate: A at or above TIER_A_LIFT x
  the base rate, C below TIER_C_LIFT x the base rate, B between. A lead the model knows little about
  (confidence low or unknown: blank or unseen values) is at most B. A hard gate (anti-ICP) makes it
  "no fit". The 0-100 score orders leads; the tier says how they compare with an average deal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from persona_assistant.analysis.stats import wilson_interval
from persona_assistant.schemas import Confidence, StatEvidence
from persona_assistant.scoring.gates import Gate

MODEL_KIND = "L2-regularised logistic regression on one-hot dimension values (Newton-Raphson over aggregated counts)"
MIN_SUPPORT = 10  # closed deals a value needs before it gets a weight
L2 = 1.0  # ridge penalty: a N(0, 1) prior on each coefficient (log-odds)
MAX_VALUES_PER_DIMENSION = 30  # most frequent values kept per dimension (bounds the Newton solve)
TIER_A_LIFT, TIER_C_LIFT = 1.25, 0.8  # win probability vs the base rate: A at or above, C below
NO_FIT = "no fit"

Combo = tuple  # a tuple of dimension values (str or None), in Model.dimensions order


def round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@dataclass(frozen=True)
class Feature:
    dimension: str
    value: str
    coef: float
    closed: int
    won: int

    @property
    def id(self) -> str:
        return f"{self.dimension}={self.value}"

    def evidence(self) -> StatEvidence:
        lo, hi = wilson_interval(self.won, self.closed)
        return StatEvidence(segment_id=self.id, closed=self.closed, won=self.won,
                            win_rate=self.won / self.closed if self.closed else 0.0, ci_low=lo, ci_high=hi)


@dataclass
class Model:
    dimensions: list[str]
    intercept: float
    features: list[Feature]
    l2: float
    min_support: int
    closed: int
    won: int
    iterations: int
    value_support: dict[str, dict[str, int]]  # dimension -> value -> closed deals (all values)
    base: float = 0.0
    scale: float = 0.0
    tier_a: float = 1.0  # win probability for tier A (TIER_A_LIFT x base rate)
    tier_b: float = 1.0  # win probability for tier B (TIER_C_LIFT x base rate)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._index = {(f.dimension, f.value): f for f in self.features}

    def feature(self, dimension: str, value: str | None) -> Feature | None:
        return None if value is None else self._index.get((dimension, value))

    def linear(self, combo: Combo) -> float:
        """Log-odds of winning for a combination of values (unknown values add 0)."""
        total = self.intercept
        for dim, value in zip(self.dimensions, combo):
            f = self.feature(dim, value)
            if f is not None:
                total += f.coef
        return total

    def probability(self, combo: Combo) -> float:
        return _sigmoid(self.linear(combo))

    def exact_score(self, combo: Combo) -> float:
        return self.base + self.scale * (self.linear(combo) - self.intercept)

    def score(self, combo: Combo) -> int:
        return round_half_up(self.exact_score(combo))

    def tier(self, probability: float, confidence: str = "high") -> str:
        """A / B / C from the win probability against the base rate; at most B on low confidence."""
        if probability >= self.tier_a and confidence in ("high", "medium"):
            return "A"
        return "B" if probability >= self.tier_b else "C"

    def spans(self) -> dict[str, tuple[float, float]]:
        """Per dimension: the lowest and highest contribution (0 included: unknown values)."""
        out = {d: (0.0, 0.0) for d in self.dimensions}
        for f in self.features:
            lo, hi = out[f.dimension]
            out[f.dimension] = (min(lo, f.coef), max(hi, f.coef))
        return out


# --------------------------------------------------------------------------- fitting


def aggregate(con: Any, dimensions: Sequence[str], *, table: str = "deals",
              where: str | None = None) -> list[tuple[Combo, int, int]]:
    """Won/lost counts per distinct combination of dimension values (closed deals only)."""
    cols = ", ".join(f'CAST("{d}" AS VARCHAR)' for d in dimensions) or "NULL"
    cond = "outcome IN ('won', 'lost')" + (f" AND ({where})" if where else "")
    group = f"GROUP BY {', '.join(str(i + 1) for i in range(len(dimensions)))}" if dimensions else ""
    rows = con.execute(
        f"SELECT {cols}, count(*) FILTER (WHERE outcome = 'won'), count(*) FILTER (WHERE outcome = 'lost') "
        f"FROM {table} WHERE {cond} {group}").fetchall()
    n = len(dimensions)
    # DuckDB returns groups in no fixed order; a fixed order makes the fit's float sums,
    # and so every coefficient, identical from run to run.
    rows.sort(key=lambda r: tuple((v is None, v or "") for v in r[:n]))
    return [(tuple(r[:n]) if n else (), int(r[-2]), int(r[-1])) for r in rows]


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Solve a symmetric positive-definite system by Cholesky decomposition."""
    n = len(b)
    low = [[0.0] * n for _ in range(n)]
    for i in range(n):
        row_i = low[i]
        for j in range(i + 1):
            row_j = low[j]
            s = a[i][j] - sum(row_i[k] * row_j[k] for k in range(j))
            if i == j:
                row_i[i] = math.sqrt(max(s, 1e-12))
            else:
                row_i[j] = s / row_j[j]
    y = [0.0] * n
    for i in range(n):
        y[i] = (b[i] - sum(low[i][k] * y[k] for k in range(i))) / low[i][i]
    x = [0.0] * n
    for i in reversed(range(n)):
        x[i] = (y[i] - sum(low[k][i] * x[k] for k in range(i + 1, n))) / low[i][i]
    return x


def fit_counts(counts: Iterable[tuple[Combo, int, int]], dimensions: Sequence[str], *,
               min_support: int = MIN_SUPPORT, l2: float = L2, max_iter: int = 50) -> Model:
    """Fit the model on aggregated (combination, won, lost) counts; pure and deterministic."""
    counts = [(tuple(c), int(w), int(lo)) for c, w, lo in counts if w + lo > 0]
    dimensions = list(dimensions)
    won = sum(w for _, w, _ in counts)
    closed = sum(w + lo for _, w, lo in counts)
    support: dict[str, dict[str, int]] = {d: {} for d in dimensions}
    wins: dict[tuple[str, str], int] = {}
    for combo, w, lo in counts:
        for d, v in zip(dimensions, combo):
            if v is not None:
                support[d][v] = support[d].get(v, 0) + w + lo
                wins[(d, v)] = wins.get((d, v), 0) + w
    keys: list[tuple[str, str]] = []
    notes: list[str] = []
    for d in dimensions:
        eligible = sorted(((v, n) for v, n in support[d].items() if n >= min_support),
                          key=lambda vn: (-vn[1], vn[0]))
        if len(eligible) > MAX_VALUES_PER_DIMENSION:
            notes.append(f"{d}: only the {MAX_VALUES_PER_DIMENSION} most frequent of {len(eligible)} values "
                         f"with >= {min_support} closed deals get a weight")
            eligible = eligible[:MAX_VALUES_PER_DIMENSION]
        keys.extend((d, v) for v, _ in sorted(eligible, key=lambda vn: vn[0]))
    pos = {k: i + 1 for i, k in enumerate(keys)}  # 0 is the intercept
    rows = [([0] + [pos[(d, v)] for d, v in zip(dimensions, combo) if (d, v) in pos], w, w + lo)
            for combo, w, lo in counts]
    p = len(keys) + 1
    beta = [0.0] * p
    if 0 < won < closed:
        beta[0] = math.log(won / (closed - won))

    def objective(b: list[float]) -> float:
        ll = 0.0
        for active, w, n in rows:
            eta = sum(b[i] for i in active)
            ll += w * eta - n * (max(eta, 0) + math.log1p(math.exp(-abs(eta))))
        return ll - 0.5 * l2 * sum(x * x for x in b[1:])

    iterations = 0
    if closed and 0 < won < closed:
        current = objective(beta)
        for iterations in range(1, max_iter + 1):
            grad = [0.0] * p
            hess = [[0.0] * p for _ in range(p)]
            for active, w, n in rows:
                prob = _sigmoid(sum(beta[i] for i in active))
                g = w - n * prob
                h = n * prob * (1 - prob)
                for i in active:
                    grad[i] += g
                    hi = hess[i]
                    for j in active:
                        hi[j] += h
            for i in range(1, p):
                grad[i] -= l2 * beta[i]
                hess[i][i] += l2
            hess[0][0] += 1e-9
            step = _solve(hess, grad)
            t = 1.0
            while True:  # step halving keeps every iteration an improvement
                trial = [b + t * s for b, s in zip(beta, step)]
                value = objective(trial)
                if value >= current - 1e-12 or t < 1e-6:
                    break
                t /= 2
            beta, current = trial, value
            if max(abs(t * s) for s in step) < 1e-10:
                break
    elif closed:
        notes.append("history holds only wins or only losses: no weights can be learned")
    features = [Feature(d, v, beta[pos[(d, v)]], support[d][v], wins[(d, v)]) for d, v in keys]
    model = Model(dimensions, beta[0], features, l2, min_support, closed, won, iterations, support, notes=notes)
    _calibrate_scale(model, counts)
    return model


def _calibrate_scale(model: Model, counts: list[tuple[Combo, int, int]]) -> None:
    """Set the 0..100 mapping and the tier thresholds from the training history."""
    spans = model.spans()
    width = sum(hi - lo for lo, hi in spans.values())
    if width < 1e-12:
        model.scale, model.base = 0.0, 50.0
    else:
        model.scale = 100.0 / width
        model.base = -model.scale * sum(lo for lo, _ in spans.values())
    base_rate = model.won / model.closed if model.closed else None
    model.tier_a = min(1.0, TIER_A_LIFT * base_rate) if base_rate else 1.0
    model.tier_b = TIER_C_LIFT * base_rate if base_rate else 1.0


def fit(con: Any, dimensions: Sequence[str], *, table: str = "deals", where: str | None = None,
        min_support: int = MIN_SUPPORT, l2: float = L2) -> Model:
    """Fit on the won/lost deals of a DuckDB table (optionally filtered by a SQL condition)."""
    return fit_counts(aggregate(con, dimensions, table=table, where=where), dimensions,
                      min_support=min_support, l2=l2)


# --------------------------------------------------------------------------- scoring one combination


def _apportion(parts: list[float], target: int) -> list[int]:
    """Integers that sum to `target`, each the floor or ceiling of its part (largest remainder)."""
    floors = [math.floor(x) for x in parts]
    extra = target - sum(floors)
    order = sorted(range(len(parts)), key=lambda i: (-(parts[i] - floors[i]), i))
    for i in order[:max(0, min(extra, len(parts)))]:
        floors[i] += 1
    return floors


def _confidence(model: Model, combo: Combo) -> tuple[float, Confidence]:
    spans = model.spans()
    weights = {d: hi - lo for d, (lo, hi) in spans.items()}
    if sum(weights.values()) < 1e-12:
        weights = {d: 1.0 for d in model.dimensions}
    total = sum(weights.values()) or 1.0
    known = sum(weights[d] for d, v in zip(model.dimensions, combo) if model.feature(d, v) is not None)
    share = known / total if model.dimensions else 0.0
    label: Confidence = "high" if share >= 0.9 else "medium" if share >= 0.6 else "low" if share > 0 else "unknown"
    return round(share, 3), label


CONFIDENCE_ORDER = ("unknown", "low", "medium", "high")


def score_combo(model: Model, combo: Combo, *, gates: Sequence[Gate] = (),
                extra_values: dict[str, str | None] | None = None,
                icp_signals: dict[tuple[str, str], str] | None = None,
                max_confidence: Confidence | None = None) -> dict:
    """Score, tier, confidence and the factors (which add up to the score) of one combination.

    `max_confidence` caps the confidence (and so the tier): a score the backtest could not support."""
    exact = model.exact_score(combo)
    score = round_half_up(exact)
    parts = [model.base]
    factors = []
    for d, v in zip(model.dimensions, combo):
        f = model.feature(d, v)
        parts.append(model.scale * f.coef if f else 0.0)
        factor: dict[str, Any] = {"dimension": d, "value": v, "feature": f.id if f else None,
                                  "weight": f.coef if f else 0.0}
        if v is None:
            factor.update(status="unknown", note=f"{d} unknown: no points, lowers confidence")
        elif f is None:
            seen = model.value_support.get(d, {}).get(v, 0)
            why = (f"{d}={v} not in the won/lost history" if not seen else
                   f"{d}={v} seen in {seen} closed deals (< {model.min_support}): no weight learned")
            factor.update(status="no weight", note=why + ", lowers confidence")
        else:
            factor.update(status="meets" if f.coef > 0 else "misses" if f.coef < 0 else "neutral",
                          evidence=f.evidence().model_dump(mode="json"))
            if icp_signals and (d, v.casefold()) in icp_signals:
                factor["icp_criterion"] = icp_signals[(d, v.casefold())]
        factors.append(factor)
    points = _apportion(parts, score)
    for factor, pts in zip(factors, points[1:]):
        factor["points"] = pts
    values = {**(extra_values or {}), **dict(zip(model.dimensions, combo))}
    hit = [g for g in gates if g.matches(values)]
    share, label = _confidence(model, combo)
    if max_confidence is not None and CONFIDENCE_ORDER.index(label) > CONFIDENCE_ORDER.index(max_confidence):
        label = max_confidence
    probability = model.probability(combo)
    return {
        "score": score, "base_points": points[0],
        "tier": NO_FIT if hit else model.tier(probability, label),
        "win_probability": round(probability, 4),
        "confidence": label, "known_share": share,
        "disqualified_by": [{"gate": g.id, "source": g.source, "reason": g.reason, "evidence": g.evidence}
                            for g in hit],
        "factors": factors,
    }


def explain(model: Model) -> dict:
    """Everything needed to recompute any score by hand."""
    spans = model.spans()
    return {
        "kind": MODEL_KIND,
        "regularisation": {"l2": model.l2, "penalised": "all coefficients except the intercept"},
        "min_support": model.min_support,
        "trained_on": {"closed": model.closed, "won": model.won,
                       "win_rate": model.won / model.closed if model.closed else None},
        "iterations": model.iterations,
        "dimensions": model.dimensions,
        "intercept": model.intercept,
        "coefficients": [{"feature": f.id, "dimension": f.dimension, "value": f.value, "coef": f.coef,
                          "support": f.closed, "won": f.won} for f in model.features],
        "score_formula": "score = round_half_up(base + scale * sum(coef of the row's values)); "
                         "unknown or unweighted values add 0; win_probability = "
                         "1 / (1 + exp(-(intercept + sum(coef))))",
        "base": model.base,
        "scale": model.scale,
        "spans": {d: {"low": lo, "high": hi} for d, (lo, hi) in spans.items()},
        "tiers": {"A": f"win probability >= {model.tier_a:.4f} ({TIER_A_LIFT} x the base rate) and confidence "
                       "high or medium",
                  "B": f"win probability >= {model.tier_b:.4f} ({TIER_C_LIFT} x the base rate), or A's "
                       "probability with low confidence",
                  "C": "below B", NO_FIT: "matches an anti-ICP disqualifier (hard gate)"},
        "tier_thresholds": {"A": model.tier_a, "B": model.tier_b},
        "notes": model.notes,
    }


def icp_signal_index(icp: Any) -> dict[tuple[str, str], str]:
    """(dimension, casefolded value) -> ICP qualification criterion, to name met criteria."""
    if icp is None:
        return {}
    return {(s.dimension, s.value.casefold()): s.criterion
            for s in icp.qualification_signals if s.dimension and s.value}
