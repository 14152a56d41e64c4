"""Hard gates: anti-ICP disqualifiers that make a lead "no fit" whatever its score.

From the drafted ICP's disqualifiers when there is one, else from the analysis' anti-ICP segments
(services/scoring.py decides which).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from persona_assistant.schemas import StatEvidence, segment_conditions, segment_id


@dataclass(frozen=True)
class Gate:
    """An anti-ICP disqualifier: a row matching every condition is 'no fit', whatever its score."""

    conditions: dict[str, str]
    reason: str
    source: str  # "icp" | "analysis"
    evidence: list[dict] = field(default_factory=list)

    @property
    def id(self) -> str:
        return segment_id(dict(sorted(self.conditions.items())))

    def matches(self, values: dict[str, str | None]) -> bool:
        return all(values.get(d) is not None and str(values[d]).casefold() == v.casefold()
                   for d, v in self.conditions.items())


def gates_from_icp(icp: Any) -> list[Gate]:
    """Hard gates from an ICP's disqualifiers (dimension/value, else the segment they cite)."""
    gates = []
    for d in icp.disqualifiers:
        conditions = {d.dimension: d.value} if d.dimension and d.value else {}
        if not conditions:
            for ev in d.evidence:
                if getattr(ev, "kind", "") == "statistic":
                    conditions = segment_conditions(ev.segment_id)
                    break
        if conditions:
            gates.append(Gate(conditions, d.reason or d.criterion, "icp",
                              [ev.model_dump(mode="json") for ev in d.evidence]))
    return gates


def gates_from_analysis(analysis: Any) -> list[Gate]:
    """Hard gates from the analysis' anti-ICP (segments significantly worse than baseline)."""
    gates = []
    for seg_id in analysis.anti_icp:
        seg = analysis.segment(seg_id)
        if seg is None:
            continue
        lo, hi = seg.ci_low, seg.ci_high
        reason = (f"anti-ICP segment {seg_id}: win rate {seg.win_rate:.0%} (95% CI {lo:.0%}-{hi:.0%}) over "
                  f"{seg.closed} closed deals vs baseline {analysis.baseline.win_rate:.0%}")
        ev = StatEvidence(segment_id=seg_id, closed=seg.closed, won=seg.won, win_rate=seg.win_rate,
                          ci_low=lo, ci_high=hi, deal_ids=seg.deal_ids)
        gates.append(Gate(dict(seg.dimensions), reason, "analysis", [ev.model_dump(mode="json")]))
    return gates
