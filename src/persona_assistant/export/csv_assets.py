"""CSV of campaign assets for outreach tools: one row per asset, one column per field.

Cells go through export/csv_safe (formula injection neutralised, phone numbers kept);
list fields are joined with " | " so a sequencer imports them as one cell.
"""

from __future__ import annotations

from pathlib import Path

from persona_assistant.export.csv_safe import write_csv
from persona_assistant.schemas import Campaign, Persona

BASE = ["asset_id", "persona_id", "persona_name", "channel", "stage", "variant", "angle"]
TAIL = ["addresses", "proof_points", "unsupported_claims", "lint_errors", "engine"]


def asset_table(campaign: Campaign, personas: list[Persona]) -> tuple[list[str], list[list[str]]]:
    names = {p.id: p.name for p in personas}
    fields: list[str] = []
    for a in campaign.assets:
        for name in a.fields:
            if name not in fields:
                fields.append(name)
    rows = []
    for a in campaign.assets:
        row = [a.id, a.persona_id, names.get(a.persona_id, ""), a.channel, a.stage, str(a.variant), a.angle]
        for name in fields:
            v = a.fields.get(name, "")
            row.append(" | ".join(v) if isinstance(v, list) else v)
        row += ["; ".join(f"{r.field}[{r.index}]" for r in a.addresses), " | ".join(a.proof_points),
                " | ".join(a.unsupported_claims),
                " | ".join(f"{f.field}: {f.message}" for f in a.lint if f.severity == "error"), a.engine]
        rows.append(row)
    return BASE + fields + TAIL, rows


def write_assets_csv(path: Path, campaign: Campaign, personas: list[Persona], *, within: Path | None = None) -> Path:
    header, rows = asset_table(campaign, personas)
    return write_csv(path, header, rows, within=within)
