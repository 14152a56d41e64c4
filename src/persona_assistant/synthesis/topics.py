"""Topicality: is a sentence about the interviewee's work and buying, or something else?

Dropped: small talk (weekends, food, sport), logistics (recording, slides, the chat, lunch),
event plugs and sponsors, a speaker's own pitch ("reach out through my website"), a
note-taker's asides ("He was late ...", "Next steps: ..."), greetings and thanks. The
patterns are data in draft/cues.OFF_TOPIC. A sentence whose content cues for a field are
strong (STRONG or more) stays even when it mentions one of those words ("leads sit
unassigned over the weekend" is a pain), except talk to the audience about the session
(cues.AUDIENCE_LOGISTICS: "pop your questions into the live chat"), which never stays. Answers to a small-talk question are dropped by
statements.py before they get here; answers to a field question are kept regardless,
because the question says what they are about. Contact details (an email address, a
phone number, "reach me at") are dropped everywhere (statements.py asks `is_contact` first).
"""

from __future__ import annotations

import re

from persona_assistant.draft.cues import AUDIENCE_LOGISTICS_RE, OFF_TOPIC_RES

STRONG = 3.0
# Contact details are never a need, whatever else the sentence says.
CONTACT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|\+?\d[\d ()-]{7,}\d|\breach me at\b|\bcall my\b", re.I)


_DIGIT = re.compile(r"\d")


def is_contact(text: str) -> bool:
    # Every CONTACT match needs an @, a digit or one of its two phrases: test those first
    # (the address pattern is slow on long sentences that cannot match it).
    low = text.lower()
    if "@" not in text and "reach me at" not in low and "call my" not in low and not _DIGIT.search(text):
        return False
    return bool(CONTACT.search(text))


def off_topic(text: str, best_field_score: float) -> bool:
    """True when `text` reads as small talk, logistics, a plug or an aside."""
    if is_contact(text) or AUDIENCE_LOGISTICS_RE.search(text):
        return True
    if best_field_score >= STRONG:
        return False
    return any(rx.search(text) for rx in OFF_TOPIC_RES)
