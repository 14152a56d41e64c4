"""One synthesis run: sources in, people, statements, themes and persona groups out.

Shared by both engines: the offline engine turns a `Synthesis` into personas directly
(draft/offline.py); a model may name personas and write summaries, but speakers,
statements, themes, counts and quotes come from here and are verified as quotes.

Steps: speakers.cast (host vs interviewees, per source) -> profile.describe (roles from
prose) -> statements.person_statements (field from label, question and content;
off-topic dropped) -> sentence vectors (embed.py) -> grouping.group_people (role family
and need) -> themes.build_themes per group and field (on demand, `themes_for`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from persona_assistant.ingest.notes import Source
from persona_assistant.synthesis.grouping import Group, group_people
from persona_assistant.synthesis.profile import describe
from persona_assistant.synthesis.speakers import Cast, Person, cast
from persona_assistant.synthesis.statements import Statement, person_statements
from persona_assistant.synthesis.themes import Theme, build_themes


@dataclass
class Synthesis:
    casts: list[Cast]
    people: list[Person]
    statements: list[Statement]
    vectors: np.ndarray  # one row per statement
    groups: list[Group]
    notes: list[str] = field(default_factory=list)

    def themes_for(self, people: list[Person]) -> list[Theme]:
        """Themes of these interviewees' statements, every field, most interviewees first."""
        keys = {p.key for p in people}
        rows = [i for i, s in enumerate(self.statements) if s.person.key in keys]
        return build_themes([self.statements[i] for i in rows], self.vectors[rows])


def host_note(c: Cast) -> str:
    people = ", ".join(p.name or p.key for p in c.people) or "none found"
    if c.hosts:
        return f"{c.source.id}: host {', '.join(c.hosts)} ({c.host_reason}); interviewees: {people}"
    return f"{c.source.id}: no host speech (a written note); interviewee: {people}"


def synthesize(sources: list[Source], *, embedder=None,
               b2c: Callable[[Source], bool] = lambda s: False) -> Synthesis:
    from persona_assistant.synthesis.embed import default_embedder

    casts = [cast(s) for s in sources]
    notes: list[str] = []
    people: list[Person] = []
    statements: list[Statement] = []
    for c in casts:
        describe(c)
        notes.append(host_note(c))
        for p in c.people:
            people.append(p)
            statements.extend(person_statements(c, p))
    emb = embedder or default_embedder()
    vectors = emb.embed([s.text for s in statements]) if statements else np.zeros((0, 1), dtype=np.float32)
    rows_of: dict[str, list[int]] = {}
    for i, s in enumerate(statements):
        rows_of.setdefault(s.person.key, []).append(i)
    centroids: dict[str, np.ndarray] = {}
    for key, rows in rows_of.items():
        v = vectors[rows].mean(axis=0)
        centroids[key] = v / (np.linalg.norm(v) or 1.0)
    by_source = {c.source.id: b2c(c.source) for c in casts}
    groups = group_people(people, centroids, {p.key: by_source[p.source.id] for p in people})
    return Synthesis(casts, people, statements, vectors, groups, notes)
