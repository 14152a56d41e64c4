"""CSV of a campaign for outreach tools: its assets (one row per asset, one column per field) and,
beside them, its message maps (one row per map entry: the persona item, the value proposition
answering it, the proof point and its source, the stages that lead with it and their calls to action).

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


MAP_HEADER = ["persona_id", "persona_name", "entry", "field", "item", "interviewees", "value_proposition",
              "match", "proof_point", "proof_source", "stages", "calls_to_action", "vocabulary"]


def message_map_table(campaign: Campaign, personas: list[Persona]) -> tuple[list[str], list[list[str]]]:
    names = {p.id: p.name for p in personas}
    rows = []
    for m in campaign.message_maps:
        for e in m.entries:
            stages = [s for s in m.stages if e.id in s.entries]
            rows.append([m.persona_id, names.get(m.persona_id, ""), e.id, e.item.field, e.item.text,
                         str(e.interviewees), e.value_proposition, f"{e.match:.3f}", e.proof_point, e.proof_source,
                         " | ".join(s.stage for s in stages),
                         " | ".join(f"{s.stage}: {s.call_to_action}" for s in stages if s.call_to_action),
                         " | ".join(m.vocabulary)])
    return MAP_HEADER, rows


def message_maps_path(assets_path: Path) -> Path:
    """Where the message maps go beside an assets CSV: `assets.csv` -> `assets-message-maps.csv`."""
    return assets_path.with_name(f"{assets_path.stem}-message-maps{assets_path.suffix or '.csv'}")


def write_assets_csv(path: Path, campaign: Campaign, personas: list[Persona], *, within: Path | None = None) -> Path:
    header, rows = asset_table(campaign, personas)
    return write_csv(path, header, rows, within=within)


def write_campaign_csv(path: Path, campaign: Campaign, personas: list[Persona], *,
                       within: Path | None = None) -> list[Path]:
    """The assets CSV at `path` and the message maps beside it (`message_maps_path`)."""
    header, rows = message_map_table(campaign, personas)
    return [write_assets_csv(path, campaign, personas, within=within),
            write_csv(message_maps_path(path), header, rows, within=within)]
