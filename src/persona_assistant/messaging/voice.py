"""The brief's voice: how the offline engine says what the brief gives it.

- `value_sentence`: a value proposition said by the product ("Closewise helps you close the books
  in days"), in a form that fits how the proposition is written (imperative, noun phrase or
  statement) and what it follows (nothing, the reader's pain, the reader's wish), varied by `form`.
- `proof_sentence`: a proof point in the company's voice with its source (in brackets, or said
  after it in a call script).
- `cta_sentence`: a call to action asked as a yes/no question by what it asks for.

The reader's side (items turned into "you" insights, whole-phrase heads) is phrasing.py.
"""

from __future__ import annotations

import re

from persona_assistant.messaging.message_map import cta_object, cta_weight
from persona_assistant.messaging.phrasing import IMPERATIVES, WANTS, bare, head, lower_first, sentence, tidy
from persona_assistant.schemas import ProofPoint

_IMPERATIVE_NEXT = {"the", "your", "a", "an", "every", "each", "all", "more", "fewer", "less", "no", "it", "them",
                    "what", "who", "how", "which", "one", "any", "in", "up"}
_NP_START = {"a", "an", "one", "live", "real-time", "fewer", "every", "all", "full", "instant", "automatic",
             "automated", "faster", "clear", "complete", "single"}


def value_kind(vp: str) -> str:
    """'imperative' ("Close the books"), 'noun' ("An audit trail ...") or 'statement'."""
    w = [x.lower().strip(",.:;") for x in vp.split()[:2]]
    if not w:
        return "statement"
    if w[0] in _NP_START:
        return "noun"
    if w[0] in IMPERATIVES or len(w) > 1 and w[1] in _IMPERATIVE_NEXT and not w[0].endswith("s"):
        return "imperative"
    return "statement"


# A value proposition said on its own ("Rosterly helps you build next week's rota"), or after the reader's
# situation ("If you rebuild the rota by hand, Rosterly helps you ..."; `after_clause`). A proposition written
# as a statement about others ("Staff swap shifts from their phones") is never glued on with "can help:".
VALUE_FORMS = {
    "imperative": ("{p} helps you {v}", "With {p}, you {v}", "{p} lets your team {v}"),
    "noun": ("{p} gives you {v}", "With {p}, you get {v}", "{p} gives your team {v}"),
    "statement": ("With {p}, {v}", "On {p}, {v}", "With {p}, {v}"),
}
AFTER_CLAUSE_FORMS = {
    "imperative": ("{p} helps you {v}", "{p} lets your team {v}", "{p} lets you {v}"),
    "noun": ("{p} gives you {v}", "{p} gives your team {v}"),
    "statement": ("that's where {p} comes in: {v}", "{p} changes that: {v}"),
}
# After a wish ("If you'd love for the team to swap shifts themselves, ..."), nothing needs changing, and the
# product does not promise the wish itself ("gets you there" claims an outcome the brief never states): it helps.
AFTER_WISH = {**AFTER_CLAUSE_FORMS, "statement": ("that's where {p} comes in: {v}", "here's how {p} helps: {v}")}
_WISH = re.compile(rf"^(?:{WANTS}\b|your (?:goal|aim|target|plan)\b)")


def is_wish(clause: str) -> bool:
    """Whether an insight's clause is something the reader wants rather than something that goes wrong."""
    return bool(_WISH.match(clause))


def value_sentence(vp: str, product: str, form: int = 0, *, limit: int | None = None,
                   after_clause: bool | str = False) -> str | None:
    """The value proposition said by the product, whole; its head phrase when `limit` demands.
    `after_clause`: said after the reader's situation (True, "pain") or wish ("wish")."""
    text = bare(tidy(vp))
    table = AFTER_WISH if after_clause == "wish" else AFTER_CLAUSE_FORMS if after_clause else VALUE_FORMS
    forms = table[value_kind(text)]
    template = forms[form % len(forms)]
    full = sentence(template.format(p=product, v=lower_first(text)))
    if limit is None or len(full) <= limit:
        return full
    room = limit - len(template.format(p=product, v="")) - 1
    short = head(text, room)
    return sentence(template.format(p=product, v=lower_first(short))) if short else None


def proof_sentence(p: ProofPoint, *, with_source: bool = True, spoken: bool = False) -> str:
    """A proof point in the company's voice with its source: in brackets for the page, said after it
    aloud (`spoken`, a call script: "... That's from the Rosterly customer survey.")."""
    claim = sentence(tidy(p.claim))
    if not (with_source and p.source and claim.endswith(".")):
        return claim
    if not spoken:
        study, _, details = p.source.partition(", ")
        named = claim.split()[0].lower() in study.lower().split()  # "Harbor Health cut ..." from its case study
        if _STUDY.search(study) and re.search(r"\d", claim) and not named \
                and not _DETERMINED.match(study):
            # a figure from a study says where it was measured: "In the Rosterly customer survey (212 managers,
            # 2025), managers spend 4 hours ..." (bracketed after it, it read as an industry statistic)
            return f"In the {study}{f' ({details})' if details else ''}, {lower_first(claim)}"
        return f"{claim[:-1]} ({p.source})."
    said = p.source.partition(", ")[0]  # aloud, the source's name, not its details ("212 managers, 2025")
    the = "the " if _DOCUMENT.search(said) and not _DETERMINED.match(said) else ""
    return f"{claim} That's from {the}{said}."


_DETERMINED = re.compile(r"(?i)(?:the|a|an|our|their)\b")  # a source that brings its own article
_STUDY = re.compile(r"(?i)\b(?:survey|study|data|report|benchmark|analysis|research|poll)\b")
# A source named by what it is ("customer survey", "case study"), said with "the"; a name alone ("Gartner") without.
_DOCUMENT = re.compile(r"(?i)\b(?:survey|study|data|page|report|center|centre|benchmark|analysis|review|audit|"
                       r"trial|test|index|dashboard|log)s?\b")


def cta_sentence(cta: str, form: int = 0) -> str:
    """The call to action as a yes/no question in the reader's frame, by how much it asks
    (message_map.cta_weight): a conversation ("Open to a 20-minute rota review?"), something to read or
    watch ("Want the labour-cost benchmark?"), a trial ("Want me to set up a 14-day trial?"). The
    question names the call's object (message_map.cta_object), which the lint counts as the call;
    a call without one is said as it is ("Contact sales.")."""
    cta, obj = bare(cta), cta_object(cta)
    if obj is None:
        return f"{cta}."
    forms = {1: ("Open to {o}?", "Worth {o} next week?"), 0: ("Want {o}?", "Want me to send {o}?"),
             2: ("Want me to set up {o}?", "Want to {l}?")}[cta_weight(cta)]
    return forms[form % len(forms)].format(o=obj, l=lower_first(cta))
