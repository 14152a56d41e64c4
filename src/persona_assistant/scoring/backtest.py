"""An honest check of the score: learn on earlier closed deals, test on later ones.

Closed deals are split by close date (the earlier `split` fraction learns, the rest tests),
the same model as `score` is fitted on the earlier part and the later part is scored. We
report AUC (Mann-Whitney, ties count one half) with a Hanley-McNeil 95% interval, the win
rate of the top-scored decile against the test baseline, and a calibration table. When the
interval includes 0.5, or AUC < 0.55, the verdict is "no predictive signal": the CRM's
fields do not tell wins from losses, and the score must not be presented as meaningful.
Every verdict names the test set's size and base rate.

A verdict needs both outcomes in time order. When more than MAX_UNDATED of the won or of the lost
deals have no close date (exports often date only wins), dropping them would test on one outcome
and call it "no signal": the deals are ordered by their created date instead when it is mapped
(`order_by`), else the backtest refuses ("cannot test: N lost deals have no close date; map a
created/last-activity date (mapping.toml) to order them"), an InputError (exit 1).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from persona_assistant.errors import InputError, UsageError
from persona_assistant.scoring.model import L2, MIN_SUPPORT, Model, aggregate, fit

NO_SIGNAL = "no predictive signal"
MAX_UNDATED = 0.1  # share of one outcome's deals without a close date before the close date cannot order them
MIN_AUC = 0.55
CALIBRATION_BINS = 5


def auc_from_groups(groups: Sequence[tuple[float, int, int]]) -> float | None:
    """Mann-Whitney AUC from (score, won, lost) groups; tied scores count one half."""
    merged: dict[float, list[int]] = {}
    for s, w, lo in groups:
        m = merged.setdefault(round(s, 12), [0, 0])
        m[0] += w
        m[1] += lo
    total_w = sum(w for w, _ in merged.values())
    total_l = sum(lo for _, lo in merged.values())
    if not total_w or not total_l:
        return None
    below = 0  # losses with a strictly lower score
    acc = 0.0
    for s in sorted(merged):
        w, lo = merged[s]
        acc += w * below + 0.5 * w * lo
        below += lo
    return acc / (total_w * total_l)


def hanley_mcneil(auc: float, n_won: int, n_lost: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval of an AUC (Hanley & McNeil 1982)."""
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_won - 1) * (q1 - auc * auc) + (n_lost - 1) * (q2 - auc * auc)) / (n_won * n_lost)
    se = math.sqrt(max(var, 0.0))
    return max(0.0, auc - z * se), min(1.0, auc + z * se)


def top_share_win_rate(groups: Sequence[tuple[float, int, int]], share: float = 0.1) -> float | None:
    """Win rate of the top `share` by score; a tie group at the cut counts pro rata (no arbitrary order)."""
    total = sum(w + lo for _, w, lo in groups)
    if not total:
        return None
    k = share * total
    taken = wins = 0.0
    for s, w, lo in sorted(groups, key=lambda g: -g[0]):
        n = w + lo
        if not n:
            continue
        take = min(n, k - taken)
        wins += take * w / n
        taken += take
        if taken >= k - 1e-9:
            break
    return wins / taken if taken else None


def calibration(groups: Sequence[tuple[float, int, int]], bins: int = CALIBRATION_BINS) -> list[dict]:
    """Predicted vs observed win rate in up to `bins` bins of similar size; equal predictions stay together."""
    levels: dict[float, list[float]] = {}
    for p, w, lo in groups:
        m = levels.setdefault(round(p, 12), [0, 0])
        m[0] += w
        m[1] += lo
    total = sum(w + lo for w, lo in levels.values())
    out, current, cumulative = [], None, 0
    for p in sorted(levels):
        w, lo = levels[p]
        cumulative += w + lo
        if current is None:
            current = {"n": 0, "won": 0, "psum": 0.0, "p_min": p}
        current["n"] += w + lo
        current["won"] += w
        current["psum"] += p * (w + lo)
        current["p_max"] = p
        if cumulative >= total * (len(out) + 1) / bins - 1e-9:
            out.append(current)
            current = None
    if current is not None:
        out.append(current)
    return [{"bin": i + 1, "deals": b["n"], "won": b["won"],
             "predicted_min": round(b["p_min"], 4), "predicted_max": round(b["p_max"], 4),
             "predicted_win_rate": round(b["psum"] / b["n"], 4), "observed_win_rate": round(b["won"] / b["n"], 4)}
            for i, b in enumerate(out) if b["n"]]


@dataclass
class Backtest:
    split: float
    cutoff: str  # last close date of the learning part
    dimensions: list[str]
    train: dict
    test: dict
    auc: float | None
    auc_ci: tuple[float, float] | None
    top_decile_win_rate: float | None
    baseline_win_rate: float | None
    calibration: list[dict]
    signal: bool
    verdict: str
    notes: list[str] = field(default_factory=list)
    model: Model | None = None
    order_by: str = "closed"  # the date deals are split by: closed, else created

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("model")
        data["auc_ci"] = list(self.auc_ci) if self.auc_ci else None
        return data


