"""What the model answers for one asset, and that answer narrowed to one item's closed sets.

`AssetDraft` is the general shape (strict-schema friendly: no free-form mapping). `asset_answer`
narrows it to one persona, channel and brief, so a server that enforces the schema sent can
only answer valid references: field names are the channel's (one anyOf branch per field, with
its length as maxLength/maxItems in the grammar dialect), addresses are the persona's items
(field as enum, index bounded by that field's item count), proof points are the brief's claims
(enum). Pydantic enforces the closed sets after the answer, so an item a server let through
is dropped with a note (llm/answers.salvage), never a failed campaign item; lengths are
enforced by the copy lint, not by validation (an over-long headline is a finding to fix).
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field, create_model

from persona_assistant.llm.structured import one_of
from persona_assistant.schemas import PERSONA_ITEM_FIELDS, Brief, Contract, ItemRef, Persona


class DraftField(Contract):
    name: str
    text: str  # for text fields ("" for list fields)
    items: list[str]  # for list fields ([] for text fields)


class AssetDraft(Contract):
    """What the model answers for one asset (strict-schema friendly: no free-form mapping)."""

    fields: list[DraftField]
    addresses: list[ItemRef]
    proof_points: list[str]


def _sent_only(**limits: int | None) -> Any:
    """A Field whose limits go into the request schema only (not enforced by validation)."""
    extra = {k: v for k, v in limits.items() if v is not None}
    return Field(json_schema_extra=extra) if extra else Field()


def _field_branch(rule) -> type[DraftField]:
    """The answer for one of the channel's fields: its name fixed, its limits sent."""
    if rule.is_list:
        text: Any = (str, _sent_only(maxLength=0))
        items: Any = (list[Annotated[str, _sent_only(maxLength=rule.max_chars)]], _sent_only(maxItems=rule.max_count))
    else:
        text = (str, _sent_only(maxLength=rule.max_chars))
        items = (list[str], _sent_only(maxItems=0))
    return create_model(f"Field_{rule.name}", __base__=DraftField, name=(one_of([rule.name]), ...),
                        text=text, items=items)


def asset_answer(channel, persona: Persona, brief: Brief) -> type[AssetDraft]:
    """AssetDraft narrowed to `channel`'s fields, `persona`'s items and `brief`'s proof points."""
    fields = [_field_branch(rule) for rule in channel.fields]
    refs = [create_model(f"Ref_{name}", __base__=ItemRef, field=(one_of([name]), ...),
                         index=(int, Field(ge=0, le=len(getattr(persona, name)) - 1)))
            for name in PERSONA_ITEM_FIELDS if getattr(persona, name)]
    claims = [p.claim for p in brief.proof_points]
    return create_model(
        "AssetDraft", __base__=AssetDraft,
        fields=(list[Union[tuple(fields)]], ...) if fields else (list[DraftField], ...),
        addresses=(list[Union[tuple(refs)]], ...) if refs else (list[ItemRef], _sent_only(maxItems=0)),
        proof_points=(list[one_of(claims)], ...) if claims else (list[str], _sent_only(maxItems=0)))
