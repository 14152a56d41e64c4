"""The contracts every stage fills and validates.

One module so that ingestion, analysis, drafting (LLM or offline), messaging,
scoring, export and chat agree on a single shape. Every model forbids unknown
fields: a model answer with an invented key fails validation instead of being
silently dropped.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Confidence = Literal["high", "medium", "low", "unknown"]
# How a claim stands: backed by surviving evidence, reasoned from other claims,
# or not known. Only "supported" claims may be shown as fact.
ClaimStatus = Literal["supported", "inferred", "unknown"]
BuyingRole = Literal[
    "decision_maker", "champion", "influencer", "user", "financial_buyer", "blocker", "unknown"
]
Seniority = Literal["c_level", "vp", "director", "manager", "individual_contributor", "unknown"]
Outcome = Literal["won", "lost", "open"]
SegmentVerdict = Literal["better", "worse", "not significant", "insufficient support"]
SufficiencyVerdict = Literal["sufficient", "directional only", "insufficient"]
Stage = Literal["awareness", "consideration", "decision"]
Angle = Literal["pain", "proof", "insight"]


def first_error(exc: ValidationError) -> str:
    """The first validation error as one line, 'field.path: message', for one-line CLI errors."""
    first = exc.errors()[0]
    return f"{'.'.join(str(x) for x in first['loc']) or 'value'}: {first['msg']}"


class Contract(BaseModel):
    """Base of every contract: unknown fields are an error, not a silent drop."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


# --------------------------------------------------------------------------- evidence


class QuoteEvidence(Contract):
    """A verbatim quote from a line-addressable source; checked by code."""

    kind: Literal["quote"] = "quote"
    source_id: str
    path: str
    line_start: int = Field(ge=1)
    line_end: int = Field(ge=1)
    text: str = Field(min_length=1)

    @model_validator(mode="after")
    def _lines_ordered(self) -> "QuoteEvidence":
        if self.line_end < self.line_start:
            raise ValueError("line_end must not be before line_start")
        return self


class StatEvidence(Contract):
    """A figure from the CRM analysis; numbers are checked against the analysis."""

    kind: Literal["statistic"] = "statistic"
    segment_id: str
    closed: int = Field(ge=0)
    won: int = Field(ge=0)
    win_rate: float = Field(ge=0, le=1)
    ci_low: float = Field(ge=0, le=1)
    ci_high: float = Field(ge=0, le=1)
    deal_ids: list[str] = Field(default_factory=list)


Evidence = Annotated[Union[QuoteEvidence, StatEvidence], Field(discriminator="kind")]


class Claim(Contract):
    """One statement in an ICP or persona, with what stands behind it."""

    text: str
    evidence: list[Evidence] = Field(default_factory=list)
    confidence: Confidence = "unknown"
    status: ClaimStatus = "unknown"

    @model_validator(mode="after")
    def _no_fact_without_evidence(self) -> "Claim":
        if self.status == "supported" and not self.evidence:
            raise ValueError("a claim marked 'supported' needs at least one piece of evidence")
        return self


# --------------------------------------------------------------------------- ingestion report


class FileReport(Contract):
    path: str
    kind: str = "unknown"  # deals | accounts | products | teams | leads | unknown
    encoding: str = "utf-8"
    delimiter: str = ","
    rows: int = 0
    columns: int = 0
    notices: list[str] = Field(default_factory=list)


class UnmatchedKeys(Contract):
    """Join keys that found no partner (reported, never dropped silently)."""

    join: str  # e.g. "deals.account -> accounts.account"
    count: int
    distinct: int
    examples: list[str] = Field(default_factory=list)


class IngestReport(Contract):
    files: list[FileReport] = Field(default_factory=list)
    mapping: dict[str, str] = Field(default_factory=dict)  # canonical field -> "file:column"
    mapping_source: dict[str, str] = Field(default_factory=dict)  # canonical -> inferred|mapping file
    unmapped_columns: list[str] = Field(default_factory=list)
    unmapped_stages: dict[str, int] = Field(default_factory=dict)
    unmatched: list[UnmatchedKeys] = Field(default_factory=list)
    value_notices: list[str] = Field(default_factory=list)  # blanks, unparseable money/dates, near-duplicate values


