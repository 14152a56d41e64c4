"""The one Markdown renderer: ICP, personas, campaigns (message maps, journeys, assets) and the
playbook that joins them, for the files saved beside each draft version, `export --format md` and
the chat. Readable, with every citation (file:lines or segment figures) and the status of claims
that are not supported. Untrusted text is escaped (safe_text.md_escape, md_cell) so a viewer never
renders it as HTML; persona fields come from the schema through draft/view."""

from __future__ import annotations

from collections.abc import Iterable

from persona_assistant.draft.view import cite, label, persona_fields
from persona_assistant.safe_text import md_cell, md_escape as esc
from persona_assistant.schemas import (
    ICP, Analysis, Asset, Campaign, Claim, MessageMap, Persona, PersonaSet, segment_text,
)


def _cites(evidence: list) -> str:
    return f" [{'; '.join(esc(cite(e)) for e in evidence)}]" if evidence else ""


def claim_line(c: Claim) -> str:
    status = "" if c.status == "supported" else f" _({c.status})_"
    return f"- {esc(c.text)}{status} (confidence {c.confidence}){_cites(c.evidence)}"


def _section(title: str, claims: list[Claim]) -> list[str]:
    return ["", f"### {title}", *(claim_line(c) for c in claims)] if claims else []


def persona_markdown(p: Persona) -> str:
    """Every field of the persona schema (draft/view), facts first, then claims, words and quotes."""
    fields = persona_fields(p)
    items = {c.text for f in fields if f.kind == "claims" for c in f.value}
    out = [f"## {esc(p.name)} ({esc(p.id)})", ""]
    for f in fields:
        if f.kind == "fact":
            out.append(f"- {f.label.lower()}: {esc(f.value if f.value is not None else 'none')}")
        elif f.kind == "words" and f.name != "vocabulary":
            out.append(f"- {f.label.lower()}: {esc(', '.join(f.value) or 'none')}")
    for f in fields:
        if f.kind == "claims":
            out += _section(f.label, f.value)
        elif f.kind == "claim" and not f.empty:
            out += _section(f.label, [f.value])
        elif f.kind == "words" and f.name == "vocabulary" and f.value:
            out += ["", f"{f.label}: {esc(', '.join(f.value))}"]
        elif f.kind == "quotes" and f.value:  # a quote that is already an item's text is not repeated
            rest = [q for q in f.value if q.text not in items]
            out += ["", f"### {f.label}", *(f"> {esc(q.text)} ({esc(cite(q))})" for q in rest)] if rest else []
    missing = [f.label.lower() for f in fields if f.kind == "claims" and f.empty]
    if missing:
        out += ["", f"_Not in the notes: {', '.join(missing)}._"]
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
        out += _section(label(name), getattr(f, name))
    for name in ("challenges", "goals", "traits"):
        out += _section(label(name), getattr(icp, name))
    out += _section("Long-term value", [icp.long_term_value]) + _section("Advocacy potential", [icp.advocacy_potential])
    if icp.qualification_signals:
        out += ["", "### Qualification signals"]
        out += [f"- {esc(s.criterion)} (weight {s.weight:.2f}, confidence {s.confidence}){_cites(s.evidence)}"
                for s in icp.qualification_signals]
    if icp.disqualifiers:
        out += ["", "### Anti-ICP (disqualifiers)"]
        out += [f"- {esc(d.criterion)}: {esc(d.reason)} (confidence {d.confidence}){_cites(d.evidence)}"
                for d in icp.disqualifiers]
    return "\n".join(out) + "\n"


