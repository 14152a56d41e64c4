"""Readable terminal output for `analyze`: what was read and mapped, the segment table, the verdict.

Every CRM-derived string (file names, column names, segment values, notices) goes
through safe_text.as_rich_text, never into a markup string, so a cell holding
"[red]" or an escape sequence prints as the characters it is.
"""

from __future__ import annotations

from typing import Iterable

from persona_assistant.safe_text import as_rich_text
from persona_assistant.schemas import Analysis, IngestReport, Segment, segment_text

MAX_ROWS = 30  # segment table rows before the rest are summarised (all of them are in --json)

_VERDICT_STYLE = {"better": "green", "worse": "red", "not significant": "", "insufficient support": "dim"}


def _pct(x: float) -> str:
    return f"{x:.1%}"


P_FLOOR = 1e-16  # below this a double's p-value is rounding noise (it prints as 0)


def format_p(p: float | None) -> str:
    """A p- or q-value for people: two significant digits; "< 1e-16" below the float floor, never "0"."""
    if p is None:
        return "-"
    return f"< {P_FLOOR:.0e}" if p < P_FLOOR else f"{p:.2g}"


def _heading(text: str):
    return as_rich_text(text, style="bold")


def _table(*headers: str, justify_right: Iterable[int] = ()):
    """A plain table; the first (text) column gets the room, figures never wrap."""
    from rich.table import Table

    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    right = set(justify_right)
    for i, name in enumerate(headers):
        if i == 0:
            table.add_column(name, overflow="fold", ratio=1, min_width=20)
        else:
            table.add_column(name, justify="right" if i in right else "left", no_wrap=True)
    return table


def ingest_renderables(report: IngestReport) -> list:
    """Files read, the column mapping and where it came from, and every data notice."""
    from rich.text import Text

    out: list = [_heading("Files read")]
    files = _table("file", "kind", "encoding", "rows", "columns", justify_right=(3, 4))
    for f in report.files:
        files.add_row(as_rich_text(f.path), as_rich_text(f.kind), as_rich_text(f.encoding),
                      str(f.rows), str(f.columns))
    out.append(files)
    for f in report.files:
        for note in f.notices:
            out.append(Text("  ").append_text(as_rich_text(f"{f.path}: {note}", style="yellow")))

    out.append(_heading("Column mapping"))
    if report.mapping:
        mapping = _table("field", "column", "from")
        for field, column in sorted(report.mapping.items()):
            mapping.add_row(as_rich_text(field), as_rich_text(column),
                            as_rich_text(report.mapping_source.get(field, "inferred")))
        out.append(mapping)
    else:
        out.append(as_rich_text("  (no columns mapped)"))
    if report.unmapped_columns:
        out.append(as_rich_text("  unmapped columns: " + ", ".join(report.unmapped_columns), style="dim"))
    if report.unmapped_stages:
        stages = ", ".join(f"{k} ({v})" for k, v in sorted(report.unmapped_stages.items()))
        out.append(as_rich_text(f"  stages not recognised as won/lost/open: {stages}", style="yellow"))
    for u in report.unmatched:
        examples = f"; e.g. {', '.join(u.examples)}" if u.examples else ""
        out.append(as_rich_text(f"  unmatched {u.join}: {u.count} rows, {u.distinct} distinct keys{examples}",
                                style="yellow"))
    for note in report.value_notices:
        out.append(as_rich_text(f"  {note}", style="yellow"))
    return out


def column_renderables(analysis: Analysis) -> list:
    """Outcome leaks (with their figures), data-quality findings, column notices, and every excluded column."""
    out: list = []
    if analysis.leaks:
        out.append(_heading("Outcome leaks (excluded from the ICP, the anti-ICP and scoring)"))
        out += [as_rich_text(f"  {leak}", style="yellow") for leak in analysis.leaks]
        out.append(as_rich_text("  let one in with [analysis] allow = [\"column\"] in persona-assistant.toml",
                                style="dim"))
    if analysis.findings:
        out.append(_heading("Data quality"))
        out += [as_rich_text(f"  {finding}", style="yellow") for finding in analysis.findings]
    others = [e for e in analysis.excluded if e.reason != "an outcome leak"]
    if analysis.column_notices or others:
        out.append(_heading("Columns"))
    out += [as_rich_text(f"  {note}", style="dim") for note in analysis.column_notices]
    if others:
        out.append(as_rich_text("  not dimensions: " + "; ".join(f"{e.column}: {e.reason}" for e in others),
                                style="dim"))
    return out