def run_backtest(con: Any, dimensions: Sequence[str], *, split: float = 0.7, table: str = "deals",
                 min_support: int = MIN_SUPPORT, l2: float = L2) -> Backtest:
    """Time-split backtest of the scoring model on a DuckDB deals table."""
    if not 0 < split < 1:
        raise UsageError(f"--split: must be between 0 and 1 (exclusive), got {split}")
    dims = list(dimensions)
    if not dims:
        raise InputError("backtest: the CRM data has no dimension columns (industry, employees, ...) to learn from")
    order, notes = _order_by(con, table)
    closed, dated = con.execute(f"SELECT count(*), count({order}) FROM {table} "
                                "WHERE outcome IN ('won', 'lost')").fetchone()
    if not dated:
        raise InputError(f"backtest: none of the {closed} closed deals has a close date; a time split needs one")
    k = max(1, math.ceil(dated * split))
    cutoff = con.execute(
        f"SELECT {order} FROM {table} WHERE outcome IN ('won', 'lost') AND {order} IS NOT NULL "
        f"ORDER BY {order} LIMIT 1 OFFSET {k - 1}").fetchone()[0]
    cut = f"DATE '{cutoff.isoformat()}'"
    model = fit(con, dims, table=table, where=f"{order} <= {cut}", min_support=min_support, l2=l2)
    test_counts = aggregate(con, dims, table=table, where=f"{order} > {cut}")
    n_won = sum(w for _, w, _ in test_counts)
    n_lost = sum(lo for _, _, lo in test_counts)
    train = {"deals": model.closed, "won": model.won, "through": cutoff.isoformat()}
    test = {"deals": n_won + n_lost, "won": n_won, "after": cutoff.isoformat()}
    groups = [(model.linear(c), w, lo) for c, w, lo in test_counts]
    auc = auc_from_groups(groups)
    ci = hanley_mcneil(auc, n_won, n_lost) if auc is not None else None
    baseline = n_won / (n_won + n_lost) if n_won + n_lost else None
    top = top_share_win_rate(groups, 0.1)
    calib = calibration([(model.probability(c), w, lo) for c, w, lo in test_counts])
    tested = (f"{n_won + n_lost} later deals (by {'close' if order == 'closed' else 'created'} date; "
              f"base rate {baseline:.1%})" if baseline is not None else "no later deals")
    if auc is None:
        signal = False
        verdict = (f"{NO_SIGNAL}: the test period (after {cutoff}) has {n_won} won and {n_lost} lost deals; "
                   f"AUC needs both")
    elif ci[0] <= 0.5 or auc < MIN_AUC:
        signal = False
        verdict = (f"{NO_SIGNAL}: AUC {auc:.3f} (95% CI {ci[0]:.3f}-{ci[1]:.3f}) on {tested} "
                   f"is not reliably better than chance (0.5); do not rank leads by this score")
    else:
        signal = True
        lift = f"{top:.0%} vs baseline {baseline:.0%}" if top is not None and baseline is not None else "n/a"
        verdict = (f"predictive: AUC {auc:.3f} (95% CI {ci[0]:.3f}-{ci[1]:.3f}) on {tested}; "
                   f"top-decile win rate {lift}")
    return Backtest(split, cutoff.isoformat(), dims, train, test, auc, ci, top, baseline, calib, signal,
                    verdict, notes + model.notes, model, order)


def _order_by(con, table: str) -> tuple[str, list[str]]:
    """The date column that orders closed deals in time (closed, else created), and notes; or refuse."""
    has_created = "created" in {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    row = con.execute(f"""SELECT count(*) FILTER (WHERE outcome = 'won'), count(*) FILTER (WHERE outcome = 'lost'),
        count(closed) FILTER (WHERE outcome = 'won'), count(closed) FILTER (WHERE outcome = 'lost'),
        {'count(created)' if has_created else '0'}
        FROM {table} WHERE outcome IN ('won', 'lost')""").fetchone()
    won, lost, won_dated, lost_dated, created = row
    missing = {"won": won - won_dated, "lost": lost - lost_dated}
    short = [o for o, total in (("lost", lost), ("won", won)) if total and missing[o] > MAX_UNDATED * total]
    if not short:
        undated = missing["won"] + missing["lost"]
        return "closed", [f"{undated} closed deals without a close date left out"] if undated else []
    what = short[0]
    if created and created >= (1 - MAX_UNDATED) * (won + lost):
        notes = [f"{missing[what]} {what} deals have no close date: deals ordered by their created date instead"]
        if created < won + lost:
            notes.append(f"{won + lost - created} closed deals without a created date left out")
        return "created", notes
    raise InputError(f"cannot test: {missing[what]} {what} deals have no close date; map a created/last-activity "
                     "date (mapping.toml) to order them")
