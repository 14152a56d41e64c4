"""The offline engine's personas: one per synthesis group, every item a theme of verbatim quotes.

What `draft personas` produces with no model (synthesis/ decides who is host and who is
an interviewee, each statement's field, the themes and the groups; this module only
turns them into the Persona contract):
- a persona per group (role family, leaders/practitioners when both sides are big
  enough), listing its interviewees in `demographics` (with the sentence or front-matter
  line that gave each role) and its grouping reason in the draft's notes;
- each list field holds up to LIMIT themes, those said by the most interviewees first;
  a claim's text is the theme's representative quote, verbatim, and its evidence every
  member quote (up to MAX_QUOTES), so a reader sees who else said it; confidence is the
  number of distinct interviewees behind it (3+ high, 2 medium, 1 low);
- day in the life is one claim whose evidence is the day-to-day statements;
- the draft's notes say, per source, who was taken as host and why.
Nothing here reads text the synthesis did not attribute to an interviewee.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from persona_assistant.draft.offline import (
    _confidence as confidence, _short, buying_role, is_b2c, persona_name, title_case, vocabulary,
)
from persona_assistant.schemas import Claim, Persona, PersonaSet, QuoteEvidence
from persona_assistant.synthesis.grouping import Group, role_family
from persona_assistant.synthesis.outcomes import themes_against_outcomes
from persona_assistant.synthesis.pipeline import Synthesis, synthesize
from persona_assistant.synthesis.statements import FIELDS, Statement
from persona_assistant.synthesis.themes import Theme

LIMIT = 10  # themes per list field
MAX_SHARED_NOTES = 5  # themes said by several interviewees named in the notes with their count
MAX_QUOTES = 12  # member quotes cited per theme (and for day in the life)
RANK = ["c_level", "vp", "director", "manager", "individual_contributor", "unknown"]
LIST_FIELDS = [f for f in FIELDS if f != "day_in_life"]
FRONT_MATTER_FACTS = ("company", "industry", "company_size", "region")


def quote(s: Statement) -> QuoteEvidence:
    src = s.person.source
    return QuoteEvidence(source_id=src.id, path=src.path, line_start=s.line_start, line_end=s.line_end, text=s.text)


def theme_claim(th: Theme) -> Claim:
    seen, evidence = set(), []
    for m in [th.representative, *th.members]:
        key = (m.person.source.id, m.line_start, m.text)
        if key not in seen and len(evidence) < MAX_QUOTES:
            seen.add(key)
            evidence.append(quote(m))
    return Claim(text=_short(th.representative.text), evidence=evidence,
                 confidence=confidence(len(th.people)), status="supported")


def _demographics(g: Group) -> list[Claim]:
    """Interviewees and their roles, then company facts, each with the line that says it."""
    found: dict[tuple[str, str], list[QuoteEvidence]] = defaultdict(list)
    for p in g.people:
        src = p.source
        if p.role and p.role_line and p.role_text:
            found[("role", title_case(p.role))].append(QuoteEvidence(
                source_id=src.id, path=src.path, line_start=p.role_line, line_end=p.role_line, text=p.role_text))
        for key in FRONT_MATTER_FACTS:
            line = src.front_matter_lines.get(key)
            if key in src.meta and line and p.key == src.id:  # front matter describes a sole interviewee
                found[(key, src.meta[key])].append(QuoteEvidence(
                    source_id=src.id, path=src.path, line_start=line, line_end=line, text=src.lines[line - 1].strip()))
            elif key in p.facts:
                value, line, text = p.facts[key]
                found[(key, value)].append(QuoteEvidence(source_id=src.id, path=src.path, line_start=line,
                                                         line_end=line, text=text))
    claims = []
    for (key, value), ev in found.items():
        n = len({e.source_id for e in ev})
        claims.append(Claim(text=f"{key.replace('_', ' ')}: {value}", evidence=ev[:MAX_QUOTES],
                            confidence=confidence(n), status="supported"))
    return claims


def _top_quotes(themes: list[Theme], limit: int = 5) -> list[QuoteEvidence]:
    """Representatives of the best core themes, taking each interviewee in turn."""
    core = [th.representative for th in themes if th.field in ("pains", "goals", "objections", "decision_criteria")]
    by_person: dict[str, list[Statement]] = defaultdict(list)
    for s in core:
        by_person[s.person.key].append(s)
    picked: list[QuoteEvidence] = []
    while len(picked) < limit and any(by_person.values()):
        for key in list(by_person):
            if by_person[key] and len(picked) < limit:
                picked.append(quote(by_person[key].pop(0)))
    return picked


def persona_of(g: Group, syn: Synthesis, icp_id: str | None, taken: set[str], notes: list[str]) -> Persona:
    themes = syn.themes_for(g.people)
    fields = {f: [theme_claim(th) for th in themes if th.field == f][:LIMIT] for f in LIST_FIELDS}
    day_members = [m for th in themes if th.field == "day_in_life" for m in th.members]
    day = Claim(text="unknown")
    if day_members:
        # The sentence that most plainly describes a day ("My day starts ...") represents them all.
        rep = max(day_members, key=lambda s: s.scores.get("day_in_life", 0.0))  # earliest on ties
        day = theme_claim(Theme("day_in_life", day_members, [], rep))
    titles = Counter(title_case(p.role) for p in g.people if p.role)
    top_title, top_n = (titles.most_common(1)[0] if titles else (g.role_label, 0))
    role = top_title if top_n * 2 > len(g.people) else g.role_label
    seniorities = Counter(role_family(p)[1] for p in g.people)
    seniority = sorted(seniorities.items(), key=lambda kv: (-kv[1], RANK.index(kv[0])))[0][0]  # ties: the senior
    pains, goals = fields["pains"], fields["goals"]
    top = pains or goals
    names = ", ".join(p.name or p.key for p in g.people)
    archetype = (f"{g.label}: {len(g.people)} interviewee(s) ({', '.join(titles) or 'roles not stated'}); "
                 + (f"top {'pain' if pains else 'goal'}: {_short(top[0].text)[:110]}" if top
                    else "no pain or goal stated in the notes"))
    notes.append(f"{g.id}: {len(g.people)} interviewee(s): {names}; grouped by {g.reason}")
    shared = sum(1 for th in themes if len(th.people) >= 2)
    notes.append(f"{g.id}: {len(themes)} theme(s), {shared} said by two or more interviewees")
    for th in [th for th in themes if len(th.people) >= 2][:MAX_SHARED_NOTES]:
        notes.append(f"{g.id}: {th.field} theme said by {len(th.people)} of {len(g.people)} interviewees: "
                     f"\"{_short(th.representative.text)[:90]}\"")
    empty = [f for f in LIST_FIELDS if not fields[f]]
    if empty:
        notes.append(f"{g.id}: no evidence in the notes for {', '.join(empty)} (left empty)")
    sources = list(dict.fromkeys(p.source.id for p in g.people))
    keys = {p.key for p in g.people}
    statements = [s for s in syn.statements if s.person.key in keys]
    return Persona(
        id=g.id, name=persona_name(g.id, role, taken), archetype=archetype, role=role, title_patterns=list(titles),
        seniority=seniority, function=g.function, buying_role=buying_role(g.function, seniority),
        icp_id=None if g.b2c else icp_id, demographics=_demographics(g), day_in_life=day,
        vocabulary=vocabulary([s.sentence for s in statements]), quotes=_top_quotes(themes),
        sources=sources, **fields)


def outcome_notes(g: Group, syn: Synthesis, outcomes: dict[str, str], limit: int = 3) -> list[str]:
    """The group's themes against CRM outcomes (synthesis/outcomes.py), as drafting notes."""
    report = themes_against_outcomes(syn.themes_for(g.people), g.people, outcomes)
    notes = [f"{g.id}: {report.note}"]
    for r in report.results[:limit]:
        notes.append(f"{g.id}: {r.theme.field} theme \"{_short(r.theme.representative.text)[:90]}\": said by "
                     f"{r.won_with} of {r.won} won and {r.lost_with} of {r.lost} lost interviewees, "
                     f"Fisher p={r.p:.3f} ({r.verdict})")
    return notes


def offline_personas(sources, *, icp_id: str | None, embedder=None,
                     outcomes: dict[str, str] | None = None) -> PersonaSet:
    """Personas from the synthesis of `sources`; deterministic for the same notes. With
    `outcomes` (normalised CRM account -> won/lost/open) each persona's themes are also
    compared with the outcomes of the interviewees' accounts, in the notes."""
    syn = synthesize(sources, embedder=embedder, b2c=is_b2c)
    notes = list(syn.notes)
    taken: set[str] = set()
    personas = []
    for g in syn.groups:
        personas.append(persona_of(g, syn, icp_id, taken, notes))
        if outcomes is not None:
            notes.extend(outcome_notes(g, syn, outcomes))
    return PersonaSet(personas=personas, icp_id=icp_id, notes=notes)

