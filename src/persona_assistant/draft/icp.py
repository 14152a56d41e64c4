"""`draft icp`: an Ideal Customer Profile from the CRM analysis and interview evidence, saved as a version.

Numbers come only from analysis/segments.py. The model (when configured) sees segment figures,
never raw CRM rows, and writes language; every StatEvidence it cites is checked against the
analysis and every quote against its file (verify_claims), with one re-ask on failures and the
rest dropped. Code, not the model, decides data_sufficiency, the deal ids behind each figure and
whether the CRM singles out a segment (only when some segment is significantly "better").
"""

from __future__ import annotations

from typing import Callable

from persona_assistant.draft.evidence import verify_claims
from persona_assistant.draft.personas import (
    _parts, extract_evidence, fabricated_quotes, load_notes, make_llm, without_text,
)
from persona_assistant.llm.answers import check_once
from persona_assistant.errors import UsageError
from persona_assistant.schemas import ICP, Analysis, Claim, DataSufficiency, StatEvidence
from persona_assistant.workspace_lock import one_writer

ICP_ID = "icp-primary"
MAX_SEGMENTS = 40
MAX_DEAL_IDS = 10
MAX_LISTED = 10  # icp_candidates / anti_icp ids named in the prompt (the table is capped apart)
PROMPT_RATE_TOL = 0.5e-4 + 1e-9  # icp_draft.j2 prints rates with "%.4f"


def _fill_stats(icp: ICP, analysis: Analysis | None) -> ICP:
    """Deal ids of each checked statistic filled from the analysis (the prompt never carries them)."""
    if analysis is None:
        return icp

    def fill(ev):
        if isinstance(ev, StatEvidence) and not ev.deal_ids:
            seg = analysis.segment(ev.segment_id)
            if seg is not None:
                return ev.model_copy(update={"deal_ids": list(seg.deal_ids[:MAX_DEAL_IDS])})
        return ev

    return _map_evidence(icp, fill)


def _snap_stats(icp: ICP, analysis: Analysis) -> ICP:
    """Rates copied at the prompt's precision (4 decimals) take the analysis' exact value.

    The checker compares to 1e-6, so without this a correctly copied figure would be dropped;
    counts must still match exactly and any rate off by more than the rounding still fails."""
    def snap(ev):
        if isinstance(ev, StatEvidence):
            seg = analysis.segment(ev.segment_id)
            names = ("win_rate", "ci_low", "ci_high")
            if seg is not None and (ev.closed, ev.won) == (seg.closed, seg.won) and all(
                    abs(getattr(ev, n) - getattr(seg, n)) <= PROMPT_RATE_TOL for n in names):
                return ev.model_copy(update={n: getattr(seg, n) for n in names})
        return ev

    return _map_evidence(icp, snap)


def _map_evidence(icp: ICP, fill) -> ICP:
    """The ICP with `fill` applied to every evidence item."""
    def claim(c: Claim) -> Claim:
        return c.model_copy(update={"evidence": [fill(e) for e in c.evidence]})

    f = icp.firmographics
    firmo = f.model_copy(update={n: [claim(c) for c in getattr(f, n)] for n in type(f).model_fields})
    return icp.model_copy(update={
        "firmographics": firmo,
        **{n: [claim(c) for c in getattr(icp, n)] for n in ("challenges", "goals", "traits")},
        "long_term_value": claim(icp.long_term_value),
        "advocacy_potential": claim(icp.advocacy_potential),
        "qualification_signals": [s.model_copy(update={"evidence": [fill(e) for e in s.evidence]})
                                  for s in icp.qualification_signals],
        "disqualifiers": [d.model_copy(update={"evidence": [fill(e) for e in d.evidence]})
                          for d in icp.disqualifiers],
    })


def _scrub(icp: ICP, fabricated: list[str], notes: list[str]) -> ICP:
    """Claims whose text repeats a quote not found in the notes are removed."""
    from persona_assistant.draft.evidence import normalise

    if not fabricated:
        return icp

    def ok(c: Claim) -> bool:
        return not any(f in normalise(c.text) for f in fabricated)

    update = {}
    for name in ("challenges", "goals", "traits"):
        items = getattr(icp, name)
        update[name] = [c for c in items if ok(c)]
        if len(update[name]) != len(items):
            notes.append(f"icp.{name}: removed {len(items) - len(update[name])} claim(s) repeating a quote "
                         "not found in the notes")
    for name in ("long_term_value", "advocacy_potential"):
        if not ok(getattr(icp, name)):
            update[name] = Claim(text="unknown")
    return icp.model_copy(update=update)


