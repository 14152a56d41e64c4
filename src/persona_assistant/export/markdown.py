"""Markdown playbook: ICP, personas with their evidence, journey maps, assets.

Untrusted text (notes, CRM cells, model output) is escaped so a Markdown viewer shows
it and never renders it as HTML: `<`, `>` and `&` become entities, table cells lose
their pipes and newlines.
"""

from __future__ import annotations

from collections.abc import Iterable

from persona_assistant.schemas import ICP, Analysis, Campaign, Claim, Persona


def esc(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cell(text: object) -> str:
    return esc(text).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _cite(claim: Claim) -> str:
    cites = []
    for e in claim.evidence:
        if e.kind == "quote":
            cites.append(f"{e.path}:{e.line_start}")
        else:
            cites.append(f"{e.segment_id}: {e.won}/{e.closed} won, {e.win_rate:.0%} "
                         f"[{e.ci_low:.0%}-{e.ci_high:.0%}]")
    return f" ({'; '.join(esc(c) for c in cites)})" if cites else f" ({claim.status})"


def _claims(title: str, claims: Iterable[Claim]) -> list[str]:
    claims = list(claims)
    if not claims:
        return []
    return [f"**{title}**", ""] + [f"- {esc(c.text)}{_cite(c)}" for c in claims] + [""]


def icp_markdown(icp: ICP, analysis: Analysis | None = None) -> str:
    out = [f"## ICP: {esc(icp.name)}", "", esc(icp.summary), ""]
    if not icp.crm_singles_out_segment:
        out += ["_The CRM data singles out no segment; interview evidence leads._", ""]
    out += [f"Data: {esc(icp.data_sufficiency.verdict)} ({icp.data_sufficiency.won} won, "
            f"{icp.data_sufficiency.lost} lost)", ""]
    if analysis is not None and analysis.segments:
        out += ["| Segment | Closed | Won | Win rate | 95% interval | Verdict |", "|---|---|---|---|---|---|"]
        for s in analysis.segments:
            out.append(f"| {cell(s.id)} | {s.closed} | {s.won} | {s.win_rate:.0%} | "
                       f"{s.ci_low:.0%}-{s.ci_high:.0%} | {cell(s.verdict)} |")
        out.append("")
    out += _claims("Challenges", icp.challenges) + _claims("Goals", icp.goals) + _claims("Traits", icp.traits)
    if icp.qualification_signals:
        out += ["**Qualification signals**", ""] + [f"- {esc(q.criterion)} (weight {q.weight:.2f})"
                                                     for q in icp.qualification_signals] + [""]
    if icp.disqualifiers:
        out += ["**Anti-ICP**", ""] + [f"- {esc(d.criterion)}: {esc(d.reason)}" for d in icp.disqualifiers] + [""]
    return "\n".join(out)


def persona_markdown(p: Persona) -> str:
    out = [f"## {esc(p.name)} ({esc(p.id)})", "", f"_{esc(p.archetype)}_", "",
           f"Role: {esc(p.role)}; seniority {esc(p.seniority)}; buying role {esc(p.buying_role)}", ""]
    for field in ("goals", "pains", "objections", "triggers", "decision_criteria", "channels", "success_metrics"):
        out += _claims(field.replace("_", " ").capitalize(), getattr(p, field))
    if p.quotes:
        out += ["**Quotes**", ""] + [f"> {esc(q.text)} ({esc(q.path)}:{q.line_start})" for q in p.quotes] + [""]
    return "\n".join(out)


def campaign_markdown(campaign: Campaign, personas: Iterable[Persona] = ()) -> str:
    names = {p.id: p.name for p in personas}
    out = [f"# Campaign {esc(campaign.id)}", "",
           f"Channels: {esc(', '.join(campaign.channels))}; stages: {esc(', '.join(campaign.stages))}; "
           f"variants: {campaign.variants}", ""]
    for j in campaign.journeys:
        out += [f"## Journey: {esc(names.get(j.persona_id, j.persona_id))}", "",
                "| Stage | Their question | Content | Message | Channel |", "|---|---|---|---|---|"]
        out += [f"| {s.stage} | {cell(s.question)} | {cell(s.content)} | {cell(s.message)} | {cell(s.channel)} |"
                for s in j.steps]
        out.append("")
    if campaign.content_ideas:
        out += ["## Content ideas", ""] + [f"- **{esc(i.format)}**: {esc(i.topic)} (angle: {esc(i.angle)})"
                                            for i in campaign.content_ideas] + [""]
    for a in campaign.assets:
        out += [f"## {esc(names.get(a.persona_id, a.persona_id))}: {esc(a.channel)}, {a.stage}, "
                f"variant {a.variant} ({a.angle})", ""]
        for name, value in a.fields.items():
            if isinstance(value, list):
                out += [f"**{esc(name)}**", ""] + [f"- {esc(v)}" for v in value] + [""]
            else:
                out += [f"**{esc(name)}**", ""] + [esc(line) for line in value.splitlines()] + [""]
        if a.addresses:
            out.append("Addresses: " + "; ".join(f"{r.field}[{r.index}] “{esc(r.text)}”" for r in a.addresses))
        if a.proof_points:
            out.append("Proof: " + "; ".join(esc(p) for p in a.proof_points))
        for f in a.lint:
            out.append(f"- lint {f.severity}: {esc(f.field)}: {esc(f.rule)}: {esc(f.message)}")
        out += [f"_engine: {esc(a.engine)}_", ""]
    return "\n".join(out)


def playbook_markdown(icp: ICP | None, personas: list[Persona], campaign: Campaign | None,
                      analysis: Analysis | None = None) -> str:
    """The whole playbook as one Markdown document."""
    out = ["# Persona playbook", ""]
    out.append(icp_markdown(icp, analysis) if icp else "## ICP\n\nNo ICP draft yet (`persona-assistant draft icp`).\n")
    out += ["# Personas", ""] + [persona_markdown(p) for p in personas]
    if not personas:
        out.append("No personas yet (`persona-assistant draft personas`).\n")
    if campaign is not None:
        out.append(campaign_markdown(campaign, personas).replace("# Campaign", "# Campaign", 1))
    else:
        out.append("# Campaign\n\nNo campaign yet (`persona-assistant campaign`).\n")
    return "\n".join(out)
