"""Personas from interview notes through the model (`llm_personas`) and the checks after either engine
(`finish_personas`); services/drafting.py runs a draft and saves the version.

Either way nothing reaches the saved JSON as fact unless code found it: quotes the model
extracts are checked against their file at once (verify_quote) and dropped with a note when
absent; the synthesised persona is checked with verify_claims, the model is re-asked ONCE with
the list of failures, and whatever still fails is dropped (a claim left without evidence is
never "supported"; a claim whose text repeats a fabricated quote is removed entirely).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from persona_assistant.draft.evidence import fabricated_quotes, normalise, verify_claims, verify_quote
from persona_assistant.errors import UsageError
from persona_assistant.llm.answers import NoValidAnswer
from persona_assistant.llm.loop import Check
from persona_assistant.schemas import PERSONA_ITEM_FIELDS, ICP, Claim, Persona, PersonaSet, QuoteEvidence

MAX_PERSONAS = 6
MAX_EVIDENCE_PER_PROMPT = 80  # quotes shown to one synthesis / ICP prompt


def load_notes(ws, *, required: bool = True) -> list:
    """The workspace's interviews; UsageError naming the notes folder when there are none."""
    from persona_assistant.ingest.notes import load_sources

    files = ws.note_files()
    if not files:
        if required:
            raise UsageError(f"no interview notes in {ws.notes_dir} (add .md, .txt, .vtt or .srt files)")
        return []
    return load_sources(files, root=ws.root)


def crm_outcomes(ws) -> dict[str, str] | None:
    """Account outcomes from the workspace's CRM exports for themes-against-outcomes, or None
    when it has none. A CRM that cannot be read stops the draft with its one-line error, as
    `analyze` would: the draft never silently compares against less than the exports hold."""
    files = ws.crm_files()
    if not files:
        return None
    from persona_assistant.ingest.crm import load_crm
    from persona_assistant.synthesis.outcomes import account_outcomes

    crm = load_crm(list(files), mapping_file=ws.mapping_file())
    try:
        return account_outcomes(crm.con)
    finally:
        crm.con.close()


def latest_icp_id(ws) -> str | None:
    icp = ws.load_version("icp", ICP)
    return icp.id if icp is not None else None


def make_llm(ws, settings, sources: list):
    """The LLM with the workspace's redactor, seeded from the notes already loaded (llm/known_people.py)."""
    from persona_assistant.llm.client import LLM
    from persona_assistant.llm.known_people import workspace_redactor

    return LLM(settings, redactor=workspace_redactor(ws, sources), ws=ws)


def _parts(rendered) -> dict:
    return {"prompt": rendered.name, "version": rendered.version}


# --------------------------------------------------------------------------- evidence extraction


def extract_evidence(llm, ws, settings, sources: list, notes: list[str], progress=None) -> tuple[list[dict], dict]:
    """Candidate quotes per source (verified by code: in the file, and said by an interviewee
    as synthesis/speakers decides, never by the host) and the model's role hints per source id."""
    from persona_assistant.llm.structured import ExtractedEvidence, evidence_answer, strict_schema
    from persona_assistant.prompts import chunk_text, data_budget, render
    from persona_assistant.synthesis.speakers import cast, interviewee_lines

    schema, _ = strict_schema(ExtractedEvidence)
    evidence: list[dict] = []
    hints: dict[str, dict] = {}
    failed: list[str] = []
    asked = 0
    for n, src in enumerate(sources, start=1):
        if progress:
            progress(f"extracting evidence {n}/{len(sources)}: {src.path}")
        empty = render("extract_evidence", ws, source_id=src.id, path=src.path, lines=[], part="1 of 1",
                       meta=src.meta)
        budget = data_budget(empty, settings.prompt_budget_tokens, schema)
        lines = src.lines[src.first_line - 1: src.last_line]
        chunks = chunk_text(lines, budget, first_line=src.first_line)
        by_source = {src.id: src}
        own_lines = interviewee_lines(cast(src))  # synthesis/speakers: never a host's words
        for i, chunk in enumerate(chunks, start=1):
            rendered = render("extract_evidence", ws, source_id=src.id, path=src.path, lines=list(chunk.lines),
                              part=f"{i} of {len(chunks)}", meta=src.meta)
            try:
                answer = evidence_answer(src.id, chunk.line_start, chunk.line_end)
                res = llm.structured("extract_evidence", rendered.messages(), answer,
                                     cache_key_parts=_parts(rendered))
            except NoValidAnswer as exc:  # this part only; endpoint faults stop the draft
                failed.append(exc.message)
                notes.append(f"{src.path} part {i}: no usable answer ({exc.message})")
                continue
            asked += 1
            notes.extend(f"{src.path} part {i}: {n}" for n in res.notes)
            ans = res.value
            if src.id not in hints or hints[src.id].get("role") in (None, "unknown"):
                hints[src.id] = {"role": ans.role, "seniority": ans.seniority, "function": ans.function,
                                 "buying_role": ans.buying_role}
            for item in ans.items:
                q = QuoteEvidence(source_id=src.id, path=src.path, line_start=item.line_start,
                                  line_end=max(item.line_start, item.line_end), text=item.quote)
                ok = verify_quote(q, by_source)
                if ok is None:
                    notes.append(f"dropped a quote not found in {src.path} (cited line {item.line_start})")
                    continue
                if not all(n in own_lines for n in range(ok.line_start, ok.line_end + 1)):
                    notes.append(f"dropped a quote of the host or interviewer in {src.path} (line {ok.line_start})")
                    continue
                evidence.append({"category": item.category, "source_id": ok.source_id, "path": ok.path,
                                 "line_start": ok.line_start, "line_end": ok.line_end, "quote": ok.text,
                                 "summary": item.summary})
    if failed and not asked:
        raise NoValidAnswer(f"no usable answer for any of {len(failed)} note part(s); first: {failed[0]}")
    return evidence, hints