class ICPAnswer(ICP):
    """What the model is asked for: an ICP whose data sufficiency it need not give, since code sets
    it from the analysis (a cut answer that never reached it was rejected whole for lacking it)."""

    data_sufficiency: DataSufficiency | None = None


def llm_icp(ws, settings, analysis: Analysis, sources: list, notes: list[str], progress=None) -> ICP:
    from persona_assistant.prompts import render

    llm = make_llm(ws, settings, sources)
    evidence, _ = extract_evidence(llm, ws, settings, sources, notes, progress) if sources else ([], {})
    by_id = {s.id: s for s in sources}
    if progress:
        progress("writing the ICP")
    # The candidate lists grow with the number of significant segments: capped like the table.
    shown = analysis.model_copy(update={"icp_candidates": analysis.icp_candidates[:MAX_LISTED],
                                        "anti_icp": analysis.anti_icp[:MAX_LISTED]})
    rendered = render("icp_draft", ws, icp_id=ICP_ID, analysis=shown, max_segments=MAX_SEGMENTS,
                      evidence=evidence[:80])
    res = llm.structured("icp_draft", rendered.messages(), ICPAnswer,
                         check=check_once(lambda m: verify_claims(_snap_stats(m, analysis), by_id, analysis)[1]),
                         cache_key_parts=_parts(rendered))
    notes.extend(f"icp: {n}" for n in res.notes)
    icp = ICP.model_validate({**res.value.model_dump(), "id": ICP_ID,
                              "data_sufficiency": analysis.sufficiency.model_dump()})
    icp = _snap_stats(icp, analysis)
    fabricated = fabricated_quotes(icp, by_id)
    icp, failures = verify_claims(icp, by_id, analysis)
    notes.extend(f"icp: dropped {without_text(f)}" for f in failures)
    return _scrub(icp, fabricated, notes)


@one_writer("draft icp")  # one writer per workspace; callers may pass wait=True
def draft_icp(ws, settings, progress: Callable[[str], None] | None = None):
    """Draft the ICP (model or offline engine), check every figure and quote, save a new version.

    Returns (ICP, Version, notes for the user)."""
    from persona_assistant.analysis.segments import analyze_workspace
    from persona_assistant.draft.markdown import icp_markdown
    from persona_assistant.draft.offline import offline_icp

    analysis = analyze_workspace(ws) if ws.crm_files() else None
    sources = load_notes(ws, required=analysis is None)  # CRM alone is enough for an ICP
    notes: list[str] = []
    if analysis is None:
        notes.append(f"no CRM exports in {ws.crm_dir}: the ICP rests on interview evidence only")
    elif not sources:
        notes.append(f"no interview notes in {ws.notes_dir}: challenges, goals and traits are unknown")
    if analysis is None and not sources:  # pragma: no cover - load_notes raised already
        raise UsageError(f"nothing to draft from in {ws.root}")
    if settings.offline or analysis is None:
        if not settings.offline:
            notes.append("without CRM figures the offline engine drafts the ICP (the model is not asked)")
        icp = offline_icp(analysis, sources)
    else:
        icp = llm_icp(ws, settings, analysis, sources, notes, progress)
    by_id = {s.id: s for s in sources}
    icp, failures = verify_claims(icp, by_id, analysis)  # safety net on both paths
    notes.extend(f"icp: dropped {without_text(f)}" for f in failures)
    icp = _fill_stats(icp, analysis)
    better = analysis is not None and any(s.verdict == "better" for s in analysis.segments)
    update = {"crm_singles_out_segment": icp.crm_singles_out_segment and better}
    if analysis is not None:
        update["data_sufficiency"] = analysis.sufficiency
    if icp.crm_singles_out_segment and not better:
        notes.append("no segment is significantly better: crm_singles_out_segment set to false")
    icp = icp.model_copy(update=update)
    version = ws.save_version("icp", icp, icp_markdown(icp, analysis))
    return icp, version, notes