# --------------------------------------------------------------------------- analysis


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


# --------------------------------------------------------------------------- ICP


class Firmographics(Contract):
    industries: list[Claim] = Field(default_factory=list)
    employee_bands: list[Claim] = Field(default_factory=list)
    revenue_bands: list[Claim] = Field(default_factory=list)
    regions: list[Claim] = Field(default_factory=list)
    technographics: list[Claim] = Field(default_factory=list)
    other: list[Claim] = Field(default_factory=list)


class QualificationSignal(Contract):
    criterion: str
    dimension: str | None = None
    value: str | None = None
    weight: float
    evidence: list[Evidence] = Field(default_factory=list)
    confidence: Confidence = "unknown"


class Disqualifier(Contract):
    criterion: str
    dimension: str | None = None
    value: str | None = None
    reason: str
    evidence: list[Evidence] = Field(default_factory=list)
    confidence: Confidence = "unknown"


class ICP(Contract):
    id: str
    name: str
    summary: str
    crm_singles_out_segment: bool  # False: the CRM data names no winner; interview evidence leads
    firmographics: Firmographics = Field(default_factory=Firmographics)
    segments: list[str] = Field(default_factory=list)
    challenges: list[Claim] = Field(default_factory=list)
    goals: list[Claim] = Field(default_factory=list)
    traits: list[Claim] = Field(default_factory=list)
    long_term_value: Claim = Field(default_factory=lambda: Claim(text="unknown"))
    advocacy_potential: Claim = Field(default_factory=lambda: Claim(text="unknown"))
    qualification_signals: list[QualificationSignal] = Field(default_factory=list)
    disqualifiers: list[Disqualifier] = Field(default_factory=list)
    data_sufficiency: DataSufficiency


# --------------------------------------------------------------------------- persona


class Persona(Contract):
    id: str  # slug, stable across versions
    name: str  # semi-fictional
    archetype: str  # one line
    role: str
    title_patterns: list[str] = Field(default_factory=list)
    seniority: Seniority = "unknown"
    function: str = "unknown"
    buying_role: BuyingRole = "unknown"
    icp_id: str | None = None  # None for B2C personas
    demographics: list[Claim] = Field(default_factory=list)
    goals: list[Claim] = Field(default_factory=list)
    pains: list[Claim] = Field(default_factory=list)
    objections: list[Claim] = Field(default_factory=list)  # objections and fears
    motivations: list[Claim] = Field(default_factory=list)
    triggers: list[Claim] = Field(default_factory=list)
    decision_criteria: list[Claim] = Field(default_factory=list)
    channels: list[Claim] = Field(default_factory=list)
    success_metrics: list[Claim] = Field(default_factory=list)
    day_in_life: Claim = Field(default_factory=lambda: Claim(text="unknown"))
    vocabulary: list[str] = Field(default_factory=list)
    quotes: list[QuoteEvidence] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)  # source ids grouped into this persona


# Persona fields that hold lists of claims; messaging refers to items as "<field>[<index>]".
PERSONA_ITEM_FIELDS = (
    "goals", "pains", "objections", "motivations", "triggers",
    "decision_criteria", "channels", "success_metrics",
)


class PersonaSet(Contract):
    """What `draft personas` saves: the personas of one draft version."""

    personas: list[Persona]
    icp_id: str | None = None
    notes: list[str] = Field(default_factory=list)  # e.g. dropped quotes, grouping decisions


# --------------------------------------------------------------------------- messaging


class LintFinding(Contract):
    rule: str  # e.g. "subject_max_chars", "banned_phrase", "leftover_placeholder", "unsupported_claim"
    field: str
    message: str
    severity: Literal["error", "warning"] = "error"


