"""The drafts: the ICP (firmographics, signals, disqualifiers) and the personas."""

from __future__ import annotations

from pydantic import Field

from persona_assistant.schemas.analysis import DataSufficiency
from persona_assistant.schemas.base import BuyingRole, Claim, Confidence, Contract, Evidence, QuoteEvidence, Seniority


class Firmographics(Contract):
    industries: list[Claim] = Field(default_factory=list)
    employee_bands: list[Claim] = Field(default_factory=list)
    revenue_bands: list[Claim] = Field(default_factory=list)
    regions: list[Claim] = Field(default_factory=list)
    technographics: list[Claim] = Field(default_factory=list)
    other: list[Claim] = Field(default_factory=list)


class _Criterion(Contract):
    """What a signal and a disqualifier share: the criterion and the segment it names (fields first,
    so the JSON of both keeps its order)."""

    criterion: str
    dimension: str | None = None
    value: str | None = None


class QualificationSignal(_Criterion):
    weight: float
    evidence: list[Evidence] = Field(default_factory=list)
    confidence: Confidence = "unknown"


class Disqualifier(_Criterion):
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
