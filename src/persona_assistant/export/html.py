"""A self-contained HTML report a team reads from the top: the first screen holds the ICP headline
(winning segments with rates and intervals, or "no segment stands out", and the anti-ICP), a
persona comparison (top pain, goal and objection, each with "n of N interviewees") and the leak
and data-quality findings; then the details: a segment chart scaled to the data, every persona
field the schema has (draft/view), the ICP's evidence, message maps, journeys and assets.

Each quote is printed in full once (draft/view.QuoteLedger): personas first, where interview
words belong; a later mention (the ICP's evidence, the comparison, a message map) is a short
reference with its citation. A section with nothing to show is left out, not printed empty.

Safety: its own Jinja2 environment with autoescape ON (never the prompt sandbox, whose
autoescape is off), so every piece of model, note or CRM text is escaped; no `|safe`
anywhere in the template; every printed string is `safe_text.clean`ed first (no escape
sequences or control characters). The page loads nothing and links nowhere: no external CSS,
JS, fonts or images, no href, and a Content-Security-Policy of `default-src 'none';
style-src 'unsafe-inline'; img-src data:` forbids scripts and requests even if something slipped through.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from persona_assistant.draft.evidence import evidence_items
from persona_assistant.draft.view import (
    QuoteLedger, cite, cut, label, persona_fields, reference, segment_label, top_item,
)
from persona_assistant.schemas import ICP, Analysis, Campaign, Claim, Persona, QuoteEvidence, StatEvidence

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
TEMPLATES = Path(__file__).parent / "templates"
HEADLINE_SEGMENTS = 3  # winning and losing segments on the first screen, each
CHART_ROWS = 25
COMPARE_FIELDS = ("pains", "goals", "objections")
COMPARE_CHARS = 48  # a comparison cell is a reference to the item printed in full below


@dataclass(frozen=True)
class Row:
    id: str
    label: str
    closed: int
    won: int
    win_rate: float
    ci_low: float
    ci_high: float
    verdict: str


def _row(s, verdict: str) -> Row:
    return Row(getattr(s, "id", None) or s.segment_id, segment_label(getattr(s, "id", None) or s.segment_id),
               s.closed, s.won, s.win_rate, s.ci_low, s.ci_high, verdict)


def segment_rows(analysis: Analysis | None, icp: ICP | None, limit: int = CHART_ROWS) -> tuple[list[Row], float | None]:
    """Rows for the table and chart: the analysis' segments (ICP candidates first), else the
    statistics the ICP cites. Also the baseline win rate, if known."""
    if analysis is not None:
        order = {sid: i for i, sid in enumerate(analysis.icp_candidates + analysis.anti_icp)}
        segs = sorted(analysis.segments, key=lambda s: (order.get(s.id, len(order)), -s.closed))[:limit]
        return [_row(s, s.verdict) for s in segs], analysis.baseline.win_rate
    rows: dict[str, Row] = {}
    if icp is not None:
        cited = [(q, "cited") for q in icp.qualification_signals] + [(d, "anti-ICP") for d in icp.disqualifiers]
        for holder, verdict in cited:
            for e in holder.evidence:
                if isinstance(e, StatEvidence) and e.segment_id not in rows:
                    rows[e.segment_id] = _row(e, verdict)
    return list(rows.values())[:limit], None


def headline(analysis: Analysis | None, icp: ICP | None) -> dict:
    """The first screen's ICP: the winners and the anti-ICP with their figures, and one sentence."""
    if analysis is not None:
        def pick(ids: list[str]) -> list[Row]:
            return [_row(s, s.verdict) for i in ids[:HEADLINE_SEGMENTS] if (s := analysis.segment(i))]

        winners, anti = pick(analysis.icp_candidates), pick(analysis.anti_icp)
        b = analysis.baseline
        base = f"baseline {b.win_rate:.0%} of {b.closed} closed deals ({b.ci_low:.0%}-{b.ci_high:.0%})"
    else:
        rows, _ = segment_rows(None, icp)
        winners = [r for r in rows if r.verdict == "cited"][:HEADLINE_SEGMENTS]
        anti = [r for r in rows if r.verdict == "anti-ICP"][:HEADLINE_SEGMENTS]
        base = ""
    stands_out = bool(winners) and (icp is None or icp.crm_singles_out_segment)
    if stands_out:
        sentence = f"Best fit: {winners[0].label}"
    elif analysis is None and icp is None:
        sentence = "no CRM analysis or ICP draft yet"
    else:
        sentence = "No segment stands out in the CRM data" + ("; interview evidence leads" if icp is not None else "")
    # Green only for a segment that wins; "none stands out" is a finding, not good news.
    return {"sentence": sentence, "tone": "good" if stands_out else "neutral",
            "winners": winners if stands_out else [], "anti": anti, "baseline": base,
            "anti_named": [d.criterion for d in icp.disqualifiers][:HEADLINE_SEGMENTS] if icp and not anti else []}


