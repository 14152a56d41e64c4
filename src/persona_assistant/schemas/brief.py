"""The product brief a campaign is written from."""

from __future__ import annotations

import re

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from persona_assistant.schemas.base import Contract

PRODUCT_NAME_MAX = 40  # longest product name copy can carry (a Google headline is 30 characters)
# A name followed by a description: "Tallyhop: shift scheduling ...", "Tallyhop - shift ...".
_DESCRIBED = re.compile(r"^(?P<name>[^:]+?)\s*(?::|\s[-\u2013\u2014]\s)\s*\S")


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

    @field_validator("product")
    @classmethod
    def _product_is_a_name(cls, value: str) -> str:
        """Copy repeats `product` as the product's name, so a one-line description there ends up in
        every email and overflows every headline: refuse it with the short name to write instead."""
        name = value.strip()
        described = _DESCRIBED.match(name)
        if described or len(name) > PRODUCT_NAME_MAX:
            hint = (f"write just {described['name'].strip()!r} and put the description under 'category'"
                    if described else "write just the product's name and put the description under 'category'")
            raise PydanticCustomError(
                "product_name", "{reason}; {hint}",
                {"reason": "is a name with a description" if described
                 else f"is {len(name)} characters, longer than a name ({PRODUCT_NAME_MAX})", "hint": hint})
        return value
