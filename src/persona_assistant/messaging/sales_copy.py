"""The offline engine's sales-conversation copy: objection handling and the cold-call opener.

Objection handling: exactly one response per persona objection, in order (the channel's
per_objection rule), in every variant: the objection is restated in the company's voice
(phrasing.insight, else phrasing.worry), never quoted, and met by what in the brief meets it by
meaning (the value proposition and the proof point closest to it, each where it reaches its floor;
a proposition alone is backed by the proof point that backs it), then a low-friction next step (the
call to action closest to it). The variant's angle sets the shape, so no variant is a copy of another
or a pointer to it:

- pain (acknowledge first): "If you're worried about X, that's a fair concern. <answer> <backing>
  <next step>";
- proof (evidence first): "<proof> That is the evidence to weigh if you're worried about X. <answer>
  <next step>" (answer first, then why it matters, where no proof meets the objection);
- insight (asked back): "Worried about X? <answer> <backing> <next step>" (the item's fair discovery
  question where it is not a worry: "How much does price matter to you?"; else acknowledged).

An objection nothing in the brief answers is named in the asset's note (`gaps`) and met with the
call to action closest to it ("try Rosterly on your own case: book a 20-minute rota review"),
never with an answer to something else.

Call opener: permission first, in the greeting sentence ("Hi {{first_name}}, it's {{sender_name}}
from Rosterly, and this is a cold call: may I take half a minute to say why I called?"); then the
reason, tied to this persona's lead pain or goal (the item and the answer to it, in the company's
voice) with the proof point that backs the answer where one does (first, on the proof angle); then
three open discovery questions from the persona's other items, in the order situation (triggers),
process (pains, criteria), outcome (goals). Open shapes (How/What) first; "Do you still X?" is asked "How often
do you still X?"; "Would you ...?" and doubts ("Are you worried ...?", "How sure are you ...?") are
never asked: an objection is not planted on a cold call. Fewer than three such questions: map-only.
"""

from __future__ import annotations

import re

from persona_assistant.messaging.message_map import answer_floor, similarity
from persona_assistant.messaging.phrasing import Insight, bare, insight, lower_first, upper_first, worry
from persona_assistant.messaging.voice import cta_sentence, proof_sentence, value_sentence
from persona_assistant.messaging.quality import raises_doubt
from persona_assistant.messaging.writer import ANGLES, PROOF_BACKS, Line, Writer, angle_for, slot_of
from persona_assistant.schemas import ProofPoint, Stage

ACKNOWLEDGE = ("{c}, that's a fair concern.", "{c}, it's worth asking.", "{c}, you're right to check.")
PERMISSION = (
    "Hi {{{{first_name}}}}, it's {{{{sender_name}}}} from {p}, and this is a cold call: may I take half a minute "
    "to say why I called?",
    "Hi {{{{first_name}}}}, it's {{{{sender_name}}}} at {p}, calling out of the blue: is now a bad time, or can I "
    "have thirty seconds to tell you why I called?",
    "Hi {{{{first_name}}}}, {{{{sender_name}}}} from {p} here: have I caught you at a bad moment, or can I take "
    "half a minute to say why I called?",
)
_OPEN = re.compile(r"^(?:how|what|who|which|where|when|why)\b", re.I)
_QUESTION_ORDER = ("triggers", "pains", "decision_criteria", "goals")  # situation, process, outcome


def asked_back(said: Insight) -> str | None:
    """An objection as a short question back ("Worried about a long implementation?"), or None."""
    m = re.match(r"^you(?:'re| are) ((?:worried|not sure)\b.*)$", said.clause)
    if m:
        return upper_first(m.group(1)) + "?"
    m = re.match(r"^your (?:\w+ )?(?:concern|worry) is (.+)$", said.clause)
    return f"Concerned about {m.group(1)}?" if m else None


def fair_question(said: Insight) -> str | None:
    """The item's discovery question when it is fair to put to a stranger (in a call or an ad): not a
    doubt ("Are you worried ...?", "How sure are you ...?") and not leading ("Would you say ...?")."""
    q = said.question()
    return None if not q or raises_doubt(q) or q.startswith(("Would you", "Are you worried")) else q


def open_question(said: Insight) -> tuple[int, str] | None:
    """A fair discovery question for a cold call and how open it is (0 open, 1 made open, 2 yes/no)."""
    q = fair_question(said)
    if not q:
        return None
    if _OPEN.match(q):
        return 0, q
    m = re.match(r"^Do you still (?!have |got |get )(\w+(?<!ed)) (.+)$", q)
    return (1, f"How often do you still {m.group(1)} {m.group(2)}") if m else (2, q)


