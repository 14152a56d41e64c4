"""The offline engine's copy, written from the persona's message map.

Every sentence is one of: an insight (a persona item in the company's voice, addressed to the
reader, never an interviewee's words: see phrasing.insight), the value proposition the map
pairs with it, said by the product ("Closewise helps you ..."; voice.value_sentence), the proof
point that backs it in the company's voice with its source, or the stage's call to action, asked.
Pain and answer meet in one sentence ("If you want to get to a six-day close, Closewise helps you
close the books in days, not weeks.") or in a question and its answer.

Angles (variant 1, 2, 3, ... cycle pain, proof, insight): pain leads with the reader's question;
proof with the evidence; insight with the situation. Each (stage, variant) is a slot; headlines and
subjects are given out per persona slot by slot from whole phrases (phrasing.head), so a reader
never sees one twice (Writer.assign, quality.repetition_findings). Where the engine has no good copy
(no item it can say in its own words, no whole headline left, too little to fill an email, too few
whole headlines for another distinct set, fewer than three discovery questions) the asset is
`map_only`: no fields, a note saying why, and the map entries it would have used. An asset that
fails lint is rewritten from the next lines of the map (MAX_REWRITES times); what still fails is
kept with its findings, and `campaign` reports it and exits 1.
"""
from __future__ import annotations

from persona_assistant.messaging.attribution import QuotePolicy
from persona_assistant.messaging.channels import Channel, LintConfig
from persona_assistant.messaging.lint import errors, lint_asset, word_count
from persona_assistant.messaging.quality import carried
from persona_assistant.messaging.message_map import cta_weight, stage_entries
from persona_assistant.messaging.phrasing import bare, fit_chars, fit_words, lower_first, sentence, tidy
from persona_assistant.messaging.voice import cta_sentence, proof_sentence, value_sentence
from persona_assistant.messaging.ads import SearchAds
from persona_assistant.messaging.sales_copy import SalesCopy
from persona_assistant.messaging.writer import ANGLES, STAGES, Line, angle_for, slot_of
from persona_assistant.schemas import Asset, Brief, ItemRef, MessageMap, Persona, Stage

MAX_REWRITES = 2  # offline rewrites of an asset that fails lint
SIGN_OFF = "Best,\n{{sender_name}}"
__all__ = ["ANGLES", "STAGES", "angle_for", "asset_id", "offline_asset", "fit_chars", "fit_words"]


def asset_id(persona_id: str, channel: str, stage: str, variant: int) -> str:
    return f"{persona_id}/{channel}/{stage}/{variant}"


