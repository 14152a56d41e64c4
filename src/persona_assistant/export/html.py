"""A self-contained HTML report: ICP segment table with a win-rate chart (intervals drawn
as inline SVG, server-side), persona cards with their evidence, journey maps and assets.

Safety: its own Jinja2 environment with autoescape ON (never the prompt sandbox, whose
autoescape is off), so every piece of model, note or CRM text is escaped; no `|safe`
anywhere in the template; every printed string is `safe_text.clean`ed first (no escape
sequences or control characters). The page loads nothing: no external CSS, JS, fonts or images,
and a Content-Security-Policy of `default-src 'none'; style-src 'unsafe-inline';
img-src data:` forbids scripts and requests even if something slipped through.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from persona_assistant.schemas import ICP, Analysis, Campaign, Persona, StatEvidence

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Row:
    id: str
    closed: int
    won: int
    win_rate: float
    ci_low: float
    ci_high: float
    verdict: str


def segment_rows(analysis: Analysis | None, icp: ICP | None, limit: int = 25) -> tuple[list[Row], float | None]:
    """Rows for the table and chart: the analysis' segments (ICP candidates first), else the
    statistics the ICP cites. Also the baseline win rate, if known."""
    if analysis is not None:
        order = {sid: i for i, sid in enumerate(analysis.icp_candidates + analysis.anti_icp)}
        segs = sorted(analysis.segments, key=lambda s: (order.get(s.id, len(order)), -s.closed))[:limit]
        return ([Row(s.id, s.closed, s.won, s.win_rate, s.ci_low, s.ci_high, s.verdict) for s in segs],
                analysis.baseline.win_rate)
    rows: dict[str, Row] = {}
    if icp is not None:
        evidence = [e for q in icp.qualification_signals for e in q.evidence]
        evidence += [e for d in icp.disqualifiers for e in d.evidence]
        for e in evidence:
            if isinstance(e, StatEvidence) and e.segment_id not in rows:
                rows[e.segment_id] = Row(e.segment_id, e.closed, e.won, e.win_rate, e.ci_low, e.ci_high, "cited")
    return list(rows.values())[:limit], None


def chart(rows: list[Row], baseline: float | None, width: int = 640) -> dict:
    """Geometry of the interval chart (numbers only; the template draws it)."""
    label_w, pad, row_h = 220, 10, 22
    plot_w = width - label_w - 2 * pad

    def x(v: float) -> float:
        return round(label_w + pad + max(0.0, min(1.0, v)) * plot_w, 1)

    bars = [{"label": r.id if len(r.id) <= 34 else r.id[:33] + "…", "y": 20 + i * row_h,
             "x1": x(r.ci_low), "x2": x(r.ci_high), "cx": x(r.win_rate),
             "title": f"{r.id}: {r.win_rate:.0%} [{r.ci_low:.0%}-{r.ci_high:.0%}], {r.won}/{r.closed} won",
             "cls": {"better": "better", "worse": "worse"}.get(r.verdict, "ns")}
            for i, r in enumerate(rows)]
    height = 30 + len(rows) * row_h
    ticks = [{"x": x(t / 4), "label": f"{t * 25}%"} for t in range(5)]
    return {"width": width, "height": height, "bars": bars, "ticks": ticks,
            "baseline": x(baseline) if baseline is not None else None}


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

    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, finalize=_inert)


def render_report(icp: ICP | None, personas: list[Persona], campaign: Campaign | None,
                  analysis: Analysis | None = None, title: str = "Persona playbook") -> str:
    rows, baseline = segment_rows(analysis, icp)
    names = {p.id: p.name for p in personas}
    template = _environment().get_template("report.html.j2")
    return template.render(title=title, csp=CSP, icp=icp, personas=personas, campaign=campaign,
                           analysis=analysis, rows=rows, chart=chart(rows, baseline) if rows else None,
                           names=names)
