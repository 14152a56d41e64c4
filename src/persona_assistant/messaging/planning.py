"""Planning outputs, made offline from the data: a journey map per persona and content ideas
per ICP. Not copy assets (no variants, no channel limits); written from the same message map
and in the same voice as the copy: insights, never an interviewee's words in quotation marks."""

from __future__ import annotations

from persona_assistant.messaging.message_map import build_message_map, stage_entries
from persona_assistant.messaging.phrasing import bare, fit_words, insight, sentence, tidy, upper_first
from persona_assistant.messaging.voice import proof_sentence
from persona_assistant.schemas import ICP, Brief, ContentIdea, ItemRef, JourneyMap, JourneyStep, Persona

STAGE_CHANNEL = {"awareness": "linkedin_post", "consideration": "cold_email", "decision": "call_opener"}
FORMATS = ("industry report", "case study", "white paper", "webinar", "checklist")
_FORMS = {"awareness": "Is this worth fixing now: {q}?", "consideration": "Can a tool get us there: {q}?",
          "decision": "What about this risk: {q}?"}


def journey_map(persona: Persona, brief: Brief, channels: list[str] | None = None) -> JourneyMap:
    """Awareness -> consideration -> decision from the persona's message map."""
    mmap = build_message_map(persona, brief)
    steps: list[JourneyStep] = []
    for stage in ("awareness", "consideration", "decision"):
        entries = stage_entries(mmap, stage)
        entry = next((e for e in entries if insight(e.item.text) is not None), entries[0] if entries else None)
        found = insight(entry.item.text) if entry else None
        question = _FORMS[stage].format(q=bare(found.clause)) if found else "unknown"
        proof = brief.proof_points[entry.proof_index] if entry and entry.proof_index is not None else None
        if stage == "consideration" and proof is not None:
            content, message = f"case study: {proof.source or proof.claim}", proof_sentence(proof)
        elif stage == "decision":
            content = "objection handling and an implementation plan"
            message = proof_sentence(proof) if proof else (sentence(entry.value_proposition)
                                                           if entry and entry.value_proposition else "unknown")
        else:
            topic = bare(found.clause) if found else brief.category or "the problem"
            content = f"{FORMATS[0]} on {topic}"
            message = sentence(tidy(entry.value_proposition)) if entry and entry.value_proposition else "unknown"
        channel = STAGE_CHANNEL[stage]
        if channels and channel not in channels:
            channel = next((c for c in channels if c not in ("content_ideas", "journey")), channel)
        steps.append(JourneyStep(stage=stage, question=question, content=content, message=message,
                                 channel=channel, addresses=[entry.item] if entry else []))
    return JourneyMap(persona_id=persona.id, steps=steps)


def content_ideas(icp: ICP | None, personas: list[Persona], brief: Brief) -> list[ContentIdea]:
    """One idea per ICP challenge/goal (else per persona pain), formats and value props cycling."""
    topics: list[tuple[str, ItemRef]] = []
    if icp is not None:
        for fname in ("challenges", "goals"):
            for i, c in enumerate(getattr(icp, fname)):
                if c.text.strip() and c.text.lower() != "unknown":
                    topics.append((c.text, ItemRef(field=fname, index=i, text=c.text)))
    if not topics:
        for p in personas:
            topics += [(c.text, ItemRef(field="pains", index=i, text=c.text))
                       for i, c in enumerate(p.pains[:2]) if c.text.strip()]
    vps = [v for v in brief.value_propositions if v.strip()]
    ideas = []
    for i, (text, ref) in enumerate(topics[:6]):
        found = insight(text.removeprefix("From interviews:"))
        topic = upper_first(bare(found.clause)) if found else fit_words(tidy(text.removeprefix("From interviews:")), 20)
        angle = tidy(vps[i % len(vps)]) if vps else "unknown"
        ideas.append(ContentIdea(icp_id=icp.id if icp else None, format=FORMATS[i % len(FORMATS)],
                                 topic=topic, angle=angle,
                                 addresses=[ref]))
    return ideas