def without_text(failure: str) -> str:
    """A verify_claims failure without the quoted text: an unverified quote is never saved, not
    even in the drafting notes (the re-ask, which is not saved, gets the full line)."""
    return re.sub(r": '.*'$", "", failure)


# --------------------------------------------------------------------------- grouping


def offline_groups(sources: list) -> dict[str, list[str]]:
    """The offline engine's deterministic grouping by (B2C, function, seniority)."""
    from persona_assistant.draft.offline import classify_role, is_b2c, slug

    groups: dict[str, list[str]] = defaultdict(list)
    for src in sources:
        function, seniority = classify_role(src.role_hint)
        groups[slug(("b2c " if is_b2c(src) else "") + f"{function} {seniority}")].append(src.id)
    return dict(groups)


def group_sources(llm, ws, sources: list, evidence: list[dict], hints: dict, notes: list[str]) -> dict[str, list[str]]:
    """persona id -> source ids: the model's grouping, sources it leaves out grouped by role."""
    from persona_assistant.llm.structured import grouping_answer
    from persona_assistant.prompts import render

    ids = {s.id for s in sources}
    if len(sources) == 1:
        return offline_groups(sources)
    top: dict[str, list[str]] = defaultdict(list)
    for e in evidence:
        if len(top[e["source_id"]]) < 4:
            top[e["source_id"]].append(f"{e['category']}: {e['summary']}")
    rows = [{"source_id": s.id, "role": hints.get(s.id, {}).get("role") or s.role_hint,
             "seniority": hints.get(s.id, {}).get("seniority"), "function": hints.get(s.id, {}).get("function"),
             "buying_role": hints.get(s.id, {}).get("buying_role"), "company": s.company,
             "industry": s.meta.get("industry"), "top_items": top.get(s.id, [])} for s in sources]
    rendered = render("persona_grouping", ws, sources=rows, max_personas=MAX_PERSONAS)

    def check(value) -> list[str]:
        seen: dict[str, str] = {}
        problems = []
        for g in value.groups:
            for sid in g.source_ids:
                if sid not in ids:
                    problems.append(f"group {g.id}: unknown source id {sid!r}")
                elif sid in seen:
                    problems.append(f"source {sid!r} is in groups {seen[sid]} and {g.id}")
                seen.setdefault(sid, g.id)
        if len({g.id for g in value.groups}) != len(value.groups):
            problems.append("group ids must be distinct")
        return problems

    try:
        res = llm.structured("persona_grouping", rendered.messages(), grouping_answer(sorted(ids)),
                             checks=[Check("grouping", check, reasks=1)],
                             cache_key_parts=_parts(rendered))
    except NoValidAnswer as exc:
        notes.append(f"grouping: no usable answer ({exc.message}); interviews grouped by role")
        return offline_groups(sources)
    notes.extend(f"grouping: {n}" for n in res.notes)
    answer = res.value
    groups: dict[str, list[str]] = {}
    placed: set[str] = set()
    for g in answer.groups:
        members = [sid for sid in dict.fromkeys(g.source_ids) if sid in ids and sid not in placed]
        if members and g.id not in groups:
            groups[g.id] = members
            placed.update(members)
            notes.append(f"{g.id}: {len(members)} interview(s) grouped by the model: {', '.join(members)}")
    rest = [s for s in sources if s.id not in placed]
    if rest:
        for pid, members in offline_groups(rest).items():
            key = pid if pid not in groups else f"{pid}-{len(groups)}"
            groups[key] = members
            notes.append(f"{key}: {len(members)} interview(s) the model left ungrouped, grouped by role: "
                         f"{', '.join(members)}")
    return groups


