"""The Markdown saved beside each draft version: readable, with every citation (file:lines or
segment figures) and the status of claims that are not supported. Untrusted text is escaped
(safe_text.md_escape); the one renderer for drafts, exports and chat so a viewer never renders it as HTML."""

from __future__ import annotations

from persona_assistant.safe_text import md_cell, md_escape as esc
from persona_assistant.schemas import (
    ICP, PERSONA_ITEM_FIELDS, Analysis, Claim, Persona, PersonaSet, QuoteEvidence, segment_text,
)


def cite(ev) -> str:
    if isinstance(ev, QuoteEvidence):
        lines = f"{ev.line_start}" + (f"-{ev.line_end}" if ev.line_end != ev.line_start else "")
        return f"{ev.path}:{lines}"
    deals = f"; deals {', '.join(ev.deal_ids)}" if ev.deal_ids else ""
    return (f"{ev.segment_id}: {ev.won}/{ev.closed} won, {ev.win_rate:.0%} "
            f"[{ev.ci_low:.0%}-{ev.ci_high:.0%}]{deals}")


def claim_line(c: Claim) -> str:
    status = "" if c.status == "supported" else f" _({c.status})_"
    cites = f" [{'; '.join(esc(cite(e)) for e in c.evidence)}]" if c.evidence else ""
    return f"- {esc(c.text)}{status} (confidence {c.confidence}){cites}"


def _section(title: str, claims: list[Claim]) -> list[str]:
    return ["", f"### {title}", *(claim_line(c) for c in claims)] if claims else []


def persona_markdown(p: Persona) -> str:
    out = [f"## {esc(p.name)} ({esc(p.id)})", "", f"_{esc(p.archetype)}_", "",
           f"- role: {esc(p.role)} ({p.seniority}, {esc(p.function)})", f"- buying role: {p.buying_role}",
           f"- ICP: {esc(p.icp_id or 'none')}", f"- sources: {esc(', '.join(p.sources) or 'none')}"]
    for name in ("demographics", *PERSONA_ITEM_FIELDS):
        out += _section(name.replace("_", " ").capitalize(), getattr(p, name))
    if p.day_in_life.text != "unknown":
        out += _section("Day in the life", [p.day_in_life])
    if p.vocabulary:
        out += ["", f"Vocabulary: {esc(', '.join(p.vocabulary))}"]
    if p.quotes:
        out += ["", "### Quotes", *(f"> {esc(q.text)} ({esc(cite(q))})" for q in p.quotes)]
    return "\n".join(out) + "\n"


def persona_set_markdown(pset: PersonaSet) -> str:
    out = ["# Personas", ""]
    out += [persona_markdown(p) for p in pset.personas] or ["No personas: the notes name no interviewee.", ""]
    if pset.notes:
        out += ["## Drafting notes", "", *(f"- {esc(n)}" for n in pset.notes), ""]
    return "\n".join(out)


def icp_markdown(icp: ICP, analysis: Analysis | None = None) -> str:
    ds = icp.data_sufficiency
    out = [f"# ICP: {esc(icp.name)} ({esc(icp.id)})", "", esc(icp.summary), "",
           f"- CRM singles out a segment: {'yes' if icp.crm_singles_out_segment else 'no (interview evidence leads)'}",
           f"- data: {ds.verdict} ({ds.won} won, {ds.lost} lost){' - ' + esc(ds.note) if ds.note else ''}"]
    if analysis is not None:
        out.append(f"- baseline win rate {analysis.baseline.win_rate:.0%} on {analysis.baseline.closed} closed deals")
        out += [f"- outcome leak, excluded: {esc(leak)}" for leak in analysis.leaks]
        out += [f"- data quality: {esc(finding)}" for finding in analysis.findings]
        if analysis.segments:
            out += ["", "| Segment | Closed | Won | Win rate | 95% interval | Verdict |", "|---|---|---|---|---|---|"]
            out += [f"| {md_cell(segment_text(s.dimensions))} | {s.closed} | {s.won} | {s.win_rate:.0%} | "
                    f"{s.ci_low:.0%}-{s.ci_high:.0%} | {s.verdict} |" for s in analysis.segments]
    f = icp.firmographics
    for name in type(f).model_fields:
        out += _section(name.replace("_", " ").capitalize(), getattr(f, name))
    for name in ("challenges", "goals", "traits"):
        out += _section(name.capitalize(), getattr(icp, name))
    out += _section("Long-term value", [icp.long_term_value]) + _section("Advocacy potential", [icp.advocacy_potential])
    if icp.qualification_signals:
        out += ["", "### Qualification signals"]
        out += [f"- {esc(s.criterion)} (weight {s.weight:.2f}, confidence {s.confidence})"
                + (f" [{'; '.join(esc(cite(e)) for e in s.evidence)}]" if s.evidence else "")
                for s in icp.qualification_signals]
    if icp.disqualifiers:
        out += ["", "### Anti-ICP (disqualifiers)"]
        out += [f"- {esc(d.criterion)}: {esc(d.reason)} (confidence {d.confidence})"
                + (f" [{'; '.join(esc(cite(e)) for e in d.evidence)}]" if d.evidence else "")
                for d in icp.disqualifiers]
    return "\n".join(out) + "\n"
