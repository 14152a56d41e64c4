"""The product brief a campaign is written from."""

from __future__ import annotations

from pydantic import Field

from persona_assistant.schemas.base import Contract


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