# --------------------------------------------------------------------------- synthesis


def scrub_fabricated(persona: Persona, fabricated: list[str], notes: list[str]) -> Persona:
    """Remove claims whose text repeats a fabricated quote: a quote never survives as prose."""
    if not fabricated:
        return persona

    def bad(c: Claim) -> bool:
        text = normalise(c.text)
        return any(f in text for f in fabricated)

    update: dict[str, Any] = {}
    for name in ("demographics", *PERSONA_ITEM_FIELDS):
        items = getattr(persona, name)
        kept = [c for c in items if not bad(c)]
        if len(kept) != len(items):
            notes.append(f"{persona.id}.{name}: removed {len(items) - len(kept)} claim(s) repeating a quote "
                         "not found in the notes")
        update[name] = kept
    if bad(persona.day_in_life):
        update["day_in_life"] = Claim(text="unknown")
    for name in ("archetype", "name"):
        if any(f in normalise(getattr(persona, name)) for f in fabricated):
            update[name] = persona.role if name == "archetype" else f"{persona.role} persona"
    return persona.model_copy(update=update)


def synthesize(llm, ws, pid: str, members: list, evidence: list[dict], hints: dict, icp_id: str | None,
               notes: list[str]) -> Persona:
    from persona_assistant.prompts import render

    by_id = {s.id: s for s in members}
    ev = [e for e in evidence if e["source_id"] in by_id][:MAX_EVIDENCE_PER_PROMPT]
    rendered = render(
        "persona_synthesis", ws, persona_id=pid, icp_id=icp_id,
        sources=[{"source_id": s.id, "path": s.path, "role": hints.get(s.id, {}).get("role") or s.role_hint,
                  "company": s.company} for s in members],
        evidence=ev,
        role_hints=[f"{sid}: {h.get('role')}, {h.get('seniority')}, {h.get('function')}"
                    for sid, h in hints.items() if sid in by_id])
    res = llm.structured("persona_synthesis", rendered.messages(), Persona,
                         checks=[Check("claims", lambda p: verify_claims(p, by_id)[1], reasks=1)],
                         cache_key_parts=_parts(rendered))
    notes.extend(f"{pid}: {n}" for n in res.notes)
    persona = res.value.model_copy(update={"id": pid, "icp_id": icp_id, "sources": list(by_id)})
    fabricated = fabricated_quotes(persona, by_id)
    persona, failures = verify_claims(persona, by_id)
    notes.extend(f"{pid}: dropped {without_text(f)}" for f in failures)
    return scrub_fabricated(persona, fabricated, notes)


def llm_personas(ws, settings, sources: list, icp_id: str | None, progress=None) -> PersonaSet:
    notes: list[str] = []
    llm = make_llm(ws, settings, sources)
    evidence, hints = extract_evidence(llm, ws, settings, sources, notes, progress)
    groups = group_sources(llm, ws, sources, evidence, hints, notes)
    by_id = {s.id: s for s in sources}
    personas = []
    failed: list[str] = []
    for n, (pid, members) in enumerate(groups.items(), start=1):
        if progress:
            progress(f"writing persona {n}/{len(groups)}: {pid}")
        try:
            personas.append(synthesize(llm, ws, pid, [by_id[m] for m in members], evidence, hints, icp_id, notes))
        except NoValidAnswer as exc:
            failed.append(exc.message)
            notes.append(f"{pid}: not written, no usable answer ({exc.message})")
    if not personas:
        raise NoValidAnswer(f"no usable persona answer for any of {len(failed)} group(s); first: {failed[0]}")
    return PersonaSet(personas=personas, icp_id=icp_id, notes=notes)


def finish_personas(pset: PersonaSet, sources: list) -> PersonaSet:
    """Every quote checked again after either engine (the offline engine should never need it)."""
    pset, failures = verify_claims(pset, {s.id: s for s in sources})
    if failures:
        pset = pset.model_copy(update={"notes": pset.notes + [f"dropped {without_text(f)}" for f in failures]})
    return pset
