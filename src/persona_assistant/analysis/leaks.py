"""Outcome leaks and blanks: the checks that keep a data artefact from becoming the ICP.

A CRM export often holds fields recorded *because of* the outcome: a loss reason, a contract term, the
attributes a marketplace fills in only once a deal is won. Such a field separates won from lost deals
almost perfectly, so a segment test crowns it at 100% and scoring learns it; neither says anything about
who to sell to. Before any segment is tested or any weight learnt, a field is an outcome leak when:

- its name marks it as recorded after the outcome (`POST_OUTCOME`: loss/close/win reason, contract,
  renewal, churn, cancellation ...);
- its presence separates the outcomes: filled on >= PRESENCE_HIGH of one outcome's closed deals and
  <= PRESENCE_LOW of the other's (each outcome with at least MIN_OUTCOME deals);
- its values separate them: values seen (almost) only in won or only in lost deals (minority share
  <= PURE_MINORITY, at least PURE_MIN_DEALS deals each) cover >= PURE_COVERAGE of its filled closed deals.

A leak is excluded from the ICP, the anti-ICP and scoring, and named with the figures that flagged it;
`[analysis] allow = [...]` lets it in. Blanks are never segments: a placeholder ("unknown", "n/a", "-")
counts as blank, and a blank whose win rate differs from the baseline (score test, Bonferroni over the
columns checked) is a data-quality finding ("deals with no lead source win 16% ...: fill the field in").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from persona_assistant.analysis.stats import score_test_p

PRESENCE_HIGH, PRESENCE_LOW = 0.95, 0.05
MIN_OUTCOME = 10
PURE_MIN_DEALS = 10
PURE_MINORITY = 0.01
PURE_COVERAGE = 0.95
BLANK_ALPHA = 0.05
MIN_BLANKS = 10

# Values that mean "not filled in" (compared trimmed and case-insensitively). "none" and "no" are not
# here: a competitor of "None" is a fact, and "NA" is often North America.
PLACEHOLDERS = frozenset({
    "unknown", "n/a", "#n/a", "null", "nil", "-", "--", "?", "(blank)", "blank", "(empty)", "empty",
    "not set", "(not set)", "not specified", "unspecified", "undefined", "not available", "tbd",
})

POST_OUTCOME = re.compile(
    r"\b(loss|lost|win|won|close|closed|closing|churn|churned|cancel\w*|disqualif\w*)( \w+)? reasons?\b"
    r"|\breasons? (for )?(loss|losing|lost|win|winning|won|clos\w*|churn)\b"
    r"|\bcontract\w*|\brenewal\w*|\brenew(ed|s)?\b|\bchurn\w*|\bcancel\w*|\bterminat\w*")


def is_placeholder(value: str) -> bool:
    return value.strip().lower() in PLACEHOLDERS


def _words(name: str) -> str:
    """'Loss_Reason' -> 'loss reason'; 'ContractTerm' -> 'contract term'."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return " ".join(re.split(r"[^0-9a-z]+", spaced.lower())).strip()


def post_outcome_name(label: str) -> str | None:
    """The reason a column's name marks it as recorded after the outcome, or None."""
    if POST_OUTCOME.search(_words(label)):
        return f"{label}: its name marks a field recorded when or after the deal closes: a post-outcome field, excluded"
    return None


@dataclass
class ColumnCounts:
    """A column's closed deals per value (blanks and placeholders already out), and the outcome totals."""

    label: str
    values: list[tuple[str, int, int]]  # (value, won, lost)
    won_total: int
    lost_total: int

    @property
    def won_filled(self) -> int:
        return sum(w for _, w, _ in self.values)

    @property
    def lost_filled(self) -> int:
        return sum(lo for _, _, lo in self.values)


def _pct(x: float) -> str:
    return f"{x:.0%}"


def presence_leak(c: ColumnCounts) -> str | None:
    """Filled on nearly all of one outcome and nearly none of the other."""
    if c.won_total < MIN_OUTCOME or c.lost_total < MIN_OUTCOME:
        return None
    fw, fl = c.won_filled / c.won_total, c.lost_filled / c.lost_total
    if (fw >= PRESENCE_HIGH and fl <= PRESENCE_LOW) or (fl >= PRESENCE_HIGH and fw <= PRESENCE_LOW):
        return (f"{c.label}: filled on {_pct(fw)} of won and {_pct(fl)} of lost deals "
                f"({c.won_filled} of {c.won_total} won, {c.lost_filled} of {c.lost_total} lost): "
                "an outcome leak, excluded")
    return None


def value_leak(c: ColumnCounts) -> str | None:
    """Values seen only in won or only in lost deals cover almost every filled closed deal."""
    filled = c.won_filled + c.lost_filled
    if not filled or not c.won_filled or not c.lost_filled:
        return None
    pure = [(v, w, lo) for v, w, lo in c.values
            if w + lo >= PURE_MIN_DEALS and min(w, lo) <= PURE_MINORITY * (w + lo)]
    covered = sum(w + lo for _, w, lo in pure)
    if covered < PURE_COVERAGE * filled:
        return None
    won_only = sorted((v for v, w, lo in pure if w > lo), key=str)[:2]
    lost_only = sorted((v for v, w, lo in pure if lo > w), key=str)[:2]
    seen = "; ".join(part for part in (
        f"only won: {', '.join(repr(v) for v in won_only)}" if won_only else "",
        f"only lost: {', '.join(repr(v) for v in lost_only)}" if lost_only else "") if part)
    return (f"{c.label}: values seen only in won or only in lost deals cover {_pct(covered / filled)} of its "
            f"{filled} filled closed deals ({seen}): an outcome leak, excluded")


def leak(c: ColumnCounts) -> str | None:
    """Why the column is an outcome leak, with the figures (fill rates per outcome at least), or None."""
    figures = presence_leak(c) or value_leak(c)
    named = post_outcome_name(c.label)
    if figures and named:
        return figures.replace(": an outcome leak", ": an outcome leak (and its name marks a post-outcome field)")
    if named and c.won_total and c.lost_total:
        fill = (f"filled on {_pct(c.won_filled / c.won_total)} of won and "
                f"{_pct(c.lost_filled / c.lost_total)} of lost deals")
        return named.replace(": a post-outcome field", f" ({fill}): a post-outcome field")
    return figures or named


def blank_finding(c: ColumnCounts, label: str, tests: int) -> str | None:
    """A data-quality finding when deals with the field blank win at a rate unlike the baseline."""
    won_b, lost_b = c.won_total - c.won_filled, c.lost_total - c.lost_filled
    n, total = won_b + lost_b, c.won_total + c.lost_total
    if n < MIN_BLANKS or n == total or not total:
        return None
    p = score_test_p(won_b, n, c.won_total / total)
    if p is None or p >= BLANK_ALPHA / max(1, tests):
        return None
    return (f"deals with no {label} win {_pct(won_b / n)} ({won_b} of {n} closed) against "
            f"{_pct(c.won_total / total)} overall: blanks are not a segment; fill the field in")