def interviewee_count(p: Persona) -> int:
    """N of "n of N": the persona's sources, else the distinct sources its quotes come from."""
    return len(p.sources) or len({e.source_id for _, e in evidence_items(p) if isinstance(e, QuoteEvidence)})


def comparison(personas: list[Persona]) -> list[dict]:
    """One row per persona: role, interviewees and its top pain, goal and objection with counts."""
    rows = []
    for p in personas:
        n = interviewee_count(p)
        cells = {}
        for name in COMPARE_FIELDS:
            top = top_item(getattr(p, name))
            cells[name] = None if top is None else {
                "text": cut(top[0].text, min(COMPARE_CHARS, len(top[0].text) - 1)), "count": f"{top[1]} of {n}"}
        rows.append({"name": p.name, "role": p.role, "buying_role": p.buying_role.replace("_", " "),
                     "interviewees": n, "cells": cells})
    return rows


@dataclass
class ClaimView:
    text: str
    full: bool  # False: a reference to words printed in full above
    status: str
    confidence: str
    cites: list[str]
    quotes: list[tuple[str, str]] = field(default_factory=list)  # (quote, citation) printed here


def claim_view(c: Claim, ledger: QuoteLedger) -> ClaimView:
    text, full = ledger.show(c.text)
    quotes = [(q.text, cite(q)) for q in ledger.quotes_to_print(c)]
    shown = {t for t, _ in quotes}
    cites = [cite(e) for e in c.evidence if getattr(e, "text", None) not in shown]
    return ClaimView(text, full, c.status, c.confidence, cites, quotes)


def persona_view(p: Persona, ledger: QuoteLedger) -> dict:
    """Every schema field of the persona (draft/view), claims through the quote ledger."""
    facts, sections, missing = [], [], []
    said = [e.text for _, e in evidence_items(p) if isinstance(e, QuoteEvidence)]
    for f in persona_fields(p):
        if f.kind == "fact":
            value = "none" if f.value is None else str(f.value).replace("_", " ")
            facts.append((f.name, f.label, ledger.mentioning(value, said)))
        elif f.kind == "words":
            facts.append((f.name, f.label, ", ".join(f.value) or "none"))
        elif f.empty:
            missing.append((f.name, f.label.lower()))
        elif f.kind in ("claims", "claim"):
            items = f.value if f.kind == "claims" else [f.value]
            sections.append((f.name, f.label, [claim_view(c, ledger) for c in items]))
        else:  # quotes not printed with an item above
            rest = [(q.text, cite(q)) for q in f.value if not ledger.seen(q.text)]
            for q, _ in rest:
                ledger.show(q)
            sections.append((f.name, f.label, rest))
    return {"name": p.name, "id": p.id, "facts": facts, "sections": sections,
            "missing": missing}


