"""The offline engine's copy: assets built from the persona's own items and the brief.

No canned marketing claims: every sentence is either a persona item (a verbatim
interview sentence, quoted) or a brief entry (value proposition, proof point with
its source, call to action), joined by minimal connective templates. Text is cut at
word boundaries to fit the channel's limits, so the result passes its own lint.

Angles (variant 1, 2, 3, ... cycle pain, proof, insight):
  pain     leads with a persona pain (else objection, goal);
  proof    leads with a brief proof point (else a goal);
  insight  leads with a trigger (else goal, pain).
The stage picks the supporting item: awareness a goal, consideration a decision
criterion (else goal), decision an objection answered with the best-matching proof.
Items are rotated by variant and stage so variants differ even when items are few.
Items containing a banned or machine-sounding phrase or a placeholder are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from persona_assistant.messaging.channels import Channel, FieldRule, LintConfig
from persona_assistant.messaging.lint import lint_asset, lint_fields, word_count
from persona_assistant.schemas import (
    ICP, Angle, Asset, Brief, ContentIdea, ItemRef, JourneyMap, JourneyStep, Persona, ProofPoint,
    Stage,
)

ANGLES: tuple[Angle, ...] = ("pain", "proof", "insight")
STAGES: tuple[Stage, ...] = ("awareness", "consideration", "decision")
_FILLER = re.compile(r"^(?:honestly|so|well|yeah|look|basically|i mean|um|uh|and|but)\b[,\s]*", re.I)
# Where a phrase may end, strongest first: a colon, semicolon or dash; then a comma before a lower-case
# word ("days, not weeks", but not a list of names "NetSuite, Sage") or the space before a
# conjunction that opens a clause. Punctuation counts only before a space, so "1,200" stays whole.
_STRONG_BREAK = re.compile(r"[;:](?=\s)|\s[-–—]\s|—")
_WEAK_BREAK = re.compile(r",(?=\s+[a-z])|\s(?=(?:and|but|so|because|before|after|while|which|when|since|"
                         r"until|unless|whereas)\s)")
_WEAK_END = re.compile(r"(?:\s+(?:and|or|the|a|an|to|of|in|for|with|that|our|my|is|are|we|on|at|by))+$", re.I)


def angle_for(variant: int) -> Angle:
    return ANGLES[(variant - 1) % len(ANGLES)]


def asset_id(persona_id: str, channel: str, stage: str, variant: int) -> str:
    return f"{persona_id}/{channel}/{stage}/{variant}"


# --------------------------------------------------------------------------- text fitting


def tidy(text: str) -> str:
    """One line, no leading filler word ("Honestly, ..."), first letter capitalised."""
    text = " ".join(text.split())
    text = _FILLER.sub("", text).strip()
    return text[:1].upper() + text[1:]


def fit_chars(text: str, limit: int, *, ellipsis: bool = True) -> str:
    """`text` within `limit` characters: its longest leading clause that fits and carries most of
    the room ("Close the books in days, not weeks: every ..." -> "Close the books in days, not
    weeks"), which reads as finished; else cut at a word boundary, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    clause = leading_clause(text, limit)
    if clause:
        return clause
    room = limit - (1 if ellipsis else 0)
    cut = text[:room + 1].rsplit(" ", 1)[0] if " " in text[:room + 1] else text[:room]
    cut = _WEAK_END.sub("", cut.rstrip(" ,;:-–—.")).rstrip(" ,;:-–—.")
    cut = cut[:room]
    return cut + ("…" if ellipsis else "")


def leading_clause(text: str, limit: int) -> str | None:
    """The longest start of `text` ending at a clause break within `limit` characters and at least
    40% of it, strong breaks (colon, semicolon, dash) before weak ones; None if there is none."""
    floor = max(12, int(limit * 0.4))
    for pattern in (_STRONG_BREAK, _WEAK_BREAK):
        ends = [m.start() for m in pattern.finditer(text[:limit + 1]) if floor <= m.start() <= limit]
        if ends:
            return _WEAK_END.sub("", text[:ends[-1]].rstrip(" ,;:-–—.")).rstrip(" ,;:-–—.") or None
    return None


def fit_words(text: str, limit: int, *, ellipsis: bool = True) -> str:
    """`text` within `limit` words: a whole leading clause when one fits (as `fit_chars`), else cut."""
    words = text.split()
    if len(words) <= limit:
        return " ".join(words)
    clause = leading_clause(" ".join(words), len(" ".join(words[:limit])))
    if clause:
        return clause
    cut = _WEAK_END.sub("", " ".join(words[:limit]).rstrip(" ,;:-–—.")).rstrip(" ,;:-–—.")
    return cut + ("…" if ellipsis else "")


def sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?…”\"" else text + "."


def quoted(text: str, max_words: int = 40) -> str:
    return f"“{fit_words(tidy(text).rstrip('.'), max_words)}”"


def article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


# --------------------------------------------------------------------------- material


@dataclass(frozen=True)
class Item:
    ref: ItemRef

    @property
    def text(self) -> str:
        return self.ref.text


class Material:
    """The persona items and brief entries usable in copy (clean of banned phrases)."""

    def __init__(self, persona: Persona, brief: Brief, config: LintConfig):
        self.persona = persona
        self.brief = brief
        probe = Channel("probe", "", (FieldRule("t"),))

        def usable(text: str) -> bool:
            text = text.strip()
            if not text or text.lower() == "unknown":
                return False
            found = lint_fields({"t": text}, probe, brief=brief, config=config)
            return not any(f.rule in ("banned_phrase", "ai_phrase", "leftover_placeholder") for f in found)

        self.items: dict[str, list[Item]] = {}
        for fname in ("pains", "goals", "objections", "triggers", "decision_criteria", "motivations"):
            claims = getattr(persona, fname)
            self.items[fname] = [Item(ItemRef(field=fname, index=i, text=c.text))
                                 for i, c in enumerate(claims) if usable(c.text)]
        self.value_props = [v for v in brief.value_propositions if usable(v)]
        self.proofs = [p for p in brief.proof_points if usable(p.claim)]
        self.ctas = [c for c in brief.calls_to_action if usable(c)]
        self.product = brief.product.strip() or "our product"

    def pick(self, fields: tuple[str, ...], turn: int) -> Item | None:
        for fname in fields:
            items = self.items.get(fname) or []
            if items:
                return items[turn % len(items)]
        return None

    def value_prop(self, turn: int) -> str | None:
        return self.value_props[turn % len(self.value_props)] if self.value_props else None

    def proof(self, turn: int) -> ProofPoint | None:
        return self.proofs[turn % len(self.proofs)] if self.proofs else None

    def cta(self, stage: Stage) -> str:
        """Decision-stage copy asks for the first (strongest) CTA; earlier stages for later ones."""
        if not self.ctas:
            return "Reply to book a call."
        return self.ctas[min(len(self.ctas) - 1, 2 - STAGES.index(stage))] if len(self.ctas) > 1 else self.ctas[0]

    def best_proof_for(self, text: str) -> ProofPoint | None:
        """The proof point sharing most content words with `text` (first on ties)."""
        if not self.proofs:
            return None
        words = {w for w in re.findall(r"[a-z]{4,}", text.lower())}
        return max(self.proofs, key=lambda p: len(words & set(re.findall(r"[a-z]{4,}", p.claim.lower()))))


def proof_sentence(p: ProofPoint) -> str:
    claim = sentence(tidy(p.claim))
    return f"{claim[:-1]} ({p.source})." if p.source and claim.endswith(".") else claim


@dataclass
class Draft:
    """What an asset is built from: the lead line, supporting lines and what they cite."""

    lead: str
    lead_short: str  # for subjects, hooks, headlines
    item_short: str | None  # the lead persona item (also under the proof angle), tidied
    value: str | None
    support: str | None
    cta: str
    refs: list[ItemRef]
    proofs: list[str]


LEAD_FIELDS: dict[str, tuple[str, ...]] = {
    "pain": ("pains", "objections", "goals"),
    "proof": ("goals", "pains"),
    "insight": ("triggers", "goals", "pains"),
}
SUPPORT_FIELDS: dict[str, tuple[str, ...]] = {
    "awareness": ("goals", "motivations", "pains"),
    "consideration": ("decision_criteria", "goals", "pains"),
    "decision": ("objections", "decision_criteria", "goals"),
}


def draft(m: Material, angle: Angle, stage: Stage, variant: int) -> Draft:
    turn = (variant - 1) // len(ANGLES) + STAGES.index(stage)
    role = m.persona.role.strip() or "buyer"
    refs: list[ItemRef] = []
    proofs: list[str] = []
    lead_item = m.pick(LEAD_FIELDS[angle], turn)
    proof = m.proof(turn) if angle == "proof" else None
    if proof is not None:
        lead = proof_sentence(proof)
        lead_short = tidy(proof.claim)
        proofs.append(proof.claim)
    elif lead_item is not None:
        intro = {"pain": f"{article(role).capitalize()} {role} we interviewed put it this way:",
                 "proof": f"What {article(role)} {role} told us they want:",
                 "insight": f"What {article(role)} {role} told us started the search:"}[angle]
        lead = f"{intro} {quoted(lead_item.text)}."
        lead_short = tidy(lead_item.text)
        refs.append(lead_item.ref)
    else:
        lead = sentence(tidy(m.value_prop(turn) or m.product))
        lead_short = tidy(m.value_prop(turn) or m.product)
    vp = m.value_prop(turn)
    value = f"How {m.product} helps: {sentence(tidy(vp)[:1].lower() + tidy(vp)[1:])}" if vp else None
    support_item = m.pick(SUPPORT_FIELDS[stage], turn + 1)
    support = None
    if support_item is not None and (lead_item is None or support_item.ref != lead_item.ref or proof is not None):
        refs.append(support_item.ref)
        if support_item.ref.field == "objections":
            answer = m.best_proof_for(support_item.text)
            support = f"A fair concern we hear: {quoted(support_item.text, 25)}."
            if answer is not None:
                support += " " + proof_sentence(answer)
                if answer.claim not in proofs:
                    proofs.append(answer.claim)
        else:
            support = f"Another {role} said: {quoted(support_item.text, 30)}."
    elif angle != "proof" and m.proof(turn) is not None:
        p = m.proof(turn)
        support = proof_sentence(p)
        proofs.append(p.claim)
    if proof is not None and lead_item is not None:
        refs.append(lead_item.ref)  # kept only if the channel uses item_short
    item_short = tidy(lead_item.text) if lead_item is not None else None
    return Draft(lead, lead_short, item_short, value, support, sentence(m.cta(stage)), refs, proofs)


# --------------------------------------------------------------------------- channels


def _compose(parts: list[str | None], optional: list[str | None], *, max_words: int | None,
             max_chars: int | None, sep: str = " ") -> str:
    """Required parts joined, then optional ones added in order while limits hold."""
    chosen = [p for p in parts if p]
    for extra in optional:
        if not extra:
            continue
        trial = chosen[:-1] + [extra] + chosen[-1:]  # keep the closing part (the CTA) last
        text = sep.join(trial)
        if (max_words is None or word_count(text) <= max_words) and (max_chars is None or len(text) <= max_chars):
            chosen = trial
    return sep.join(chosen)


def _email(m: Material, d: Draft, stage: Stage, follow_up: bool) -> dict[str, str | list[str]]:
    subject = fit_chars(d.lead_short, 60 - (len("Following up: ") if follow_up else 0))
    if follow_up:
        subject = "Following up: " + subject
    opening = "Hi {{first_name}}, a quick follow-up on my last note." if follow_up else "Hi {{first_name}},"
    # Paragraphs: each part starts a sentence (and a line), as an email reads.
    role = m.persona.role or "buyer"
    more = [it for f in ("goals", "triggers", "pains", "decision_criteria", "motivations")
            for it in m.items.get(f, []) if it.ref not in d.refs]
    extras = [f"Another {role} said: {quoted(i.text, 30)}." for i in more]
    # Padding for short personas: the brief's other value propositions and proof points.
    extras += [f"Also: {sentence(tidy(v))}" for v in m.value_props if d.value is None or tidy(v)[1:] not in d.value]
    extras += [proof_sentence(p) for p in m.proofs if p.claim not in d.proofs]
    body = _compose([opening, d.lead, d.cta], [d.value, d.support, *extras[:1]], max_words=140, max_chars=None,
                    sep="\n\n")
    if word_count(body) < 50 and extras[1:]:
        body = _compose([opening, d.lead, d.cta], [d.value, d.support, *extras], max_words=140, max_chars=None,
                        sep="\n\n")
    for i in more:
        if quoted(i.text, 30) in body:
            d.refs.append(i.ref)
    for p in m.proofs:
        if proof_sentence(p) in body and p.claim not in d.proofs:
            d.proofs.append(p.claim)
    return {"subject": subject, "body": body}


def _headlines(m: Material, d: Draft, limit: int, count: tuple[int, int]) -> list[str]:
    pool = [m.product, *m.value_props, *m.ctas, d.lead_short, *[p.claim for p in m.proofs],
            m.brief.category, m.persona.role]
    out: list[str] = []
    for text in pool:
        text = fit_chars(tidy(text or ""), limit, ellipsis=False)
        if text and text.lower() not in {o.lower() for o in out}:
            out.append(text)
    return out[:count[1]]


def _generic(m: Material, d: Draft, channel: Channel) -> dict[str, str | list[str]]:
    """Custom channels: every text field gets lead + value (+ CTA), cut to its limits."""
    fields: dict[str, str | list[str]] = {}
    for rule in channel.fields:
        if rule.is_list:
            n = max(rule.min_count or 1, 1)
            limit = rule.max_chars or 90
            items = _headlines(m, d, limit, (n, rule.max_count or n))
            fields[rule.name] = items[:max(n, min(len(items), rule.max_count or n))]
            continue
        closing = d.cta if channel.cta_field == rule.name else None
        text = _compose([d.lead, closing], [d.value, d.support], max_words=rule.max_words,
                        max_chars=rule.max_chars)
        if rule.max_words is not None:
            text = fit_words(text, rule.max_words)
        if rule.max_chars is not None and len(text) > rule.max_chars:
            text = (fit_chars(d.lead_short, rule.max_chars - len(closing) - 1) + " " + closing) if closing \
                and len(closing) < rule.max_chars // 2 else fit_chars(text, rule.max_chars)
        fields[rule.name] = text
    return fields


def channel_fields(m: Material, d: Draft, channel: Channel, stage: Stage) -> dict[str, str | list[str]]:
    role = m.persona.role or "buyer"
    name = channel.name if not channel.custom else ""
    if name in ("cold_email", "follow_up_email"):
        return _email(m, d, stage, follow_up=name == "follow_up_email")
    if name == "linkedin_post":
        hook = fit_chars(d.lead_short, 138)
        rest = [p for p in (d.value, d.support, d.cta) if p]
        return {"post": hook + "\n\n" + "\n\n".join(rest)}
    if name == "linkedin_sponsored":
        head = d.item_short if d.item_short and d.item_short != d.lead_short else (m.value_prop(0) or d.cta)
        return {"intro": fit_chars(d.lead_short, 150), "headline": fit_chars(tidy(head), 70)}
    if name == "google_rsa":
        heads = _headlines(m, d, 30, (3, 15))
        descs = [fit_chars(t, 90, ellipsis=False) for t in
                 [d.lead_short, d.item_short, *(tidy(v) for v in m.value_props),
                  *(proof_sentence(p) for p in m.proofs)] if t]
        return {"headlines": heads, "descriptions": list(dict.fromkeys(descs))[:4]}
    if name == "landing_hero":
        return {"headline": fit_words(tidy(m.value_prop(0) or d.lead_short), 10, ellipsis=False),
                "subheadline": d.lead, "cta": d.cta}
    if name == "call_opener":
        forms = ("{q} Is that true for your team too?", "How are you handling this today: {q}?",
                 "What would change for you if this were solved: {q}?", "Where does this show up for you: {q}?")
        picks: list = []
        for i, fields in enumerate((("pains", "objections"), ("goals",), ("triggers", "decision_criteria"),
                                    ("pains", "goals"))):
            it = m.pick(fields, i + STAGES.index(stage))
            if it is not None and it.ref not in [p.ref for p in picks]:
                picks.append(it)
        questions = [forms[i % len(forms)].format(q=quoted(it.text, 25)) for i, it in enumerate(picks)]
        d.refs.extend(p.ref for p in picks if p.ref not in d.refs)
        opener = f"Hi {{{{first_name}}}}, this is {{{{sender_name}}}} from {m.product}. " \
                 f"A {role} we interviewed said: {quoted(d.lead_short, 20)}."
        return {"opener": opener, "questions": questions}
    if name == "objection_handling":
        d.refs.clear()
        d.proofs.clear()
        responses = []
        for i, c in enumerate(m.persona.objections):
            proof = m.best_proof_for(c.text)
            answer = proof_sentence(proof) if proof else "unknown: the brief has no proof point for this yet."
            responses.append(f"{quoted(c.text, 30)} {answer}")
            d.refs.append(ItemRef(field="objections", index=i, text=c.text))
            if proof and proof.claim not in d.proofs:
                d.proofs.append(proof.claim)
        return {"responses": responses}
    return _generic(m, d, channel)


def offline_asset(persona: Persona, channel: Channel, stage: Stage, variant: int, *, brief: Brief,
                  config: LintConfig, known: str) -> Asset:
    """One asset by the offline engine, linted."""
    m = Material(persona, brief, config)
    angle = angle_for(variant)
    d = draft(m, angle, stage, variant)
    fields = channel_fields(m, d, channel, stage)
    # Record only what the copy really uses: an item or proof point whose text is in it.
    flat = " ".join(" ".join(v) if isinstance(v, list) else v for v in fields.values())
    seen: list[ItemRef] = []
    for r in d.refs:
        if r not in seen and fit_words(tidy(r.text), 4, ellipsis=False) in flat:
            seen.append(r)
    d.proofs = [p for p in d.proofs if fit_words(tidy(p), 4, ellipsis=False) in flat]
    asset = Asset(id=asset_id(persona.id, channel.name, stage, variant), persona_id=persona.id,
                  channel=channel.name, stage=stage, variant=variant, angle=angle, fields=fields,
                  addresses=seen, proof_points=list(dict.fromkeys(d.proofs)), engine="offline")
    return lint_asset(asset, channel, brief=brief, config=config, known=known, persona=persona)


# --------------------------------------------------------------------------- planning outputs


STAGE_CHANNEL = {"awareness": "linkedin_post", "consideration": "cold_email", "decision": "call_opener"}
FORMATS = ("industry report", "case study", "white paper", "webinar", "checklist")


def journey_map(persona: Persona, brief: Brief, config: LintConfig, channels: list[str] | None = None) -> JourneyMap:
    """Awareness -> consideration -> decision from the persona's own pains, goals and objections."""
    m = Material(persona, brief, config)
    steps: list[JourneyStep] = []
    plan = (("awareness", ("pains", "triggers"), "Is this worth fixing now: {q}?"),
            ("consideration", ("goals", "decision_criteria"), "Can a tool get us there: {q}?"),
            ("decision", ("objections", "decision_criteria"), "What about this risk: {q}?"))
    for i, (stage, fields, form) in enumerate(plan):
        item = m.pick(fields, 0)
        question = form.format(q=quoted(item.text, 25)) if item else "unknown"
        proof = m.best_proof_for(item.text) if item else m.proof(0)
        vp = m.value_prop(i)
        if stage == "consideration" and proof:
            content, message = f"case study: {proof.source or proof.claim}", proof_sentence(proof)
        elif stage == "decision":
            content = "objection handling and an implementation plan"
            message = proof_sentence(proof) if proof else (sentence(vp) if vp else "unknown")
        else:
            content = f"{FORMATS[0]} on {fit_words(tidy(item.text), 12) if item else brief.category or 'the problem'}"
            message = sentence(tidy(vp)) if vp else "unknown"
        channel = STAGE_CHANNEL[stage]
        if channels and channel not in channels:
            channel = next((c for c in channels if c not in ("content_ideas", "journey")), channel)
        steps.append(JourneyStep(stage=stage, question=question, content=content, message=message,
                                 channel=channel, addresses=[item.ref] if item else []))
    return JourneyMap(persona_id=persona.id, steps=steps)


def content_ideas(icp: ICP | None, personas: list[Persona], brief: Brief, config: LintConfig) -> list[ContentIdea]:
    """One idea per ICP challenge/goal (else per persona pain), formats and value props cycling."""
    topics: list[tuple[str, ItemRef]] = []
    if icp is not None:
        for fname in ("challenges", "goals"):
            for i, c in enumerate(getattr(icp, fname)):
                if c.text.strip() and c.text.lower() != "unknown":
                    topics.append((c.text, ItemRef(field=fname, index=i, text=c.text)))
    if not topics:
        for p in personas:
            m = Material(p, brief, config)
            topics += [(it.text, it.ref) for it in m.items["pains"][:2]]
    vps = Material(personas[0], brief, config).value_props if personas else brief.value_propositions
    ideas = []
    for i, (text, ref) in enumerate(topics[:6]):
        angle = tidy(vps[i % len(vps)]) if vps else "unknown"
        ideas.append(ContentIdea(icp_id=icp.id if icp else None, format=FORMATS[i % len(FORMATS)],
                                 topic=fit_words(tidy(text.removeprefix("From interviews:")), 20), angle=angle,
                                 addresses=[ref]))
    return ideas
