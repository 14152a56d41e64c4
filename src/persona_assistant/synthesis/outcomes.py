"""Themes against CRM outcomes: did the accounts whose people said it win or lose more often?

An interviewee is linked to a CRM account when their company (front matter `company`, or
the company named where their role was read) equals an account name after normalising case,
punctuation and legal suffixes (Inc, Ltd, GmbH ...). An account is "won" when any of its deals
was won, else "lost" when any was lost, else "open" (open accounts are not counted).

For each theme, the linked interviewees with a closed account form a 2x2 table (said the
theme or not, by won or lost) tested with Fisher's exact test (two-sided: the sum of the
probabilities of every table with the same margins that is no more likely than the one seen).
The same discipline as `analyze`: a theme is called more common with won (or lost) accounts only
when p is at most the Bonferroni-corrected level (ALPHA over the number of themes tested).
With fewer than MIN_LINKED linked interviewees on closed accounts, or without both won and
lost among them, no figure is given: the result says "too few linked interviews".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from persona_assistant.analysis.stats import bonferroni_alpha
from persona_assistant.synthesis.speakers import Person
from persona_assistant.synthesis.themes import Theme

ALPHA = 0.05
MIN_LINKED = 8
_SUFFIX = re.compile(r"\b(?:inc|incorporated|ltd|limited|llc|gmbh|ag|sa|plc|corp|corporation|co|company)\b\.?")


def normalise_account(name: str) -> str:
    text = re.sub(r"[^\w\s]", " ", name.lower())
    return " ".join(_SUFFIX.sub(" ", text).split())


def fisher_two_sided(a: int, b: int, c: int, d: int) -> float:
    """p of Fisher's exact test for the table [[a, b], [c, d]] (two-sided)."""
    row1, col1, n = a + b, a + c, a + b + c + d
    lo, hi = max(0, col1 - (n - row1)), min(row1, col1)

    def prob(x: int) -> float:
        return math.comb(col1, x) * math.comb(n - col1, row1 - x) / math.comb(n, row1)

    seen = prob(a)
    return min(1.0, sum(p for p in (prob(x) for x in range(lo, hi + 1)) if p <= seen * (1 + 1e-7)))


def account_outcomes(con) -> dict[str, str]:
    """Normalised account name -> won | lost | open, from the CRM `deals` table."""
    rows = con.execute("SELECT account, bool_or(outcome = 'won'), bool_or(outcome = 'lost') FROM deals "
                       "WHERE account IS NOT NULL GROUP BY account").fetchall()
    out: dict[str, str] = {}
    for account, won, lost in rows:
        key = normalise_account(str(account))
        if key:
            out[key] = "won" if won or out.get(key) == "won" else "lost" if lost or out.get(key) == "lost" else "open"
    return out


def person_company(p: Person) -> str | None:
    """Their company; a file's company names its sole interviewee only, never a panel's guests."""
    return p.company or (p.source.company if p.key == p.source.id else None)


@dataclass
class ThemeOutcome:
    theme: Theme
    won_with: int
    lost_with: int
    won: int  # linked interviewees on won accounts
    lost: int
    p: float
    verdict: str  # "more common with won accounts" | "... lost accounts" | "no difference shown"


@dataclass
class OutcomeReport:
    linked: dict[str, str]  # person key -> won | lost
    results: list[ThemeOutcome]
    note: str


def themes_against_outcomes(themes: list[Theme], people: list[Person], outcomes: dict[str, str]) -> OutcomeReport:
    linked = {}
    for p in people:
        company = person_company(p)
        outcome = outcomes.get(normalise_account(company)) if company else None
        if outcome in ("won", "lost"):
            linked[p.key] = outcome
    won, lost = sum(v == "won" for v in linked.values()), sum(v == "lost" for v in linked.values())
    if len(linked) < MIN_LINKED or not won or not lost:
        return OutcomeReport(linked, [], f"too few linked interviews to compare themes with outcomes ({len(linked)} "
                                         f"interviewee(s) on closed CRM accounts: {won} won, {lost} lost; "
                                         f"at least {MIN_LINKED} with both outcomes needed)")
    tested = [th for th in themes if any(k in linked for k in th.people)]
    level = bonferroni_alpha(ALPHA, len(tested))
    results = []
    for th in tested:
        said = {k for k in th.people if k in linked}
        ww = sum(linked[k] == "won" for k in said)
        lw = len(said) - ww
        p = fisher_two_sided(ww, lw, won - ww, lost - lw)
        if p <= level:
            verdict = "more common with won accounts" if ww / won > lw / lost else "more common with lost accounts"
        else:
            verdict = "no difference shown"
        results.append(ThemeOutcome(th, ww, lw, won, lost, p, verdict))
    results.sort(key=lambda r: (r.p, -len(r.theme.people)))
    shown = sum(r.verdict != "no difference shown" for r in results)
    return OutcomeReport(linked, results, f"{len(tested)} theme(s) tested against outcomes of {len(linked)} linked "
                                          f"interviewee(s) ({won} won, {lost} lost), Fisher's exact test, Bonferroni "
                                          f"level {level:.4f}: {shown} differ")