def icp_view(icp: ICP, ledger: QuoteLedger) -> list[tuple[str, list[ClaimView]]]:
    """The ICP's claim sections that hold something, in schema order."""
    out = [(label(n), [claim_view(c, ledger) for c in getattr(icp.firmographics, n)])
           for n in type(icp.firmographics).model_fields]
    out += [(label(n), [claim_view(c, ledger) for c in getattr(icp, n)]) for n in ("challenges", "goals", "traits")]
    out += [(label(n), [claim_view(getattr(icp, n), ledger)]) for n in ("long_term_value", "advocacy_potential")
            if getattr(icp, n).text.strip().lower() != "unknown"]
    return [(title, claims) for title, claims in out if claims]


def nice_max(value: float) -> float:
    """The axis end: the smallest of 1, 2, 2.5 or 5 times a power of ten at or above `value` (max 100%)."""
    if value <= 0:
        return 1.0
    step = 10 ** math.floor(math.log10(value))
    return min(1.0, next(m * step for m in (1, 2, 2.5, 5, 10) if m * step >= value - 1e-12))


def chart(rows: list[Row], baseline: float | None, width: int = 760) -> dict:
    """Geometry of the interval chart (numbers only; the template draws it). The axis runs from 0
    to a round value just above the largest interval end (or the baseline), so 3-16% rates fill it."""
    label_w, pad, row_h = 300, 10, 20
    plot_w = width - label_w - 2 * pad
    top = nice_max(max([r.ci_high for r in rows] + ([baseline] if baseline is not None else [])))

    def x(v: float) -> float:
        return round(label_w + pad + max(0.0, min(1.0, v / top)) * plot_w, 1)

    bars = [{"label": cut(r.label, 50), "y": 20 + i * row_h,
             "x1": x(r.ci_low), "x2": x(r.ci_high), "cx": x(r.win_rate),
             "title": f"{r.label}: {r.win_rate:.0%} [{r.ci_low:.0%}-{r.ci_high:.0%}], {r.won}/{r.closed} won",
             "cls": {"better": "better", "worse": "worse"}.get(r.verdict, "ns")}
            for i, r in enumerate(rows)]
    height = 44 + len(rows) * row_h
    digits = 0 if top >= 0.1 else 1
    ticks = [{"x": x(top * t / 4), "label": f"{top * t / 4:.{digits}%}"} for t in range(5)]
    return {"width": width, "height": height, "bars": bars, "ticks": ticks, "axis_y": height - 16,
            "baseline": x(baseline) if baseline is not None else None, "top": top}


def _inert(value):
    """Jinja2 `finalize`: every printed string loses escape sequences and control characters
    (safe_text.clean) before autoescaping; numbers pass unchanged."""
    from markupsafe import Markup

    from persona_assistant.safe_text import clean

    if isinstance(value, Markup):
        return Markup(clean(str(value)))
    return clean(value) if isinstance(value, str) else value


def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, finalize=_inert)
    env.filters["ref"] = reference
    return env


def render_report(icp: ICP | None, personas: list[Persona], campaign: Campaign | None,
                  analysis: Analysis | None = None, title: str = "Persona playbook") -> str:
    table, baseline = segment_rows(analysis, icp, limit=len(analysis.segments) if analysis else CHART_ROWS)
    rows = table[:CHART_ROWS]  # the chart: the table's first rows, in the same order
    names = {p.id: p.name for p in personas}
    ledger = QuoteLedger()
    persona_views = [persona_view(p, ledger) for p in personas]  # personas print interview words first
    sources = {s for p in personas for s in p.sources}
    env = _environment()
    env.filters["once"] = ledger.once  # journeys and content ideas, rendered after personas and the ICP
    template = env.get_template("report.html.j2")
    return template.render(
        title=title, csp=CSP, icp=icp, analysis=analysis, campaign=campaign, names=names,
        people={p.id: interviewee_count(p) for p in personas},
        head=headline(analysis, icp), compare=comparison(personas), interviewees=len(sources),
        personas=persona_views, icp_sections=icp_view(icp, ledger) if icp else [],
        rows=rows, all_segments=len(analysis.segments) if analysis else len(rows),
        table=table,
        chart=chart(rows, baseline) if rows else None,
        maps=[m for m in campaign.message_maps if m.entries] if campaign else [],
        journeys=[j for j in campaign.journeys if j.steps] if campaign else [])
