"""The CRM analysis: segment statistics, the one way a segment is named (`segment_id`) and read back,
data sufficiency, the columns left out."""

from __future__ import annotations

from pydantic import Field

from persona_assistant.schemas.base import Contract, SegmentVerdict, SufficiencyVerdict
from persona_assistant.schemas.ingest import IngestReport


class SegmentStats(Contract):
    closed: int
    won: int
    lost: int
    win_rate: float
    ci_low: float
    ci_high: float
    median_won_value: float | None = None
    total_won_value: float = 0.0
    median_cycle_days: float | None = None


def segment_id(dimensions: dict[str, str]) -> str:
    """"industry=Software&employee_band=51-200": the one way a segment is named.

    `%`, `&` and `=` inside a dimension or value are %-escaped, so a value such as "R&D" can be read
    back by `segment_conditions`; ids of ordinary values read exactly as written.
    """
    def esc(text: str) -> str:
        return str(text).replace("%", "%25").replace("&", "%26").replace("=", "%3D")

    return "&".join(f"{esc(k)}={esc(v)}" for k, v in dimensions.items())


def segment_text(dimensions: dict[str, str]) -> str:
    """A segment for people to read: values as written ("industry=Tires & Wheels, region=West")."""
    return ", ".join(f"{k}={v}" for k, v in dimensions.items())


def segment_conditions(segment: str) -> dict[str, str]:
    """{dimension: value} of a segment id (the inverse of `segment_id`)."""
    def unesc(text: str) -> str:
        return text.replace("%3D", "=").replace("%26", "&").replace("%25", "%")

    pairs = (part.split("=", 1) for part in segment.split("&") if "=" in part)
    return {unesc(k): unesc(v) for k, v in pairs}


class Segment(SegmentStats):
    id: str  # segment_id(dimensions): "industry=Software" or "industry=Software&employee_band=51-200"
    dimensions: dict[str, str]
    lift: float | None = None
    share_won_revenue: float = 0.0
    p_value: float | None = None
    q_value: float | None = None  # Benjamini-Hochberg adjusted p over the tested segments
    verdict: SegmentVerdict = "not significant"
    expected_value: float | None = None
    deal_ids: list[str] = Field(default_factory=list)


class DataSufficiency(Contract):
    won: int
    lost: int
    verdict: SufficiencyVerdict
    note: str = ""


class ExcludedColumn(Contract):
    """A column that is not a dimension, and why (an id, a date, free text, an outcome leak ...)."""

    column: str
    reason: str


class Analysis(Contract):
    baseline: SegmentStats
    dimensions: list[str]
    min_support: int
    correction: str  # which multiple-testing correction, in words
    segments: list[Segment]
    icp_candidates: list[str] = Field(default_factory=list)  # segment ids, best first
    anti_icp: list[str] = Field(default_factory=list)
    sufficiency: DataSufficiency
    verdict: str  # plain-language conclusion
    ingest: IngestReport | None = None
    tests: int = 0  # segments tested (the multiple-testing family)
    excluded: list[ExcludedColumn] = Field(default_factory=list)
    leaks: list[str] = Field(default_factory=list)  # outcome leaks, with the figures that flagged them
    findings: list[str] = Field(default_factory=list)  # data quality: blanks that predict the outcome
    column_notices: list[str] = Field(default_factory=list)  # codes, bands, placeholders, leaks let in

    def segment(self, segment_id: str) -> Segment | None:
        return next((s for s in self.segments if s.id == segment_id), None)
