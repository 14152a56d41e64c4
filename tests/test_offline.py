"""The offline engine reads the notes and invents nothing: every item is a checked quote or unknown."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import pytest
from pydantic import BaseModel

from persona_assistant.draft.evidence import verify_claims
from persona_assistant.draft.offline import buying_role, classify_role, offline_icp
from persona_assistant.draft.offline_personas import offline_personas
from persona_assistant.ingest.notes import load_sources
from persona_assistant.schemas import (
    PERSONA_ITEM_FIELDS, Analysis, DataSufficiency, QuoteEvidence, Segment, SegmentStats, StatEvidence,
)


@pytest.fixture
def sample_notes(fixtures_dir) -> tuple[Path, list]:
    root = fixtures_dir / "sample-workspace"
    files = sorted((root / "notes").iterdir())
    return root, load_sources(files, root=root)


def all_quotes(model) -> list[QuoteEvidence]:
    """Every QuoteEvidence anywhere in a dumped model."""
    found = []

    def walk(x):
        if isinstance(x, QuoteEvidence):
            found.append(x)
        elif isinstance(x, BaseModel):
            for name in type(x).model_fields:
                walk(getattr(x, name))
        elif isinstance(x, list):
            for y in x:
                walk(y)
    walk(model)
    return found


def norm(text: str) -> str:
    table = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
    return " ".join(text.translate(table).split())


def assert_quote_in_file(q: QuoteEvidence, root: Path) -> None:
    """Independent check: the quote is in the cited file within the cited lines."""
    lines = (root / q.path).read_text(encoding="utf-8-sig").split("\n")
    cited = " ".join(lines[q.line_start - 1:q.line_end])
    assert norm(q.text) in norm(cited), (q.path, q.line_start, q.text)


def test_personas_by_role_family_split_into_leaders_and_practitioners(sample_notes):
    root, sources = sample_notes
    ps = offline_personas(sources, icp_id="icp-primary")
    by_id = {p.id: p for p in ps.personas}
    assert set(by_id) == {"finance-leaders", "finance-practitioners", "it"}
    leaders, practitioners, it = by_id["finance-leaders"], by_id["finance-practitioners"], by_id["it"]
    assert sorted(leaders.sources) == ["2024-03-12-cfo-northwind", "2024-03-19-cfo-harbor-health"]
    assert sorted(practitioners.sources) == ["accounting-manager-medisync", "brightpath-assistant-controller",
                                             "controller-ironclad", "senior-accountant-ironclad",
                                             "staff-accountant-northwind"]
    assert (leaders.function, leaders.seniority, leaders.buying_role) == ("finance", "c_level", "financial_buyer")
    assert (practitioners.seniority, practitioners.buying_role) == ("manager", "champion")
    assert (it.function, it.buying_role) == ("it", "influencer")
    all_ids = [sid for p in ps.personas for sid in p.sources]
    assert sorted(all_ids) == sorted(s.id for s in sources)  # each interview in exactly one persona
    assert len({p.name.split(",")[0] for p in ps.personas}) == len(ps.personas)
    assert all(p.icp_id == "icp-primary" for p in ps.personas)
    # each persona lists its interviewees (role claims citing where the role is said) and why
    roles = {c.text for c in practitioners.demographics if c.text.startswith("role:")}
    assert {"role: Controller", "role: Staff Accountant", "role: Assistant Controller"} <= roles
    reason = next(n for n in ps.notes if n.startswith("finance-practitioners:") and "grouped by" in n)
    assert "role family Finance" in reason and "each side has 2+" in reason
    assert any(n.startswith("2024-03-12-cfo-northwind: host Jordan") and "front matter" in n for n in ps.notes)


def test_every_offline_claim_passes_verification_unchanged(sample_notes):
    root, sources = sample_notes
    ps = offline_personas(sources, icp_id="icp-primary")
    cleaned, failures = verify_claims(ps, {s.id: s for s in sources})
    assert failures == [] and cleaned == ps
    quotes = all_quotes(ps)
    assert len(quotes) > 40
    for q in quotes:
        assert_quote_in_file(q, root)


def test_items_come_from_the_interviewee_and_confidence_counts_interviews(sample_notes):
    root, sources = sample_notes
    ps = offline_personas(sources, icp_id=None)
    asked = re.compile(r"^\s*(\*\*Interviewer:\*\*|Interviewer:|<v Interviewer>|Q:)")
    for p in ps.personas:
        for fld in PERSONA_ITEM_FIELDS:
            for claim in getattr(p, fld):
                assert claim.status == "supported" and claim.evidence
                n = len({e.source_id for e in claim.evidence})
                assert claim.confidence == {1: "low", 2: "medium"}.get(n, "high")
                assert set(e.source_id for e in claim.evidence) <= set(p.sources)
        for q in all_quotes(p):
            line = (root / q.path).read_text(encoding="utf-8").split("\n")[q.line_start - 1]
            assert not asked.match(line), line
        assert 3 <= len(p.quotes) <= 5
    maya = next(p for p in ps.personas if p.id == "finance-practitioners")
    assert maya.pains and maya.pains[0].confidence in ("medium", "high")  # repeated across interviews
    assert any("manual" in c.text.lower() or "spreadsheet" in c.text.lower() for c in maya.pains)
    assert maya.day_in_life.status == "supported" and re.search(r"(?i)my day|every morning", maya.day_in_life.text)
    assert "peer group" in " ".join(maya.vocabulary)


def test_fields_without_evidence_say_unknown(tmp_path):
    p = tmp_path / "thin.md"
    p.write_text("---\nname: Lee Wong\nrole: Controller\ncompany: Oak Co\n---\n"
                 "**Interviewer:** Hello?\n**Lee:** Hello, nice to meet you all today.\n")
    sources = load_sources([p], root=tmp_path)
    [persona] = offline_personas(sources, icp_id="icp").personas
    assert persona.pains == [] and persona.goals == [] and persona.quotes == []
    assert persona.day_in_life.text == "unknown" and persona.day_in_life.status == "unknown"
    assert "no pain or goal" in persona.archetype
    assert [c.text for c in persona.demographics] == ["role: Controller", "company: Oak Co"]


def test_curly_apostrophes_do_not_make_two_interviews_agree(tmp_path):
    """“I’m” is a stop word like "I'm": sharing it (and a cue word) is not corroboration."""
    from persona_assistant.draft.offline import content_stems

    assert content_stems("I’m glad it’s done") == content_stems("I'm glad it's done") == {"glad", "done"}
    for name, line in (("a", "I’m really excited to be here with everyone today, it’s great."),
                       ("b", "I’m really excited about it because I moved into this house, it’s nearly done.")):
        (tmp_path / f"{name}.md").write_text(f"---\nrole: Staff Engineer\n---\n**Interviewer:** Hi?\n**Sam:** {line}\n",
                                             encoding="utf-8")
    sources = load_sources(sorted(tmp_path.glob("*.md")), root=tmp_path)
    [persona] = offline_personas(sources, icp_id=None).personas
    assert persona.motivations and all(c.confidence == "low" and len(c.evidence) == 1 for c in persona.motivations)


def test_a_concern_already_dealt_with_is_not_an_objection(tmp_path):
    (tmp_path / "n.md").write_text(
        "---\nrole: Staff Engineer\n---\n**Interviewer:** Any doubts?\n"
        "**Sam:** We worked together with their team to alleviate some of those concerns last spring.\n"
        "**Sam:** They were very responsive to our concerns during the whole rollout.\n"
        "**Sam:** My main concern is that the licence will be too expensive once we scale up.\n", encoding="utf-8")
    [persona] = offline_personas(load_sources([tmp_path / "n.md"], root=tmp_path), icp_id=None).personas
    assert [c.text for c in persona.objections] == [
        "My main concern is that the licence will be too expensive once we scale up."]


def test_b2c_note_has_no_icp(fixtures_dir, sample_notes):
    root, sources = sample_notes
    samples = fixtures_dir / "notes-samples"
    consumer = load_sources([samples / "consumer.md"], root=samples)
    ps = offline_personas(consumer + sources, icp_id="icp-primary")
    [b2c] = [p for p in ps.personas if p.sources == ["consumer"]]
    assert b2c.icp_id is None and b2c.function == "consumer" and b2c.buying_role == "decision_maker"
    assert all(p.icp_id == "icp-primary" for p in ps.personas if p is not b2c)
    assert b2c.pains and "frustrating" in b2c.pains[0].text


def test_offline_is_deterministic(sample_notes):
    root, _ = sample_notes
    files = sorted((root / "notes").iterdir())
    a = offline_personas(load_sources(files, root=root), icp_id="x")
    b = offline_personas(load_sources(files, root=root), icp_id="x")
    assert a == b


def test_role_rules():
    assert classify_role("CFO") == ("finance", "c_level")
    assert classify_role("Assistant Controller") == ("finance", "manager")
    assert classify_role("IT & ERP Systems Manager") == ("it", "manager")
    assert classify_role("staff SRE") == ("engineering", "individual_contributor")
    assert classify_role("VP Finance") == ("finance", "vp")
    assert classify_role(None) == ("unknown", "unknown")
    assert buying_role("security", "director") == "blocker"
    assert buying_role("engineering", "c_level") == "decision_maker"


# --------------------------------------------------------------------------- ICP


def make_analysis(better: bool = True) -> Analysis:
    def seg(sid, dims, closed, won, rate, lo, hi, lift, verdict, ids):
        return Segment(id=sid, dimensions=dims, closed=closed, won=won, lost=closed - won, win_rate=rate,
                       ci_low=lo, ci_high=hi, lift=lift, verdict=verdict, deal_ids=ids)
    segs = [
        seg("industry=Software", {"industry": "Software"}, 60, 45, 0.75, 0.62, 0.85, 1.5,
            "better" if better else "not significant", [f"S{i}" for i in range(60)]),
        seg("employee_band=1-10", {"employee_band": "1-10"}, 30, 6, 0.2, 0.09, 0.38, 0.4, "worse",
            ["T1", "T2"]),
        seg("region=EMEA", {"region": "EMEA"}, 25, 13, 0.52, 0.33, 0.7, 1.04, "not significant", ["U1"]),
    ]
    return Analysis(
        baseline=SegmentStats(closed=200, won=100, lost=100, win_rate=0.5, ci_low=0.43, ci_high=0.57),
        dimensions=["industry", "employee_band", "region"], min_support=10, correction="Holm",
        segments=segs, icp_candidates=["industry=Software"] if better else [],
        anti_icp=["employee_band=1-10"], sufficiency=DataSufficiency(won=100, lost=100, verdict="sufficient"),
        verdict="v")


def test_icp_from_significant_segments_only(sample_notes):
    root, sources = sample_notes
    a = make_analysis()
    icp = offline_icp(a, sources)
    assert icp.crm_singles_out_segment and icp.segments == ["industry=Software"]
    [ind] = icp.firmographics.industries
    [ev] = ind.evidence
    assert isinstance(ev, StatEvidence) and (ev.closed, ev.won, ev.win_rate) == (60, 45, 0.75)
    assert set(ev.deal_ids) <= set(a.segment("industry=Software").deal_ids) and ev.deal_ids
    assert icp.firmographics.regions == []  # not significant: not a criterion
    [sig] = icp.qualification_signals
    assert (sig.dimension, sig.value) == ("industry", "Software")
    assert sig.weight == pytest.approx(math.log(1.5), abs=1e-3)
    [dq] = icp.disqualifiers
    assert dq.value == "1-10" and "20%" in dq.reason
    cleaned, failures = verify_claims(icp, {s.id: s for s in sources}, a)
    assert failures == [] and cleaned == icp
    for q in all_quotes(icp):
        assert_quote_in_file(q, root)


def test_icp_when_crm_singles_out_nothing(sample_notes):
    root, sources = sample_notes
    for analysis in (make_analysis(better=False), None):
        icp = offline_icp(analysis, sources)
        assert not icp.crm_singles_out_segment and icp.qualification_signals == []
        assert "does not single out" in icp.summary
        assert icp.firmographics.industries == []
        assert icp.challenges and all(c.text.startswith("From interviews:") for c in icp.challenges)
        assert all(isinstance(e, QuoteEvidence) for c in icp.challenges + icp.goals for e in c.evidence)
        cleaned, failures = verify_claims(icp, {s.id: s for s in sources}, analysis)
        assert failures == [] and cleaned == icp
    assert offline_icp(None, sources).data_sufficiency.verdict == "insufficient"


# --------------------------------------------------------------------------- shared data


def test_shared_otel_personas_cite_real_lines(shared_dir):
    folder = shared_dir / "datasets" / "otel-interviews"
    files = sorted(folder.rglob("*.md"))
    start = time.perf_counter()
    sources = load_sources(files, root=folder)
    ps = offline_personas(sources, icp_id=None)
    elapsed = time.perf_counter() - start
    assert elapsed < 5
    assert len({(p.function, p.seniority) for p in ps.personas}) >= 2
    quotes = all_quotes(ps)
    assert len(quotes) >= 20
    for q in quotes:
        assert_quote_in_file(q, folder)
        # never from the AI-written summary: find that section independently
        lines = (folder / q.path).read_text(encoding="utf-8").split("\n")
        heads = [i for i, ln in enumerate(lines, 1) if ln.startswith("#")]
        summ = [i for i in heads if lines[i - 1].strip().lower() == "## summary"]
        if summ:
            end = next(i for i in heads if i > summ[0])
            assert not (summ[0] <= q.line_start < end), q
    cleaned, failures = verify_claims(ps, {s.id: s for s in sources})
    assert failures == [] and cleaned == ps
