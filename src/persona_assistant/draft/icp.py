"""The ICP from the CRM analysis and interview evidence: the model's draft (`llm_icp`) and the checks after
either engine (`finish_icp`); services/drafting.py runs a draft and saves the version.

Numbers come only from analysis/segments.py. The model (when configured) sees segment figures,
never raw CRM rows, and writes language; every StatEvidence it cites is checked against the
analysis and every quote against its file (verify_claims), with one re-ask on failures and the
rest dropped. Code, not the model, decides data_sufficiency, the deal ids behind each figure and
whether the CRM singles out a segment (only when some segment is significantly "better").
"""

from __future__ import annotations

from persona_assistant.draft.evidence import fabricated_quotes, map_evidence, verify_claims
from persona_assistant.draft.offline import MAX_DEAL_IDS
from persona_assistant.draft.personas import (
    _parts, extract_evidence, make_llm, without_text,
)
from persona_assistant.llm.loop import Check
from persona_assistant.schemas import ICP, Analysis, Claim, StatEvidence

ICP_ID = "icp-primary"
MAX_SEGMENTS = 40
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

    return map_evidence(icp, lambda ev, _where: fill(ev))


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

    return map_evidence(icp, lambda ev, _where: snap(ev))


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
    res = llm.structured("icp_draft", rendered.messages(), ICP,
                         checks=[Check("claims", lambda m: verify_claims(_snap_stats(m, analysis), by_id, analysis)[1], reasks=1)],
                         cache_key_parts=_parts(rendered))
    notes.extend(f"icp: {n}" for n in res.notes)
    icp = _snap_stats(res.value.model_copy(update={"id": ICP_ID}), analysis)
    fabricated = fabricated_quotes(icp, by_id)
    icp, failures = verify_claims(icp, by_id, analysis)
    notes.extend(f"icp: dropped {without_text(f)}" for f in failures)
    return _scrub(icp, fabricated, notes)


def finish_icp(icp: ICP, analysis: Analysis | None, sources: list, notes: list[str]) -> ICP:
    """What code decides after either engine drafted: every quote and figure checked (the safety net on
    both paths), deal ids filled in, `crm_singles_out_segment` only when some segment is significantly
    better, `data_sufficiency` from the analysis."""
    by_id = {s.id: s for s in sources}
    icp, failures = verify_claims(icp, by_id, analysis)
    notes.extend(f"icp: dropped {without_text(f)}" for f in failures)
    icp = _fill_stats(icp, analysis)
    better = analysis is not None and any(s.verdict == "better" for s in analysis.segments)
    update = {"crm_singles_out_segment": icp.crm_singles_out_segment and better}
    if analysis is not None:
        update["data_sufficiency"] = analysis.sufficiency
    if icp.crm_singles_out_segment and not better:
        notes.append("no segment is significantly better: crm_singles_out_segment set to false")
    return icp.model_copy(update=update)