class SalesCopy(Writer):
    """Objection handling and call openers (see module doc)."""

    # ------------------------------------------------------------------ objection handling

    def objections(self, stage: Stage, variant: int) -> dict | str:
        """One response per persona objection, in order, in the variant's shape (see module doc)."""
        angle, form = angle_for(variant), slot_of(stage, variant)
        responses = []
        for i, c in enumerate(self.persona.objections):
            said = insight(c.text) or worry(c.text)
            if said is None:  # it cannot be restated without quoting the interviewee: no asset, and said so
                self.gaps.append(f"objections[{i}] cannot be restated in the company's voice")
                continue
            self.answered.append(i)
            vp, proof = self._meets(c.text)
            cta = max(self.ctas, key=lambda t: similarity(c.text, t))
            if vp is None and proof is None:
                self.gaps.append(f"objections[{i}] has no answer in the brief (add a proof point)")
            responses.append(self._response(said, vp, proof, cta, angle, form + i))
        if len(responses) < len(self.persona.objections):  # one response per objection, or no asset
            return "an objection cannot be restated without quoting the interviewee"
        return {"responses": responses} if responses else "this persona has no objections"

    def _meets(self, objection: str) -> tuple[str | None, ProofPoint | None]:
        """The value proposition and proof point that meet `objection` by meaning, each only when it
        reaches its floor (a proof point writer.PROOF_BACKS, as for any line; a proposition the map's
        floor for objections): "SOC 2 report available" is no answer to price. A proposition that meets
        it is backed by the proof point that backs the proposition when no proof meets the objection."""
        vps = sorted(((similarity(objection, v), v) for v in self.vps), reverse=True)
        proofs = sorted(((similarity(objection, p.claim), -k, p) for k, p in enumerate(self.proofs)),
                        key=lambda t: t[:2], reverse=True)
        vp = vps[0][1] if vps and vps[0][0] >= answer_floor("objections") else None
        proof = proofs[0][2] if proofs and proofs[0][0] >= PROOF_BACKS else None
        return vp, proof or (self.backer(vp) if vp else None)

    def _response(self, said: Insight, vp: str | None, proof: ProofPoint | None, cta: str, angle: str,
                  form: int) -> str:
        cond = said.conditional()
        # the angle turns the wording too: variants 1 and 3 of a stage have the same form modulo 3
        ack = ACKNOWLEDGE[(form + ANGLES.index(angle)) % len(ACKNOWLEDGE)].format(c=cond)
        asked = asked_back(said) or fair_question(said)
        if vp is None and proof is None:  # the ask, never an answer to something else
            case = f"{self.product} on your own case: {lower_first(bare(cta))}."
            if angle == "insight" and asked:
                return f"{asked} The fair test is {case}"
            return f"{cond}, the fair test is {case}" if angle == "proof" else f"{ack} Try {case}"
        answer = value_sentence(vp, self.product, form) if vp else None
        evidence = proof_sentence(proof) if proof else None
        ask = cta_sentence(cta, form)
        if angle == "proof" and evidence:
            parts = [evidence, f"That is the evidence to weigh {lower_first(cond)}.", answer, ask]
        elif angle == "proof":
            parts = [answer, f"That matters {lower_first(cond)}.", ask]
        elif angle == "insight" and asked:
            parts = [asked, answer or evidence, evidence if answer else None, ask]
        else:
            parts = [ack, answer or evidence, evidence if answer else None, ask]
        return " ".join(p for p in parts if p)

    # ------------------------------------------------------------------ call opener

    def call_opener(self, stage: Stage, variant: int) -> dict | str:
        """Permission, the reason (a lead item and its answer, with proof), three open questions."""
        angle, form = angle_for(variant), slot_of(stage, variant)
        reason_line = self._reason_line(stage, variant)
        if reason_line is None:
            return "no persona item the engine can say in its own words"
        questions = self._questions(stage, variant, reason_line)
        if len(questions) < 3:
            return "fewer than three open discovery questions from this persona's items"
        answer = self.answer(reason_line, form)
        vp = reason_line.entry.value_proposition
        # the proof that backs the answer: none rather than one about something else
        proof = self.backer(vp) if vp and not reason_line.proof_answers else None
        evidence = proof_sentence(proof, spoken=True) if proof else None
        reason = [evidence, answer] if angle == "proof" else [answer, evidence]
        permission = PERMISSION[(variant - 1 + form) % len(PERMISSION)].format(p=self.product)  # per stage and variant
        return {"opener": " ".join(p for p in [permission, *reason] if p),
                "questions": [self.use(ln, q) for ln, q in questions]}

    def _reason_line(self, stage: Stage, variant: int) -> Line | None:
        """The slot's lead pain or goal, another per variant (a trigger only when there is none: a
        one-off event is asked about, not made the premise; never an objection)."""
        pool = [ln for ln in self.leads(stage, angle_for(variant)) if ln.entry.item.field != "objections"]
        pool = [ln for ln in pool if ln.entry.item.field in ("pains", "goals")] or pool
        if angle_for(variant) == "proof":  # the proof angle leads with a line whose answer a proof point backs
            pool = sorted(pool, key=lambda ln: not (ln.entry.value_proposition
                                                    and self.backer(ln.entry.value_proposition)))
        return pool[(variant - 1 + self.turn) % len(pool)] if pool else None

    def _questions(self, stage: Stage, variant: int, reason: Line) -> list[tuple[Line, str]]:
        """Three open questions from other items (each once), most open first and at most two of one
        shape ("What would it take ..."), in a different order per variant, then put in the order
        situation, process, outcome."""
        pool = [ln for ln in self.leads(stage, angle_for(variant), _QUESTION_ORDER) if ln is not reason]
        start = (variant - 1 + self.turn) % max(1, len(pool))
        found: dict[str, tuple[int, int, Line, str]] = {}
        for k, ln in enumerate(pool[start:] + pool[:start]):
            shaped = open_question(ln.insight)
            if shaped and shaped[1] not in found and shaped[1] != reason.insight.question():
                found[shaped[1]] = (shaped[0], k, ln, shaped[1])
        shape = (lambda q: " ".join(q.split()[:3]).lower())
        best: list[tuple[int, int, Line, str]] = []
        for t in sorted(found.values(), key=lambda t: t[:2]):
            if len(best) < 3 and sum(shape(b[3]) == shape(t[3]) for b in best) < 2:
                best.append(t)
        best += [t for t in sorted(found.values(), key=lambda t: t[:2]) if t not in best][:3 - len(best)]
        best.sort(key=lambda t: _QUESTION_ORDER.index(t[2].entry.item.field))
        return [(ln, q) for _, _, ln, q in best]
