"""What people read of a draft, decided once for the Markdown and the HTML renderers.

- The persona's fields come from the schema (`Persona.model_fields`, in its order), each with a
  kind read from its annotation: facts (role, seniority ...), claim lists (pains, success metrics
  ...), one claim (day in the life), word lists (vocabulary) and quotes. A field added to the
  schema shows up in every export without a renderer keeping its own list.
- `top_item`: the item of a field that most interviewees back ("n of N interviewees"), the same
  ranking the message map uses.
- `QuoteLedger`: interview words printed in full once per document; a later mention is a short
  reference that points at the citation instead of repeating the quote.
- `segment_label`: a segment id as people read it (values as written, not %-escaped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from persona_assistant.draft.evidence import interviewees, normalise
from persona_assistant.schemas import Claim, Persona, QuoteEvidence, segment_conditions, segment_text

Kind = Literal["fact", "claims", "claim", "words", "quotes"]
HIDDEN = ("id", "name")  # the heading and the anchor, not a field row
REF_CHARS = 60  # a reference to words printed elsewhere is cut to this many characters
MIN_SHARED_WORDS = 6  # a text that contains a printed quote of this many words repeats it


def kind_of(annotation: Any) -> Kind:
    if annotation is Claim:
        return "claim"
    if annotation == list[Claim]:
        return "claims"
    if annotation == list[QuoteEvidence]:
        return "quotes"
    if annotation == list[str]:
        return "words"
    return "fact"


def label(name: str) -> str:
    return name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class FieldView:
    name: str
    label: str
    kind: Kind
    value: Any

    @property
    def empty(self) -> bool:
        if self.kind == "claim":
            return self.value.text.strip().lower() in ("", "unknown")
        if self.kind == "fact":
            return self.value in (None, "", "unknown")
        return not self.value


def persona_fields(p: Persona) -> list[FieldView]:
    """Every field of the persona schema but its id and name, in schema order."""
    return [FieldView(name, label(name), kind_of(info.annotation), getattr(p, name))
            for name, info in type(p).model_fields.items() if name not in HIDDEN]


def top_item(claims: list[Claim]) -> tuple[Claim, int] | None:
    """The claim most interviewees back (the earliest on a tie) and their number."""
    usable = [(i, c) for i, c in enumerate(claims) if c.text.strip() and c.text.strip().lower() != "unknown"]
    if not usable:
        return None
    _, best = min(usable, key=lambda ic: (-interviewees(ic[1]), ic[0]))
    return best, interviewees(best)


def segment_label(segment_id: str) -> str:
    return segment_text(segment_conditions(segment_id))


def cite(ev) -> str:
    """Where a piece of evidence comes from: file:lines, or the segment's figures."""
    if isinstance(ev, QuoteEvidence):
        lines = f"{ev.line_start}" + (f"-{ev.line_end}" if ev.line_end != ev.line_start else "")
        return f"{ev.path}:{lines}"
    deals = f"; deals {', '.join(ev.deal_ids)}" if ev.deal_ids else ""
    return (f"{segment_label(ev.segment_id)}: {ev.won}/{ev.closed} won, {ev.win_rate:.0%} "
            f"[{ev.ci_low:.0%}-{ev.ci_high:.0%}]{deals}")


def cut(text: str, limit: int = REF_CHARS) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.-")
    return head + "…"


def reference(text: str) -> str:
    """A mention of words printed in full elsewhere: always shorter than the words themselves."""
    return cut(text, min(REF_CHARS, max(12, len(text) - 1)))


@dataclass
class QuoteLedger:
    """Which interview words a document has printed in full (normalised); see the module doc."""

    printed: list[str] = field(default_factory=list)

    def seen(self, text: str) -> bool:
        t = normalise(text)
        return any(t in p or (p in t and len(p.split()) >= MIN_SHARED_WORDS) for p in self.printed)

    def show(self, text: str) -> tuple[str, bool]:
        """(the text to print, whether it is printed in full): full the first time, cut after."""
        if self.seen(text):
            return reference(text), False
        self.printed.append(normalise(text))
        return text, True

    def once(self, text: str) -> str:
        return self.show(text)[0]

    @staticmethod
    def mentioning(text: str, quotes: list[str]) -> str:
        """`text` (a summary line such as an archetype) with any quote it repeats cut to a reference,
        so the quote is printed in full where it belongs."""
        for q in sorted(quotes, key=len, reverse=True):
            if len(q.split()) >= MIN_SHARED_WORDS and q in text:
                text = text.replace(q, reference(q))
        return text

    def quotes_to_print(self, claim: Claim) -> list[QuoteEvidence]:
        """The claim's quotes whose words are not printed yet (its own text counts as printed)."""
        out = []
        for e in claim.evidence:
            if isinstance(e, QuoteEvidence) and not self.seen(e.text):
                self.printed.append(normalise(e.text))
                out.append(e)
        return out
