"""Messaging: campaign assets, their lint findings, journey maps, content ideas and message maps."""

from __future__ import annotations

from typing import Literal, Union

from pydantic import Field

from persona_assistant.schemas.base import Angle, Contract, Stage


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