def _ordered(analysis: Analysis) -> list[Segment]:
    """ICP candidates in rank order, then anti-ICP, then the rest by support."""
    rank = {sid: i for i, sid in enumerate(analysis.icp_candidates)}
    anti = {sid: i for i, sid in enumerate(analysis.anti_icp)}
    group = {"better": 0, "worse": 1, "not significant": 2, "insufficient support": 3}

    def key(s: Segment):
        return (group[s.verdict], rank.get(s.id, 0), anti.get(s.id, 0), -s.closed, s.id)

    return sorted(analysis.segments, key=key)


def segment_table(analysis: Analysis, *, max_rows: int = MAX_ROWS):
    table = _table("segment", "closed", "won", "win rate", "95% CI", "lift", "p", "q (BH)", "verdict",
                   justify_right=(1, 2, 3, 4, 5, 6, 7))
    ordered = _ordered(analysis)
    for s in ordered[:max_rows]:
        table.add_row(
            as_rich_text(segment_text(s.dimensions)), str(s.closed), str(s.won), _pct(s.win_rate),
            f"{s.ci_low * 100:.1f}-{_pct(s.ci_high)}",
            "-" if s.lift is None else f"{s.lift:.2f}x",
            format_p(s.p_value), format_p(s.q_value),
            as_rich_text(s.verdict, style=_VERDICT_STYLE[s.verdict]),
        )
    return table, max(0, len(ordered) - max_rows)


def analysis_renderables(analysis: Analysis) -> list:
    """Baseline, segment table, ICP and anti-ICP candidates, sufficiency and the verdict."""
    b = analysis.baseline
    out: list = [_heading("Baseline (closed deals)")]
    extra = []
    if b.median_won_value is not None:
        extra.append(f"median won value {b.median_won_value:,.0f}")
    if b.median_cycle_days is not None:
        extra.append(f"median won cycle {b.median_cycle_days:g} days")
    out.append(as_rich_text(
        f"  {b.closed} closed: {b.won} won, {b.lost} lost; win rate {_pct(b.win_rate)} "
        f"(95% CI {_pct(b.ci_low)}-{_pct(b.ci_high)})" + ("; " + ", ".join(extra) if extra else "")))
    out.append(as_rich_text("  dimensions: " + (", ".join(analysis.dimensions) or "none"), style="dim"))
    out += column_renderables(analysis)

    out.append(_heading(f"Segments (min support {analysis.min_support} closed deals)"))
    if analysis.segments:
        table, hidden = segment_table(analysis)
        out.append(table)
        if hidden:
            out.append(as_rich_text(f"  ... {hidden} more segments (all of them are in --json)", style="dim"))
    else:
        out.append(as_rich_text("  (no segments: no dimension has values on closed deals)"))
    out.append(as_rich_text(f"  correction: {analysis.correction}", style="dim"))

    for title, ids in (("ICP candidates (best first)", analysis.icp_candidates),
                       ("Anti-ICP (significantly worse)", analysis.anti_icp)):
        out.append(_heading(title))
        if not ids:
            out.append(as_rich_text("  none"))
        for sid in ids:
            s = analysis.segment(sid)
            ev = "" if s.expected_value is None else f", expected value {s.expected_value:,.2f}"
            out.append(as_rich_text(
                f"  {segment_text(s.dimensions)}: {_pct(s.win_rate)} of {s.closed} closed (95% CI {_pct(s.ci_low)}-{_pct(s.ci_high)}), "
                f"lift {s.lift:.2f}x, {_pct(s.share_won_revenue)} of won revenue{ev}; "
                f"deals {', '.join(s.deal_ids[:3])}"))

    out.append(_heading("Data sufficiency"))
    out.append(as_rich_text(f"  {analysis.sufficiency.verdict}: {analysis.sufficiency.note}"))
    out.append(_heading("Verdict"))
    out.append(as_rich_text(f"  {analysis.verdict}"))
    return out


def print_analysis(analysis: Analysis, console=None) -> None:
    """Print the whole human-readable report (ingestion first, when known)."""
    from rich.console import Console

    if console is None:
        console = Console(highlight=False)
        if not console.is_terminal:  # piped or redirected: do not squeeze segment ids into 80 columns
            console = Console(highlight=False, width=max(console.width, 140))
    parts = (ingest_renderables(analysis.ingest) if analysis.ingest else []) + analysis_renderables(analysis)
    for part in parts:
        console.print(part)
