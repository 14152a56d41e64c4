"""Who is who in an interview: the host(s) and the interviewees, each interviewee a person.

Only interviewees' words become evidence; the host's questions are kept as context (the
question an answer responds to decides its field). Decided per source, in this order:

1. Field labels used as speaker labels (`Pain: "..."`, `Goal: ...`) are not people: their
   lines belong to the note's interviewee, with that field (see statements.py).
2. Labels meaning "the person asking" (Q, Interviewer, Host, Moderator, Researcher ...)
   and names given as `interviewer:` in the front matter are hosts.
3. Otherwise, among named speakers, the host is found by evidence: the share of their
   turns that ask a question and the share that welcome, thank, introduce others or
   announce logistics (recording, slides, the chat, events, sponsors). A speaker is a host
   when that score is at least HOST_MIN and clearly above everyone else's.
4. Interviewees are `interviewees:` from the front matter, A/Answer labels, and every
   other named speaker who says at least MIN_SHARE of what the main one says: a panel
   gives several people. A note without any speaker label (bullets, a written summary)
   is one person: the note-taker's account of the interviewee, quotable verbatim.
5. Unlabelled prose in a source that HAS labelled interviewee speech (a third-person call
   note's "<Name> is the ... lead at ...", a transcript's unlabelled opening) is the
   note-taker's or host's: it can give a role, never evidence.

Each source gets a `Cast` with a one-line reason naming who was taken as host and why;
the persona draft's notes repeat it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from persona_assistant.ingest.notes import INTERVIEWEE_LABELS, INTERVIEWER_LABELS, Source, Turn

HOST_MIN = 0.6
HOST_MARGIN = 0.35
MIN_SHARE = 0.2
# A speaker label that is a persona field, not a person (third-person call notes).
FIELD_LABELS: dict[str, str] = {
    "pain": "pains", "pains": "pains", "problem": "pains", "challenge": "pains", "challenges": "pains",
    "frustration": "pains", "goal": "goals", "goals": "goals", "wants": "goals", "want": "goals",
    "objective": "goals", "objection": "objections", "objections": "objections", "concern": "objections",
    "concerns": "objections", "risk": "objections", "worry": "objections", "trigger": "triggers",
    "triggers": "triggers", "why now": "triggers", "criteria": "decision_criteria",
    "criterion": "decision_criteria", "decision criteria": "decision_criteria",
    "requirement": "decision_criteria", "requirements": "decision_criteria", "must have": "decision_criteria",
    "channel": "channels", "channels": "channels", "sources": "channels", "metric": "success_metrics",
    "metrics": "success_metrics", "success": "success_metrics", "kpi": "success_metrics",
    "kpis": "success_metrics", "motivation": "motivations", "motivations": "motivations",
    "why": "motivations", "day in the life": "day_in_life", "day": "day_in_life", "routine": "day_in_life",
}
_HOST_TALK = re.compile(
    r"\b(?:welcome|thanks? (?:you )?(?:so much |all |everyone |again )?for (?:joining|coming|having|making|taking)|"
    r"thank you (?:all|everyone|so much)|thanks,? everyone|housekeeping|being recorded|we'?re recording|"
    r"the recording|recording (?:goes|will|stays)|slides|in the chat|q&a (?:box|panel)|upvote|questions? (?:box|in)|"
    r"introduce (?:yourselves|yourself|the panel)|let'?s (?:get into|go down|start with|dive in|get started)|"
    r"our (?:guest|panel|next|sponsor)|with us today|we have \w+ with us|next (?:episode|session|month|week)|"
    r"see you (?:next|there)|before we (?:wrap|go|start|open)|sign up|call for (?:proposals|papers)|"
    r"submit a talk|early bird|tickets|register|networking|grab a coffee|we'?re hiring|giving away)\b", re.I)
_QUESTION = re.compile(r"\?\s*(?:\*\*)?\s*$|\?\s")


@dataclass(eq=False)  # identity: comparing two people field by field would compare whole files
class Person:
    """One interviewee in one source: whose turns (speaker labels) are theirs."""

    key: str  # the source id, or "<source id>@<name>" when a source has several interviewees
    name: str | None
    source: Source
    labels: frozenset[str | None]  # speaker labels whose words are this person's
    role: str | None = None
    role_line: int | None = None
    role_text: str | None = None  # the sentence or front-matter line that gave the role
    company: str | None = None
    facts: dict[str, tuple[str, int, str]] = field(default_factory=dict)  # key -> (value, line, text)


@dataclass(eq=False)
class Cast:
    source: Source
    hosts: list[str]
    host_reason: str
    people: list[Person]
    field_labels: dict[str, str]  # speaker label -> persona field


def _names(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in re.split(r"[;,]| and ", value) if v.strip()]
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def _same_person(label: str, name: str) -> bool:
    a, b = label.lower().split(), name.lower().split()
    return bool(a and b) and (a == b or a[0] == b[0])


def host_scores(turns: list[Turn], speakers: set[str]) -> dict[str, tuple[float, int, int, int]]:
    """speaker -> (score, turns, turns asking, turns doing host talk)."""
    count, asks, hosting = Counter(), Counter(), Counter()
    for t in turns:
        if t.speaker in speakers:
            count[t.speaker] += 1
            asks[t.speaker] += bool(_QUESTION.search(t.text))
            hosting[t.speaker] += bool(_HOST_TALK.search(t.text))
    return {s: ((asks[s] + hosting[s]) / count[s], count[s], asks[s], hosting[s]) for s in speakers if count[s]}


def cast(src: Source) -> Cast:
    """Hosts and interviewees of one source (see the module docstring)."""
    labels = [t.speaker for t in src.turns]
    named = {s for s in labels if s is not None}
    field_labels = {s: FIELD_LABELS[s.lower()] for s in named if s.lower() in FIELD_LABELS}
    named -= set(field_labels)
    fm_hosts = _names(src.extra.get("interviewer") or src.extra.get("interviewers") or src.extra.get("host"))
    fm_people = _names(src.extra.get("interviewees") or src.extra.get("interviewee"))
    hosts = {s for s in named if s.lower() in INTERVIEWER_LABELS}
    reason = ""
    if hosts:
        reason = f"labelled {', '.join(sorted(hosts))}"
    by_fm = {s for s in named if any(_same_person(s, h) for h in fm_hosts)}
    if by_fm:
        hosts |= by_fm
        reason = (reason + "; " if reason else "") + "named as interviewer in the front matter"
    rest = named - hosts - {s for s in named if s.lower() in INTERVIEWEE_LABELS}
    rest -= {s for s in rest if any(_same_person(s, p) for p in fm_people)}
    if not hosts and len(named) >= 2 and rest:
        scores = host_scores(src.turns, rest)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1][0], kv[0]))
        top, (score, n, asks, hosting) = ranked[0]
        runner = ranked[1][1][0] if len(ranked) > 1 else 0.0
        if score >= HOST_MIN and score - runner >= HOST_MARGIN:
            hosts.add(top)
            reason = (f"{top} asked questions in {asks} of {n} turns and welcomed, thanked or announced "
                      f"logistics in {hosting}")
    words = Counter()
    for t in src.turns:
        if t.speaker in named and t.speaker not in hosts:
            words[t.speaker] += len(t.text.split())
    people: list[Person] = []
    if words:
        top_words = max(words.values())
        chosen = sorted((s for s, w in words.items()
                         if w >= MIN_SHARE * top_words or any(_same_person(s, p) for p in fm_people)),
                        key=lambda s: next(i for i, t in enumerate(src.turns) if t.speaker == s))
        generic = [s for s in chosen if s.lower() in INTERVIEWEE_LABELS]
        real = [s for s in chosen if s.lower() not in INTERVIEWEE_LABELS]
        if generic or len(real) <= 1:
            # One interviewee: A/Answer lines, the one named speaker, and field-labelled lines.
            name = (src.meta.get("name") or (fm_people[0] if len(fm_people) == 1 else None)
                    or (real[0] if real else None))
            people.append(Person(src.id, name, src, frozenset([*chosen, *field_labels])))
        else:
            for s in real:
                full = next((p for p in fm_people if _same_person(s, p)), s)
                extra = field_labels if s == real[0] else {}
                people.append(Person(f"{src.id}@{full}", full, src, frozenset([s, *extra])))
    elif None in labels or field_labels:
        # A written note without speakers: the note-taker's account of one interviewee.
        name = src.meta.get("name") or (fm_people[0] if fm_people else None)
        people.append(Person(src.id, name, src, frozenset([None, *field_labels])))
    if not reason:
        reason = "no host speech found" if not hosts else "by evidence"
    return Cast(src, sorted(hosts), reason, people, field_labels)


def interviewee_lines(c: Cast) -> frozenset[int]:
    """File lines of the interviewees' turns: where evidence may come from, in either engine."""
    labels = {label for p in c.people for label in p.labels}
    src = c.source
    return frozenset(n for t in src.turns if t.speaker in labels and not src.is_excluded(t.line_start)
                     for n in range(t.line_start, t.line_end + 1))
