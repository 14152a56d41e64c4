"""Shared contract pieces: the value vocabularies, the `Contract` base, evidence and claims."""

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