def asset_markdown(a: Asset, persona_name: str, heading: str = "##") -> str:
    """One asset: its fields, the persona items and map entries it uses, proof, lint findings."""
    out = [f"{heading} {esc(persona_name)}: {esc(a.channel)}, {a.stage}, variant {a.variant} ({a.angle})", ""]
    if a.map_only:
        out += [f"_Message map only: {esc(a.note)}_", ""]
    for name, value in a.fields.items():
        body = [f"- {esc(v)}" for v in value] if isinstance(value, list) else [esc(line) for line in value.splitlines()]
        out += [f"**{esc(name)}**", "", *body, ""]
    if a.addresses:
        out.append("Addresses: " + "; ".join(f"{r.field}[{r.index}] “{esc(r.text)}”" for r in a.addresses))
    if a.map_entries:
        out.append("Message map entries: " + ", ".join(esc(e) for e in a.map_entries))
    if a.proof_points:
        out.append("Proof: " + "; ".join(esc(p) for p in a.proof_points))
    out += [f"- unsupported claim: {esc(c)}" for c in a.unsupported_claims]
    out += [f"- lint {f.severity}: {esc(f.field)}: {esc(f.rule)}: {esc(f.message)}" for f in a.lint]
    return "\n".join(out + [f"_engine: {esc(a.engine)}_", ""])


def message_map_markdown(m: MessageMap, persona_name: str) -> str:
    """A persona's message map: per item the answer, its proof and source; per stage the CTA."""
    out = [f"## Message map: {esc(persona_name)}", "",
           "| Item | Interviewees | Value proposition | Proof point | Proof source |", "|---|---|---|---|---|"]
    out += [f"| {md_cell(e.id)}: {md_cell(e.item.text)} | {e.interviewees} | {md_cell(e.value_proposition)} | "
            f"{md_cell(e.proof_point)} | {md_cell(e.proof_source)} |" for e in m.entries]
    out += ["", *(f"- {s.stage}: leads with {esc(', '.join(s.entries) or 'all entries')}; "
                  f"call to action: {esc(s.call_to_action or 'none')}" for s in m.stages)]
    if m.vocabulary:
        out.append(f"- their words: {esc(', '.join(m.vocabulary))}")
    return "\n".join(out + [""])


def campaign_markdown(campaign: Campaign, personas: Iterable[Persona] = ()) -> str:
    names = {p.id: p.name for p in personas}
    out = [f"# Campaign {esc(campaign.id)}", "",
           f"Channels: {esc(', '.join(campaign.channels))}; stages: {esc(', '.join(campaign.stages))}; "
           f"variants: {campaign.variants}", ""]
    out += [message_map_markdown(m, names.get(m.persona_id, m.persona_id)) for m in campaign.message_maps]
    for j in campaign.journeys:
        out += [f"## Journey: {esc(names.get(j.persona_id, j.persona_id))}", "",
                "| Stage | Their question | Content | Message | Channel |", "|---|---|---|---|---|"]
        out += [f"| {s.stage} | {md_cell(s.question)} | {md_cell(s.content)} | {md_cell(s.message)} | "
                f"{md_cell(s.channel)} |" for s in j.steps]
        out.append("")
    if campaign.content_ideas:
        out += ["## Content ideas", ""] + [f"- **{esc(i.format)}**: {esc(i.topic)} (angle: {esc(i.angle)})"
                                            for i in campaign.content_ideas] + [""]
    out += [asset_markdown(a, names.get(a.persona_id, a.persona_id)) for a in campaign.assets]
    return "\n".join(out)


def playbook_markdown(icp: ICP | None, personas: list[Persona], campaign: Campaign | None,
                      analysis: Analysis | None = None) -> str:
    """The whole playbook as one Markdown document."""
    out = ["# Persona playbook", ""]
    out.append(icp_markdown(icp, analysis) if icp else "## ICP\n\nNo ICP draft yet (`persona-assistant draft icp`).\n")
    out += ["# Personas", ""] + [persona_markdown(p) for p in personas]
    if not personas:
        out.append("No personas yet (`persona-assistant draft personas`).\n")
    out.append(campaign_markdown(campaign, personas) if campaign is not None
               else "# Campaign\n\nNo campaign yet (`persona-assistant campaign`).\n")
    return "\n".join(out)