class ItemRef(Contract):
    """A persona item an asset addresses, e.g. field='pains', index=2."""

    field: str
    index: int = Field(ge=0)
    text: str = ""


class Asset(Contract):
    id: str  # persona/channel/stage/variant
    persona_id: str
    channel: str
    stage: Stage
    variant: int = Field(ge=1)
    angle: Angle
    fields: dict[str, Union[str, list[str]]]  # subject/body, headlines/descriptions, ...
    addresses: list[ItemRef] = Field(default_factory=list)
    proof_points: list[str] = Field(default_factory=list)
    unsupported_claims: list[str] = Field(default_factory=list)
    lint: list[LintFinding] = Field(default_factory=list)
    engine: str = "offline"  # offline | model name
    map_entries: list[str] = Field(default_factory=list)  # MapEntry ids of the persona's message map
    # True when the offline engine had no good copy for this channel: `fields` is empty and
    # `note` says why; the message map entries named above stand in for the asset.
    map_only: bool = False
    note: str = ""


class JourneyStep(Contract):
    stage: Stage
    question: str
    content: str
    message: str
    channel: str
    addresses: list[ItemRef] = Field(default_factory=list)


class JourneyMap(Contract):
    persona_id: str
    steps: list[JourneyStep]


class ContentIdea(Contract):
    icp_id: str | None = None
    format: str  # white paper, case study, industry report, ...
    topic: str
    angle: str
    addresses: list[ItemRef] = Field(default_factory=list)


class MapEntry(Contract):
    """One row of a message map: a persona item, the brief's value proposition that answers it
    (chosen by meaning, `match` its similarity, 0 when none matched and one was assigned) and the
    proof point that backs it (`proof_index` into the brief's proof_points)."""

    id: str  # "<field>[<index>]", the item's own address
    item: ItemRef
    interviewees: int = Field(default=0, ge=0)  # distinct sources behind the item
    value_proposition: str = ""
    match: float = 0.0
    proof_point: str = ""
    proof_source: str = ""
    proof_index: int | None = None


class StageMessage(Contract):
    stage: Stage
    entries: list[str]  # MapEntry ids this stage leads with, strongest first
    call_to_action: str = ""


class MessageMap(Contract):
    """What every asset of one persona is written from (see messaging/message_map.py)."""

    persona_id: str
    entries: list[MapEntry]
    stages: list[StageMessage]
    vocabulary: list[str] = Field(default_factory=list)  # the words this persona uses

    def entry(self, entry_id: str) -> MapEntry | None:
        return next((e for e in self.entries if e.id == entry_id), None)


class Campaign(Contract):
    id: str
    personas: list[str]
    channels: list[str]
    stages: list[Stage]
    variants: int = Field(ge=1)
    assets: list[Asset] = Field(default_factory=list)
    journeys: list[JourneyMap] = Field(default_factory=list)
    content_ideas: list[ContentIdea] = Field(default_factory=list)
    message_maps: list[MessageMap] = Field(default_factory=list)


# --------------------------------------------------------------------------- product brief


class ProofPoint(Contract):
    claim: str
    source: str = ""  # case study, metric source, URL


class Brief(Contract):
    product: str = ""
    category: str = ""
    value_propositions: list[str] = Field(default_factory=list)
    proof_points: list[ProofPoint] = Field(default_factory=list)
    calls_to_action: list[str] = Field(default_factory=list)
    tone: str = ""
    sample_texts: list[str] = Field(default_factory=list)
    banned_phrases: list[str] = Field(default_factory=list)


# Names accepted by `persona-assistant schema NAME`.
CONTRACTS: dict[str, type[Contract]] = {
    "evidence-quote": QuoteEvidence,
    "evidence-statistic": StatEvidence,
    "claim": Claim,
    "ingest-report": IngestReport,
    "analysis": Analysis,
    "icp": ICP,
    "persona": Persona,
    "persona-set": PersonaSet,
    "asset": Asset,
    "journey-map": JourneyMap,
    "campaign": Campaign,
    "message-map": MessageMap,
    "brief": Brief,
}
