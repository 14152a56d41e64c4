"""The offline engine's writer: what a persona's copy says, chosen from its message map.

A `Line` is a map entry the engine can say (its insight in the company's voice, the value
proposition that answers it, the proof point that backs it). A `Writer` orders a persona's
lines for a stage and angle (`leads`), picks the lead and a supporting line, and gives out
subjects and headlines per persona slot from whole phrases so that no reader sees one twice: no
two slots of one stage or one variant share one (`assign`, `phrase`). The channel forms are in
offline_copy (emails, posts, sponsored ads, landing heroes), ads (search ads) and sales_copy
(objection handling, call openers).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from persona_assistant.messaging.channels import Channel, FieldRule, LintConfig
from persona_assistant.messaging.lint import lint_fields, word_count
from persona_assistant.messaging.quality import has_filler
from persona_assistant.messaging.attribution import longest_shared_run, words
from persona_assistant.messaging.message_map import (
    ANSWERS, answer_similarity, build_message_map, content_stems, similarity, stage_entries,
)
from persona_assistant.messaging.phrasing import Insight, head, insight, lower_first, plural, tidy, upper_first
from persona_assistant.messaging.voice import is_wish, proof_sentence, value_sentence
from persona_assistant.schemas import Angle, Brief, MapEntry, MessageMap, Persona, ProofPoint, Stage


ANGLES: tuple[Angle, ...] = ("pain", "proof", "insight")
STAGES: tuple[Stage, ...] = ("awareness", "consideration", "decision")
# A proof point goes with a line when it backs the item itself or the answer to it (PROOF_BACKS); it answers
# an objection, criterion or trigger itself when it meets it by PROOF_MARGIN more than the value proposition.
PROOF_BACKS, PROOF_MARGIN = 0.2, 0.05
# Prose turns first to items whose answer meets them at least this well: of the reader's labelled pairs
# (tests/data/pairing_labels.json), 27 of 30 at or above it are right, 10 of 17 below it.
PROSE_MATCH = 0.2
ECHO_WORDS, ECHO_SHARE = 4, 0.6  # an item said in the answer's own words: 4 in a row, or 3 in 5 of its words
ENOUGH_CLEAR = 3  # a persona with this many clearly answered items writes prose around those alone
ROTATE_WITHIN = 0.08  # proof points this close to the best backing of an answer take turns across assets
LEAD_FIELDS: dict[str, tuple[str, ...]] = {
    "pain": ("pains", "objections", "goals", "triggers", "decision_criteria"),
    "proof": ("goals", "pains", "objections", "decision_criteria", "triggers"),
    "insight": ("triggers", "goals", "decision_criteria", "pains", "objections"),
}
PROSE_FIELDS = ("pains", "goals", "objections", "triggers")


def angle_for(variant: int) -> Angle:
    return ANGLES[(variant - 1) % len(ANGLES)]



def slot_of(stage: Stage, variant: int) -> int:
    return (variant - 1) * len(STAGES) + STAGES.index(stage)


def slots_up_to(stage: Stage, variant: int) -> list[tuple[Stage, int]]:
    n = slot_of(stage, variant)
    return [(STAGES[k % 3], k // 3 + 1) for k in range(n + 1)]


@dataclass(frozen=True)
class Line:
    """A map entry the engine can say: its insight, answer and proof."""

    entry: MapEntry
    insight: Insight
    proof: ProofPoint | None

    @property
    def answered(self) -> bool:
        """The map pairs the item with an answer (a value proposition, or a proof point that meets it)."""
        return bool(self.entry.value_proposition) or self.proof_answers

    @cached_property
    def echoes(self) -> bool:
        """The item as the copy says it and its answer say the same words (ECHO_WORDS in a row, or ECHO_SHARE
        of the item's content words): "If X, Rosterly helps you X" says X twice. (Words, not concepts:
        "rebuild spreadsheets by hand" answered by "match lines automatically" is a pairing, not an echo.)"""
        vp = self.entry.value_proposition
        if not vp:
            return False
        mine, theirs = content_stems(self.insight.clause), content_stems(vp)
        return longest_shared_run(words(self.insight.clause), words(vp)) >= ECHO_WORDS \
            or len(mine) >= 5 and len(mine & theirs) >= ECHO_SHARE * len(mine)  # (a short item may share two)

    @cached_property
    def clearly_answered(self) -> bool:
        """The answer meets the item well enough to write around (see Writer.leads): the item as said
        by the interviewee and as the copy says it, shortened ("you want to stop paying overtime", without
        "just because the schedule went out late", no longer calls for a faster rota)."""
        vp = self.entry.value_proposition
        return self.proof_answers or bool(vp) and self.entry.match >= PROSE_MATCH \
            and answer_similarity(self.insight.clause, vp) >= PROSE_MATCH

    @cached_property  # read for every line on every slot: the similarity is worked out once
    def proof_answers(self) -> bool:
        """An objection, criterion or trigger the proof point answers better than the value proposition."""
        return self.proof is not None and self.entry.item.field in ("objections", "decision_criteria", "triggers") \
            and similarity(self.entry.item.text, self.proof.claim) > max(self.entry.match + PROOF_MARGIN, ANSWERS)

    def opener(self, product: str, form: int, limit: int | None = None) -> str | None:
        """Pain and answer in one sentence: "If <insight>, <product> helps you <value>."."""
        if self.proof_answers:
            said = proof_sentence(self.proof, with_source=limit is None)
            lead = "here is the evidence" if self.entry.item.field == "objections" else "one thing to know"
            # "In the Rosterly onboarding data ..." names it already; a source in brackets does not
            named = product.lower() in re.sub(r"\s*\([^)]*\)\.?$", "", said).lower()
            whose = "" if named else f" from {product}" if lead.endswith("evidence") else f" about {product}"
            text = f"{self.insight.conditional()}, {lead}{whose}: {lower_first(said)}"
            return text if limit is None or len(text) <= limit else None
        if not self.entry.value_proposition:
            return None
        if self.echoes:  # "If you want to see labour against sales ..., Rosterly helps you see labour cost
            # against sales ...": the wish is the promise; say the promise once
            return value_sentence(self.entry.value_proposition, product, form, limit=limit)
        room = None if limit is None else limit - len(self.insight.conditional()) - 2
        answer = value_sentence(self.entry.value_proposition, product, form, limit=room,
                                after_clause="wish" if is_wish(self.insight.clause) else "pain")
        return f"{self.insight.conditional()}, {answer}" if answer else None


class Writer:
    """Copy for one persona from its message map; cheap to build, deterministic. `used` collects
    the lines whose insight went into the copy, for the asset's addresses and map entries."""

    def __init__(self, persona: Persona, brief: Brief, config: LintConfig, mmap: MessageMap | None = None):
        self.persona, self.brief = persona, brief
        self.mmap = mmap or build_message_map(persona, brief)
        self.product = brief.product.strip() or "our product"
        self.role = persona.role.strip() or "buyer"
        self.roles = plural(self.role)
        # The roles as a short prefix for subjects and headlines ("IT & ERP Systems Managers" -> "Systems Managers";
        # a role synthesised from a department, "Finance professional", as "Finance leaders").
        generic = re.match(r"^(.+?) professionals?$", self.role, re.I)
        dept = generic.group(1) if generic else ""
        roles = f"{dept if dept.isupper() else dept.lower()} leaders" if generic else self.roles
        self.audience = roles if len(roles.split()) <= 3 else " ".join(roles.split()[-2:])
        self.used: list[Line] = []
        self.turn = 0  # a rewrite after a lint failure starts from the next line
        self.rotation = 0  # which of several near-equal proof points this asset shows (see backer)
        self.gaps: list[str] = []  # what the copy leaves out for want of an answer in the brief (the asset's note)
        self.answered: list[int] = []  # objections the copy answers
        probe = Channel("probe", "", (FieldRule("t"),))

        def clean(text: str) -> bool:
            found = lint_fields({"t": text}, probe, brief=brief, config=config)
            return not any(f.rule in ("banned_phrase", "ai_phrase", "leftover_placeholder") for f in found) \
                and not has_filler(text)

        self.lines: list[Line] = []
        for e in self.mmap.entries:
            said = insight(e.item.text) if clean(e.item.text) else None
            if said is None:
                continue
            proof = brief.proof_points[e.proof_index] if e.proof_index is not None else None
            if proof is not None and similarity(e.value_proposition, proof.claim) < PROOF_BACKS and not (
                    e.item.field in ("objections", "decision_criteria", "triggers")
                    and similarity(e.item.text, proof.claim) >= PROOF_BACKS):
                # a proof point that does not back the answer is a non-sequitur under it (a survey of manager
                # hours under a compliance promise), unless it answers an objection, criterion or trigger itself
                proof = None
            self.lines.append(Line(e, said, proof if proof and clean(proof.claim) else None))
        self.vps = [v for v in brief.value_propositions if v.strip() and clean(v)]
        self.proofs = [p for p in brief.proof_points if p.claim.strip() and clean(p.claim)]
        self.ctas = [c for c in brief.calls_to_action if c.strip() and clean(c)]

    def use(self, line: Line, text: str | None) -> str | None:
        if text and line not in self.used:
            self.used.append(line)
        return text

    # ------------------------------------------------------------------ choosing

    def cta(self, stage: Stage) -> str:
        plan = next((s for s in self.mmap.stages if s.stage == stage), None)
        return (plan.call_to_action if plan and plan.call_to_action else "") or (self.ctas[0] if self.ctas else "")

    def leads(self, stage: Stage, angle: Angle, fields: tuple[str, ...] = PROSE_FIELDS) -> list[Line]:
        """Lines in the order this stage and angle prefer them: stage entries first, then those whose
        answer meets the item, then by field. Decision criteria are asked about, not written around.
        Prose (the default fields) is written only around
        - items the map answers (one nothing in the brief answers is asked about, in call openers, never
          answered with something else);
        - what the reader has now, not one interviewee's past ("you started by migrating ...");
        - an objection only where a proof point answers it (a promise after a doubt reads as a non
          sequitur: "If you're worried the forecasts will be wrong, Rosterly lets you build the rota");
        and around items it answers clearly (PROSE_MATCH, or a proof point) first: a barely met one ("If
        your goal is to share staff across stores, Rosterly lets you see labour cost ...") comes last, and
        not at all once the persona has ENOUGH_CLEAR others."""
        stage_ids = [e.id for e in stage_entries(self.mmap, stage)]
        order = LEAD_FIELDS[angle]

        def key(line: Line) -> tuple:
            in_stage = line.entry.id in stage_ids
            weak = not line.clearly_answered  # the answer barely meets the item: written around last
            return (not in_stage, weak, order.index(line.entry.item.field), stage_ids.index(line.entry.id)
                    if in_stage else 0)
        prose = fields is PROSE_FIELDS
        pool = sorted((ln for ln in self.lines if ln.entry.item.field in fields and (not prose or (
            ln.answered and not ln.insight.past and (ln.entry.item.field != "objections" or ln.proof_answers)))),
            key=key)
        clear = [ln for ln in pool if ln.clearly_answered]
        if prose and len(clear) >= ENOUGH_CLEAR:
            pool = clear  # enough to say without promising what the brief barely answers
        if angle == "proof":
            pool = [ln for ln in pool if ln.proof] + [ln for ln in pool if not ln.proof]
        return pool

    def lead(self, stage: Stage, variant: int, shift: int = 0) -> Line | None:
        pool = self.leads(stage, angle_for(variant))
        if not pool:
            return None
        return pool[((variant - 1) // len(ANGLES) + shift + self.turn) % len(pool)]

    def support(self, stage: Stage, lead: Line) -> Line | None:
        """A second line for longer copy: another entry of the stage with a different answer."""
        for ln in self.leads(stage, "insight"):
            same_proof = ln.proof_answers and lead.proof_answers and ln.proof == lead.proof
            if ln.entry.id != lead.entry.id and ln.entry.value_proposition != lead.entry.value_proposition \
                    and not same_proof:
                return ln
        return None

    def assign(self, stage: Stage, variant: int, prefs) -> tuple[str, Line | None] | None:
        """The phrase for this slot and the line it is about: each earlier slot of the persona takes
        the first of its own preferences not taken by a slot that shares its stage or its variant, so
        no reader sees one twice (a variant is an A/B arm: a reader gets one variant through the stages,
        and the variants of a stage are tried against each other; see quality.repetition_findings).
        `prefs(stage, variant)` lists (phrase, line or None) pairs."""
        taken: dict[tuple[Stage, int], str] = {}
        chosen = None
        for st, v in slots_up_to(stage, variant):
            with self.as_written((st, v), (stage, variant)):
                seen = {p for (s2, v2), p in taken.items() if s2 == st or v2 == v}
                chosen = next((p for p in prefs(st, v) if p[0].lower() not in seen), None)
            if chosen:
                taken[(st, v)] = chosen[0].lower()
        return chosen

    @contextmanager
    def as_written(self, slot: tuple[Stage, int], current: tuple[Stage, int]):
        """While an earlier slot is worked out again, its lines as first written: a rewrite of the current
        asset after a lint failure (`turn`) moves only the current slot's lines."""
        turn = self.turn
        self.turn = turn if slot == current else 0
        try:
            yield
        finally:
            self.turn = turn

    # ------------------------------------------------------------------ phrases

    def brief_head(self, text: str, limit: int, min_words: int = 3) -> str | None:
        """A brief phrase as a subject or headline: its longest whole head within `limit`. No role
        prefix ("HR Directors: ..."): a marketer reads a job title on a subject as a segment label."""
        h = head(tidy(text), limit, min_words)
        return upper_first(h) if h else None

    def options(self, line: Line, angle: Angle, limit: int, payoff: bool = False) -> list[str | None]:
        """Subjects and headlines about `line`, in the angle's order: its discovery question (never
        an objection's: a headline does not raise a doubt), its answer, its proof; with `payoff` (an
        ad or page whose body states the pain) the answer and proof before the question."""
        q = line.insight.headline_question() if line.entry.item.field != "objections" else None
        # an ad's headline pays off the sentence under it, which states the proof only when it is the answer
        proof = self.brief_head(line.proof.claim, limit) if line.proof and (line.proof_answers or not payoff) else None
        value = self.brief_head(line.entry.value_proposition, limit) if line.entry.value_proposition else None
        if payoff:
            return [proof, value, q] if angle == "proof" else [value, proof, q]
        # the longer discovery question last: a second subject about the same line for a later slot
        asked = line.insight.question() if q and q.startswith("Ready to ") else None
        return {"pain": [q, value, proof, asked], "proof": [proof, q, value, asked],
                "insight": [q, value, proof, asked]}[angle]

    def line_prefs(self, stage: Stage, variant: int, limit: int, words: int | None,
                   shift: int = 0, payoff: bool = False) -> list[tuple[str, Line | None]]:
        """What this slot would be headed with, best first: phrases about its lead line, then about the
        lines after it (so the copy under the phrase can be about the same line), then the brief's."""
        angle = angle_for(variant)
        pool = self.leads(stage, angle)
        start = ((variant - 1) // len(ANGLES) + shift + self.turn) % max(1, len(pool))
        out = [(p, ln) for ln in pool[start:] + pool[:start] for p in self.options(ln, angle, limit, payoff)]
        for t in [*self.vps, *(p.claim for p in self.proofs)]:  # about the first line that says or backs it
            owner = next((ln for ln in pool if t in (ln.entry.value_proposition, ln.proof and ln.proof.claim)), None) \
                or next((ln for ln in pool if ln.entry.value_proposition and t not in self.vps
                         and similarity(ln.entry.value_proposition, t) >= PROOF_BACKS), None)
            if owner is not None and (not payoff or t == owner.entry.value_proposition or owner.proof_answers):
                out.append((self.brief_head(t, limit), owner))  # never a brief line the copy under it is not about
        # (never the reader's clause itself as a headline: "You continually look to the specification" is
        # a statement about the reader, which a marketer reads as presumptuous)
        return [(p, ln) for p, ln in out if p and len(p) <= limit and (words is None or word_count(p) <= words)]

    def phrase(self, stage: Stage, variant: int, limit: int, *, words: int | None = None,
               shift: int = 0, payoff: bool = False) -> tuple[str, Line | None] | None:
        """A subject or headline for this slot, and the line it is about (None: a brief phrase)."""
        return self.assign(stage, variant, lambda st, v: self.line_prefs(st, v, limit, words, shift, payoff))

    def backing(self, phrase: str) -> ProofPoint | None:
        """The proof point a subject or headline states (so the copy under it can show its source)."""
        core = phrase.lower()
        return next((p for p in self.proofs if tidy(p.claim).lower().startswith(core)), None)

    def backer(self, answer: str) -> ProofPoint | None:
        """A brief proof point that meets `answer` in meaning at least by PROOF_BACKS: the closest, or, among
        those within ROTATE_WITHIN of the closest, the one this asset's `rotation` turns to, so that one
        survey figure does not back every asset of a campaign."""
        scored = sorted(((similarity(answer, p.claim), -i, p) for i, p in enumerate(self.proofs)),
                        key=lambda t: t[:2], reverse=True) if answer else []
        near = [t for t in scored if t[0] >= PROOF_BACKS and t[0] >= scored[0][0] - ROTATE_WITHIN]
        return near[self.rotation % len(near)][2] if near else None

    def answer(self, line: Line, form: int, limit: int | None = None) -> str | None:
        return self.use(line, line.opener(self.product, form, limit))

    def proof_line(self, line: Line) -> str | None:
        return proof_sentence(line.proof) if line.proof else None

    def fitting(self, pool: list[Line], make) -> str | None:
        """The first of `pool` for which `make(line)` writes something."""
        for ln in pool:
            text = make(ln)
            if text:
                return self.use(ln, text)
        return None