class ChannelWriter(SearchAds, SalesCopy):
    """The channel forms, each from the Writer's choices: a dict of fields, or why there is no good copy.
    Search ads are in `ads`, objection handling and call openers in `sales_copy`."""

    def email(self, stage: Stage, variant: int, follow_up: bool, min_words: int = 0) -> dict | str:
        shift = 1 if follow_up else 0
        form = slot_of(stage, variant) + shift
        subject = self.phrase(stage, variant, 60, shift=shift)
        if subject is None:
            return "no whole subject line left for this slot"
        line = subject[1] or self.lead(stage, variant, shift)  # the body is about what the subject says
        if line is None:
            return "no persona item the engine can say in its own words"
        self.use(line, subject[0])
        value = value_sentence(line.entry.value_proposition, self.product, form) if line.entry.value_proposition \
            else None
        stated = self.backing(subject[0])
        if stated is None and line.proof is None:  # no proof for the item: one that backs its answer
            stated = self.backer(line.entry.value_proposition)
        proof = proof_sentence(stated) if stated is not None and stated != line.proof else self.proof_line(line)
        if line.proof_answers:  # the answer states the item's proof: the second sentence is the promise
            proof = proof_sentence(stated) if stated is not None and stated != line.proof else value
        # One idea per email (one pain, its answer, the proof that backs it, one ask), in one skeleton per
        # angle so a persona's emails do not all read alike: question-led (the reader's question and the
        # answer, then the figure), proof-led (the question and the figure, then how), situation-led (pain
        # and answer in one sentence, then the figure). A follow-up says why it writes again.
        angle = angle_for(variant)
        question = line.insight.headline_question() if line.entry.item.field != "objections" else None
        asked = question if question and question != subject[0] else None
        if angle == "proof" and proof and asked and value:
            paras = [self.use(line, f"{asked} {proof}"), value]
        elif angle == "pain" and asked and value:
            paras = [self.use(line, f"{asked} {value}"), proof]
        else:
            paras = [self.answer(line, form), proof]
        if not follow_up:
            opening = "Hi {{first_name}},"
        elif angle == "proof" and proof and not line.proof_answers:
            opening = "Hi {{first_name}}, one number I didn't share last time."
            paras = [proof, self.answer(line, form)]
        elif angle == "pain" and asked and value:  # the question it promises opens the next paragraph
            opening = "Hi {{first_name}}, a quick follow-up with one question."
        else:
            opening = "Hi {{first_name}}, one more thought since my last note."
        body = [opening, *dict.fromkeys(p for p in paras if p), cta_sentence(self.cta(stage), variant - 1), SIGN_OFF]
        if word_count("\n\n".join(body)) < min_words:  # too short: a second pain, as a P.S. (the idea stays one)
            other = self.support(stage, line)
            other_q = other.insight.headline_question() if other and other.entry.item.field != "objections" else None
            other_v = other and other.entry.value_proposition and value_sentence(
                other.entry.value_proposition, self.product, form + 1)
            second = f"{other_q} {other_v}" if other_q and other_v else other.opener(self.product, form + 1) \
                if other else None
            if second and word_count("\n\n".join([*body, second])) <= 150:  # (and only then is it used)
                body.append(f"P.S. {self.use(other, second)}")
        if word_count("\n\n".join(body)) < min_words:  # a short note: the ask says why, in the reader's terms
            body[body.index(SIGN_OFF) - 1] = f"If that sounds familiar, {lower_first(body[body.index(SIGN_OFF) - 1])}"
        if word_count("\n\n".join(body)) < min_words:
            return f"too little the brief answers clearly for a {min_words}-word email"
        return {"subject": subject[0], "body": "\n\n".join(body)}

    def linkedin_post(self, stage: Stage, variant: int) -> dict | str:
        """An organic post: a hook (the insight as a statement; for the pain angle, its question), the
        answer and its proof; the proof angle opens with the proof and puts pain and answer in one
        sentence. It ends by asking readers (the discovery question, where the hook did not ask it),
        or by offering the stage's content (a checklist, a benchmark: "Want the labour-cost benchmark?"),
        never with a sales ask: a marketer reads "Book a demo" under an organic post as an ad. An
        objection is never the hook: a post does not raise a doubt it then leaves standing."""
        angle, form = angle_for(variant), slot_of(stage, variant)
        cta = self.cta(stage)
        offer = cta_sentence(cta, form) if cta and cta_weight(cta) == 0 else None
        pool = self.leads(stage, angle)
        if not pool:
            return "no persona item the engine can say in its own words"
        start = ((variant - 1) // len(ANGLES) + (1 if angle == "insight" else 0) + self.turn) % len(pool)
        for line in pool[start:] + pool[:start]:  # the lead (not the pain angle's line again), else the next
            post = self._post(line, angle, form)
            if post:
                return {"post": f"{post}\n\n{offer}" if offer and not post.endswith("?") else post}
        return "no hook within 140 characters"

    def _post(self, line: Line, angle: str, form: int) -> str | None:
        objection = line.entry.item.field == "objections"
        asked = line.insight.headline_question() if not objection else None
        # a situation ("For many HR Directors, shift swaps happen in text messages.") is stated and then
        # asked about; what the reader does ("you rebuild the rota by hand") is asked
        stated = angle != "pain" and not line.insight.personal and not objection
        said = line.insight.statement(self.audience) if stated else asked
        ask = line.insight.question() if stated else None
        vp = line.entry.value_proposition
        backer = None if line.proof or not vp else self.backer(vp)
        proof = None if line.proof_answers else self.proof_line(line) or (proof_sentence(backer) if backer else None)
        answer = line.opener(self.product, form)  # pain and answer in one sentence (the proof, if it answers)
        if angle == "proof" and proof and len(proof) <= 140 and not line.proof_answers:  # (else the answer says it)
            parts = [proof, self.use(line, answer), ask]
        elif said and len(said) <= 140:
            parts = [self.use(line, said), value_sentence(vp, self.product, form) if vp else answer, proof, ask]
        elif answer and len(answer) <= 140:  # an objection: met with its answer, never left as a question
            parts = [self.use(line, answer), proof]
        elif proof and len(proof) <= 140 and not line.proof_answers:
            parts = [proof, self.use(line, answer), ask]
        else:
            return None
        return "\n\n".join(p for p in parts if p)

    def sponsored(self, stage: Stage, variant: int) -> dict | str:
        headline = self.phrase(stage, variant, 70, payoff=True)
        if headline is None:
            return "no whole headline left for this slot"
        pool = self.leads(stage, angle_for(variant))
        start = (variant - 1) // len(ANGLES) + self.turn
        pool = ([headline[1]] if headline[1] else []) + pool[start:] + pool[:start]  # the intro sets up the headline
        form = slot_of(stage, variant)

        def evidence(ln: Line) -> str | None:  # the proof angle: the reader's question and the evidence
            q = ln.insight.headline_question() if ln.entry.item.field != "objections" else None
            text = f"{q} {proof_sentence(ln.proof)}" if q and ln.proof and not ln.proof_answers else None
            named = text and self.product.lower() in f"{text} {headline[0]}".lower()  # the ad names the product
            return text if named and len(text) <= 150 and self.backing(headline[0]) is None else None
        make = (lambda ln: evidence(ln) or ln.opener(self.product, form, limit=150)) if angle_for(variant) == "proof" \
            else (lambda ln: ln.opener(self.product, form, limit=150))
        intro = self.fitting(pool, make)
        if intro is None:
            return "no pain-and-answer sentence within 150 characters"
        return {"intro": intro, "headline": headline[0]}

    def landing(self, stage: Stage, variant: int) -> dict | str:
        headline = self.phrase(stage, variant, 70, words=10, payoff=True)
        line = headline[1] or self.lead(stage, variant) if headline else None
        if line is None or headline is None:
            return "no persona item or whole headline left for this slot"
        stated = self.backing(headline[0])
        proof = None if line.proof_answers else proof_sentence(stated) if stated else self.proof_line(line)
        # the subheadline says how, not "If ...": under a question, the answer; under the answer's own head,
        # the reader's situation and then the answer in full
        vp, form = line.entry.value_proposition, slot_of(stage, variant)
        asked = line.insight.headline_question() if line.insight.personal else None  # "You want to ..." is asked
        said = self.use(line, asked if asked and asked != headline[0] else line.insight.statement(self.audience))
        if not vp:
            lead = [self.answer(line, form)]
        elif tidy(vp).lower().startswith(headline[0].lower().rstrip("?")):
            rest = bare(tidy(vp))[len(headline[0]):].lstrip(" :;,–—-")
            # the headline is the promise; under it the reader's situation and how ("With Rosterly: demand
            # forecasts, availability and labour rules in one schedule."), not the promise again
            lead = [said, sentence(f"With {self.product}: {rest}") if len(rest.split()) >= 3 and ": " in vp
                    else value_sentence(vp, self.product, form)]
        else:
            lead = [value_sentence(vp, self.product, form)]
        if not carried(headline[0], " ".join(p for p in (*lead, proof) if p)):
            lead = [self.answer(line, form)]  # the answer alone does not say what the headline asks: both
        sub = " ".join(p for p in (*lead, proof) if p)
        return {"headline": headline[0], "subheadline": sub, "cta": bare(self.cta(stage)) or "Reply to book a call"}

    def generic(self, channel: Channel, stage: Stage, variant: int) -> dict | str:
        line = self.lead(stage, variant)
        if line is None:
            return "no persona item the engine can say in its own words"
        fields: dict[str, str | list[str]] = {}
        for rule in channel.fields:
            if rule.is_list:
                items = self.line_prefs(line, angle_for(variant), rule.max_chars or 90, rule.max_words)
                fields[rule.name] = list(dict.fromkeys(items))[:max(rule.min_count or 1, min(rule.max_count or 3, 5))]
                continue
            cta = bare(self.cta(stage)) if channel.cta_field == rule.name else ""
            limit = (rule.max_chars or 10_000) - (len(cta) + 2 if cta else 0)
            text = self.answer(line, slot_of(stage, variant), limit) or ""
            if rule.max_words is not None and word_count(text) + word_count(cta) > rule.max_words:
                text = ""
            fields[rule.name] = " ".join(p for p in (text, sentence(cta) if cta else "") if p)
        return fields


def offline_asset(persona: Persona, channel: Channel, stage: Stage, variant: int, *, brief: Brief,
                  config: LintConfig, known: str, mmap: MessageMap | None = None,
                  quotes: QuotePolicy | None = None) -> Asset:
    """One asset by the offline engine, linted; map-only (with a note) when it has no good copy.
    An asset failing lint is rewritten from the next lines of the map, at most MAX_REWRITES times;
    what still fails is kept with its findings (the campaign reports it)."""
    first: Asset | None = None
    for turn in range(MAX_REWRITES + 1):
        asset = _write(persona, channel, stage, variant, turn, brief=brief, config=config, known=known,
                       mmap=mmap, quotes=quotes)
        if not errors(asset.lint):
            return asset
        first = first or asset
    assert first is not None
    return first


def _write(persona: Persona, channel: Channel, stage: Stage, variant: int, turn: int, *, brief: Brief,
           config: LintConfig, known: str, mmap: MessageMap | None, quotes: QuotePolicy | None) -> Asset:
    w = ChannelWriter(persona, brief, config, mmap)
    w.turn = turn
    w.rotation = slot_of(stage, variant) + len(channel.name)  # proof points take turns across slots and channels
    builtin = "" if channel.custom else channel.name
    body_min = (channel.rule("body").min_words or 0) if channel.rule("body") else 0
    written = "the brief has no value propositions or calls to action to write from" if not (w.vps and w.ctas) \
        else {
            "cold_email": lambda: w.email(stage, variant, follow_up=False, min_words=body_min),
            "follow_up_email": lambda: w.email(stage, variant, follow_up=True, min_words=body_min),
            "linkedin_post": lambda: w.linkedin_post(stage, variant),
            "linkedin_sponsored": lambda: w.sponsored(stage, variant),
            "google_rsa": lambda: w.rsa(stage, variant),
            "landing_hero": lambda: w.landing(stage, variant),
            "call_opener": lambda: w.call_opener(stage, variant),
            "objection_handling": lambda: w.objections(stage, variant),
        }.get(builtin, lambda: w.generic(channel, stage, variant))()
    lead = w.lead(stage, variant)
    base = dict(id=asset_id(persona.id, channel.name, stage, variant), persona_id=persona.id, channel=channel.name,
                stage=stage, variant=variant, angle=angle_for(variant), engine="offline")
    if isinstance(written, str):
        entries = [e.id for e in stage_entries(w.mmap, stage)][:3]
        asset = Asset(**base, fields={}, map_only=True, map_entries=entries,
                      addresses=[e.item for e in w.mmap.entries if e.id in entries],
                      note=f"offline engine: {written}; the message map entries {', '.join(entries) or '(none)'} "
                           "stand in for this asset")
        return lint_asset(asset, channel, brief=brief, config=config, known=known, persona=persona, quotes=quotes)
    refs = [ln.entry.item for ln in w.used]
    if builtin == "objection_handling":
        refs = [ItemRef(field="objections", index=i, text=persona.objections[i].text) for i in w.answered]
    flat = " ".join(" ".join(v) if isinstance(v, list) else v for v in written.values())
    proofs = [p.claim for p in w.proofs if bare(tidy(p.claim))[:40].lower() in flat.lower()]
    entries = list(dict.fromkeys([ln.entry.id for ln in w.used] + ([lead.entry.id] if lead else [])))
    asset = Asset(**base, fields=written, addresses=list({(r.field, r.index): r for r in refs}.values()),
                  proof_points=proofs, map_entries=entries,
                  note=f"offline engine: {'; '.join(w.gaps)}" if w.gaps else "")
    return lint_asset(asset, channel, brief=brief, config=config, known=known, persona=persona, quotes=quotes)
