"""Offline answers: the workspace's own evidence that best matches a question, with citations.

With no model configured, a plain question in chat ("what worries the finance buyers?")
is answered by retrieval, never by generated text: every persona item (a claim of the
latest personas draft, e.g. `pains[1]`) is scored against the question, and the best are
shown with their verbatim quotes and citations (file:line, persona id, field and index).
A question about segments, win rates or the ICP also gets the CRM analysis's segments
(id, win rate, 95% interval), through `tools.lookup_segments`, the same read the model uses.

Scoring is lexical and deterministic: the question's content words (stop words dropped,
crude stemming) are matched against an item's words: its claim text, its quotes, the
persona's role, function and buying role, and the words of its field (so "worries" finds
`pains` and "measure" finds `success_metrics`, via FIELD_WORDS). A word counts with its
inverse document frequency over the items, so a word every item has counts little; the
score is the matched share of the question's weight (0..1). A question word no item has
weighs as much as the rarest word, so "what is the capital of France?" scores near 0.

THRESHOLD was measured on fixtures/sample-workspace with offline drafts (75 items): questions
about its personas ("what worries the finance buyers?" 1.0, "what do controllers measure?"
0.87, "what slows the month-end close?" 0.60) score well above it; unrelated ones ("what is
the capital of France?", "who won the football?", "recipe for pancakes", "how do I bake
bread?", "what is the weather") score 0.0, and "what do marketing leaders measure?" (no
marketing persona there) 0.28. Below THRESHOLD, and with no segment question, the answer is
NO_EVIDENCE.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from persona_assistant.chat.context import Context
from persona_assistant.chat.tools import lookup_segments

THRESHOLD = 0.4
MAX_ITEMS = 5
MAX_QUOTES = 2
MAX_SEGMENTS = 5
NO_EVIDENCE = "No evidence in this workspace matches that question."
# How an offline answer is saved in the conversation: marked, so neither /history nor a model
# later given the conversation (`chat --resume` with a model) takes it for a model's answer.
SAVED_MARK = "[retrieved evidence, not a model answer]"
HEADER = "Retrieved evidence (offline, no model: the workspace's own words and figures, not a generated answer):"

FIELDS = ("pains", "objections", "goals", "motivations", "triggers", "decision_criteria",
          "success_metrics", "channels")
# Words a question uses for a field, beyond the field's own name.
FIELD_WORDS = {
    "pains": "pain problem worry worri frustrat struggl hurt slow hard difficult issue challeng annoy",
    "objections": "objection worry worri fear concern risk doubt hesitat block push",
    "goals": "goal want aim achiev hope need",
    "motivations": "motivat driv why care",
    "triggers": "trigger start prompt when switch event",
    "decision_criteria": "criteria decid decision choos evaluat buy select",
    "success_metrics": "metric measur kpi track success number target",
    "channels": "channel where learn read news source find",
}
SEGMENT_QUESTION = re.compile(r"\b(segments?|icp|win(s|ning)?|won|win[- ]rates?|deals?|close[- ]rates?|"
                              r"ideal customer|convert\w*|industr\w*|best customers?)\b", re.I)
_STOP = set("""a an the of to in on for and or but is are was were be been what which who whom whose how why
when where do does did doing our their they them we you your my me i it its this that these those with
about from at by as most more much many any some there here can could should would will just than then
tell show give me us please""".split())
_WORD = re.compile(r"[a-z0-9]+")


def stem(word: str) -> str:
    """A crude stem: enough to match worries/worried/worry and measures/measuring/measure."""
    for suffix in ("ies", "ied", "ing", "ers", "er", "es", "ed", "s", "y"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def terms(text: str) -> set[str]:
    return {stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


@dataclass
class Item:
    persona_id: str
    field: str
    index: int
    text: str
    quotes: list = field(default_factory=list)  # QuoteEvidence
    words: set[str] = field(default_factory=set)
    score: float = 0.0


@dataclass
class Answer:
    items: list[Item]
    segments: list = field(default_factory=list)  # the analysis's Segment objects, best first
    baseline: object | None = None  # the analysis's baseline, when segments are shown

    @property
    def empty(self) -> bool:
        return not self.items and not self.segments


def persona_items(ctx: Context) -> list[Item]:
    """Every claim of the latest personas draft that has a quote, as a scoreable item."""
    ps = ctx.personas()
    if ps is None:
        return []
    items = []
    for p in ps.personas:
        about = f"{p.role} {p.function} {p.buying_role.replace('_', ' ')} {' '.join(p.title_patterns)}"
        for name in FIELDS:
            for i, claim in enumerate(getattr(p, name)):
                quotes = [e for e in claim.evidence if getattr(e, "kind", "") == "quote"]
                if not quotes:
                    continue
                words = terms(" ".join([claim.text, about, name.replace("_", " "), FIELD_WORDS.get(name, ""),
                                        *(q.text for q in quotes)]))
                items.append(Item(p.id, name, i, claim.text, quotes, words))
    return items


def rank(question: str, items: list[Item]) -> list[Item]:
    """Items scored against the question (IDF-weighted share of its words), best first."""
    asked = terms(question)
    if not asked or not items:
        return []
    n = len(items)
    df = {w: sum(1 for it in items if w in it.words) for w in asked}
    weight = {w: math.log((n + 1) / (df[w] + 0.5)) for w in asked}
    total = sum(weight.values())
    for it in items:
        it.score = sum(weight[w] for w in asked if w in it.words) / total if total > 0 else 0.0
    return sorted(items, key=lambda it: (-it.score, it.persona_id, FIELDS.index(it.field), it.index))


def retrieve(ctx: Context, question: str, threshold: float = THRESHOLD) -> Answer:
    about_segments = bool(SEGMENT_QUESTION.search(question))
    rest = SEGMENT_QUESTION.sub(" ", question)  # "win" in "which segments win?" is not about a persona
    items = [it for it in rank(rest, persona_items(ctx)) if it.score >= threshold][:MAX_ITEMS]
    analysis = ctx.analysis() if about_segments else None
    if analysis is None:
        return Answer(items)
    # lookup_segments decides the order (the model's lookup too); figures come unrounded from the analysis
    ids = [s["id"] for s in lookup_segments(ctx, limit=MAX_SEGMENTS).get("segments", [])]
    return Answer(items, [analysis.segment(i) for i in ids], analysis.baseline)


def render(answer: Answer) -> str:
    """Plain text (the caller shows it as untrusted text): items with quotes and citations, then segments."""
    if answer.empty:
        return NO_EVIDENCE
    lines = [HEADER]
    for it in answer.items:
        where = f"persona {it.persona_id}, {it.field}[{it.index}]"
        lines.append(f"- {where}: {' '.join(it.text.split())}")
        for q in it.quotes[:MAX_QUOTES]:
            span = f"{q.line_start}" if q.line_end == q.line_start else f"{q.line_start}-{q.line_end}"
            lines.append(f'    "{" ".join(q.text.split())}" ({q.path}:{span}; {where})')
    if answer.segments:
        lines.append(f"Segments (CRM analysis; baseline win rate {answer.baseline.win_rate:.1%}):")
        for s in answer.segments:
            lines.append(f"- segment {s.id}: win rate {s.win_rate:.1%} (95% CI {s.ci_low:.1%}-"
                         f"{s.ci_high:.1%}), {s.won}/{s.closed} won, {s.verdict}")
    return "\n".join(lines)
