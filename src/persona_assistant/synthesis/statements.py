"""Statements in context: each interviewee sentence with the persona field it informs.

A person's sentences (their own turns only; a written note's text when the note has no
speakers) are read in order with three signals, strongest first:

1. An explicit label: a field label speaking (`Pain: "..."`), a prefix on the line
   (`Wants: ...`, `Where she learns: ...`), a bare label line or bullet above it
   ("Challenges", "- Concerns") or a heading naming a field (cues.SECTION_HINTS). The
   label decides. A note-taker's own section ("Next steps", "Misc", "Who") is never a
   statement.
2. The question it answers: the host's last turn before it (or the last unlabelled turn
   asking something, when the host's words carry no label), read by cues.QUESTION_CUES.
   It weighs QUESTION_FIRST for the first sentence a person says after it, QUESTION_REST
   for the next ones and QUESTION_LATER in later turns, up to QUESTION_REACH sentences of a
   turn (a long monologue drifts from the question), added to:
3. What it says: the content cues (cues.CUES), so "I'd like capacity to shrink back"
   after "what hurts?" is still a goal when the content clearly says so.
A sentence is kept when its best total reaches MIN_TOTAL. Answers to small talk are
dropped, and so are sentences topics.off_topic flags (after a field question, unless the
sentence's own content also speaks to that field);
so is the sentence that gives the person's role (it is profile, not a need), and in an
answer about their role only first-person sentences count (as day in the life).

The quote is the sentence's verbatim text without a leading label and its wrapping
quotation marks, so code can find it at its lines (draft/evidence.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field as dc_field
from itertools import islice

from persona_assistant.draft.cues import ASIDE_RE, QUESTION_RES, SECTION_RES, cue_scores
from persona_assistant.draft.offline import content_words
from persona_assistant.ingest.notes import Sentence, split_sentences
from persona_assistant.synthesis.speakers import FIELD_LABELS, Cast, Person
from persona_assistant.synthesis.topics import STRONG, is_contact, off_topic

FIELDS = ("pains", "goals", "objections", "triggers", "decision_criteria", "channels", "success_metrics",
          "motivations", "day_in_life")
QUESTION_FIRST, QUESTION_REST, QUESTION_LATER = 3.0, 2.0, 1.0
LABEL_WEIGHT = QUESTION_FIRST  # an explicit label says the field at least as surely as the question just asked
QUESTION_REACH = 3  # sentences of an answer the question still speaks for; later ones stand on content
MIN_TOTAL = 2.0
MIN_WORDS = 2
MIN_CONTENT = 2  # content words (draft.offline.content_words): "No, not at the moment." says nothing
MAX_WORDS = 70
_PREFIX = re.compile(r"^(?P<label>[A-Za-z][\w /&'’-]{0,45}?)\s*:\s+(?=\S)")
SHORT_LABEL = 4  # words: a longer prefix is a label only when it names a field (a survey's prompt)
PROMPT_LABEL = 8
_WRAP = re.compile(r"^[\"“](?P<inner>.+?)[\"”](?P<tail>[.,;]?)$")
_FIRST_PERSON = re.compile(r"\b(?:I|we|my|our|me|us)\b|\b(?:I|we)['’]", re.I)


@dataclass
class Statement:
    person: Person
    sentence: Sentence
    text: str  # the verbatim quote
    field: str
    how: str  # label | question | content
    question: str | None = None
    scores: dict[str, float] = dc_field(default_factory=dict)  # its content cues per field
    weight: float = 0.0  # how surely it speaks to its field: content cues + question (or a label)

    @property
    def line_start(self) -> int:
        return self.sentence.line_start

    @property
    def line_end(self) -> int:
        return self.sentence.line_end


def label_field(label: str) -> str | None:
    """The field an explicit label names ("Pain", "Where she learns", "Concerns"), else None."""
    low = label.strip().strip("*_").lower()
    if low in FIELD_LABELS:
        return FIELD_LABELS[low]
    if len(low.split()) >= 2:
        # A survey's prompt ("What triggered the search", "Biggest headache before") is a
        # question put to the respondent: read it as one, before its loose heading words.
        kind, _ = question_kind(low)
        if kind in FIELDS:
            return kind
    for fld, rx in SECTION_RES.items():
        if fld in FIELDS and rx.search(low):
            return fld
    return None


def question_kind(text: str | None) -> tuple[str | None, bool]:
    """What a host's turn asks (a field, "role", "smalltalk", or None), and whether it asks at all.

    A turn with a question is read by its last question only: a long host turn's remarks
    ("... signals for metrics and logs aren't mature yet? Is that the reason?") do not decide.
    A statement-prompt without a question ("That sounds painful.") is read whole, and its
    kind counts for a sentence only when the sentence's own content speaks to it too
    (person_statements): a remark invites an answer less surely than a question."""
    if not text:
        return None, False
    asks = [s for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    q = next((s for s in reversed(asks) if s.rstrip().endswith("?")), None)
    for kind, rx in QUESTION_RES:
        if rx.search(q or (asks[-1] if asks else text)):
            return kind, q is not None
    if q is None:
        for kind, rx in QUESTION_RES:
            if rx.search(text) and kind not in ("smalltalk", "role"):
                return kind, False
    return None, q is not None


def content_scores(text: str) -> dict[str, float]:
    return cue_scores(text, FIELDS)


def _unwrap(text: str) -> tuple[str, str | None]:
    """(quote text, label) with a leading `Label:` and wrapping quotation marks removed."""
    label = None
    m = _PREFIX.match(text)
    words = len(m.group("label").split()) if m else 0
    if m and (words <= SHORT_LABEL or (words <= PROMPT_LABEL and label_field(m.group("label")))):
        label, text = m.group("label"), text[m.end():]
    w = _WRAP.match(text.strip())
    if w:
        text = w.group("inner").strip()
    return text.strip(), label


def _is_bare_label(text: str) -> bool:
    bare = text.strip().strip("*_:-").strip()
    return 0 < len(bare.split()) <= 3 and not re.search(r"[.!?\"“”]", bare) and (
        label_field(bare) is not None or bool(ASIDE_RE.match(bare)))


def person_statements(c: Cast, person: Person) -> list[Statement]:
    """Every kept statement of one interviewee, in file order."""
    src = c.source
    hosts = set(c.hosts)
    out: list[Statement] = []
    question: str | None = None
    answered: set[tuple[str | None, str]] = set()
    section_label: str | None = None
    for turn in src.turns:
        if turn.speaker in hosts or (turn.speaker is None and None not in person.labels and "?" in turn.text):
            # A host's turn, or an unlabelled question in a transcript whose host has no label.
            question, section_label = turn.text, None
            continue
        if turn.speaker not in person.labels or src.is_excluded(turn.line_start):
            continue
        kind, asked = question_kind(question)
        if kind == "smalltalk":
            continue
        explicit = c.field_labels.get(turn.speaker) if turn.speaker else None
        seen = 0  # sentences of this turn long enough to count
        for sent in split_sentences(turn, src):
            raw = sent.text
            if _is_bare_label(raw):
                bare = raw.strip().strip("*_:-").strip()
                section_label = None if ASIDE_RE.match(bare) else label_field(bare)
                if ASIDE_RE.match(bare):
                    section_label = "aside"
                continue
            text, label = _unwrap(raw)
            if label is not None and ASIDE_RE.match(label):
                continue
            labelled = explicit or (label_field(label) if label else None)
            words = len(text.split())
            if is_contact(text) or words < MIN_WORDS or words > MAX_WORDS or text.rstrip().endswith("?") \
                    or len(list(islice(content_words(text), MIN_CONTENT))) < MIN_CONTENT:
                continue
            seen += 1
            if person.role_line is not None and sent.line_start <= person.role_line <= sent.line_end \
                    and person.role_text and (text in person.role_text or person.role_text in raw):
                continue
            heading = src.section_of(sent.line_start)
            fld, how = None, "content"
            if labelled:
                fld, how = labelled, "label"
            elif section_label == "aside":
                continue
            elif section_label:
                fld, how = section_label, "label"
            elif heading and label_field(heading) and kind is None:
                fld, how = label_field(heading), "label"
            scores = content_scores(text)
            weight = scores.get(fld, 0.0) + LABEL_WEIGHT if fld else 0.0
            if fld is None:
                totals = dict(scores)
                if kind in FIELDS:
                    key = (turn.speaker, question or "")
                    weight = (0.0 if seen > QUESTION_REACH or not (asked or scores.get(kind))
                              else QUESTION_LATER if key in answered
                              else QUESTION_FIRST if seen == 1 else QUESTION_REST)
                    totals[kind] = totals.get(kind, 0.0) + weight
                elif kind == "role":
                    if not _FIRST_PERSON.search(text):
                        continue
                    totals["day_in_life"] = totals.get("day_in_life", 0.0) + QUESTION_REST
                if not totals:
                    continue
                # Ties go to the field the question asked for, then to FIELDS order.
                # (A field without a total has 0 and could only win below MIN_TOTAL.)
                fld = max(totals, key=lambda f: (totals[f], f == kind, -FIELDS.index(f)))
                if totals[fld] < MIN_TOTAL:
                    continue
                how = "question" if kind in FIELDS and fld == kind else "content"
                weight = totals[fld]
                # Topicality: without a field question its best content cue must outweigh an
                # off-topic cue; after one, its own content for the field must say something.
                if off_topic(text, max(scores.values(), default=0.0) if kind not in FIELDS
                             else (STRONG if scores.get(fld, 0.0) > 0 else 0.0)):
                    continue
            out.append(Statement(person, sent, text, fld, how, question, scores, weight))
        if kind in FIELDS:
            answered.add((turn.speaker, question or ""))
    return out
