"""Markdown playbook: ICP, personas with their evidence (rendered by draft.markdown), journey maps, assets.

Untrusted text (notes, CRM cells, model output) is escaped so a Markdown viewer shows
it and never renders it as HTML: `<`, `>` and `&` become entities, table cells lose
their pipes and newlines.
"""

from __future__ import annotations

from collections.abc import Iterable

from persona_assistant.draft.markdown import icp_markdown, persona_markdown
from persona_assistant.safe_text import md_cell as cell
from persona_assistant.safe_text import md_escape as esc
from persona_assistant.schemas import ICP, Analysis, Campaign, Persona


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
