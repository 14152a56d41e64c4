"""Code-checked evidence: quotes must be verbatim in their source, figures equal to the analysis."""

from __future__ import annotations

from pathlib import Path

import pytest

from persona_assistant.draft.evidence import verify_claims, verify_quote
from persona_assistant.ingest.notes import load_source_file
from persona_assistant.schemas import (
    ICP, Analysis, Claim, DataSufficiency, Persona, PersonaSet, QualificationSignal, QuoteEvidence,
    Segment, SegmentStats, StatEvidence,
)


@pytest.fixture
def samples(fixtures_dir) -> Path:
    return fixtures_dir / "notes-samples"


def by_id(*paths: Path) -> dict:
    return {s.id: s for p in paths for s in load_source_file(p, root=p.parent)}


def q(source_id: str, text: str, line: int = 1, path: str = "x.md") -> QuoteEvidence:
    return QuoteEvidence(source_id=source_id, path=path, line_start=line, line_end=line, text=text)


def test_verbatim_quote_is_found_and_its_lines_corrected(samples):
    sources = by_id(samples / "frontmatter-turns.md")
    got = verify_quote(q("frontmatter-turns", "We reconcile everything by hand in spreadsheets.", 1), sources)
    assert got is not None and got.path == "frontmatter-turns.md"
    lines = (samples / "frontmatter-turns.md").read_text().split("\n")
    expected = next(i for i, ln in enumerate(lines, 1) if "We reconcile everything" in ln)
    assert (got.line_start, got.line_end) == (expected, expected)
    assert got.text == "We reconcile everything by hand in spreadsheets."


def test_whitespace_across_line_breaks_quote_chars_and_dashes(samples, tmp_path):
    sources = by_id(samples / "frontmatter-turns.md", samples / "cp1252.txt")
    across = verify_quote(q("frontmatter-turns", "a constant   scramble.\nWe reconcile everything"), sources)
    assert across is not None and across.line_end == across.line_start + 1
    # curly quotes and an en dash in the file; straight quotes and a hyphen in the quote
    dash = verify_quote(q("cp1252", 'reconciliations were "not reviewable" - that hurt.'), sources)
    assert dash is not None and dash.line_start == 2
    p = tmp_path / "apos.md"
    p.write_text("**Interviewer:** Hi?\n**Lee:** We're on NetSuite — and it’s fine.\n")
    s = by_id(p)
    assert verify_quote(q("apos", "We’re on NetSuite - and it's fine."), s) is not None


def test_case_is_not_folded_and_fabrications_fail(samples):
    sources = by_id(samples / "frontmatter-turns.md")
    assert verify_quote(q("frontmatter-turns", "our close takes nine days"), sources) is None
    assert verify_quote(q("frontmatter-turns", "Our close takes ten days"), sources) is None
    assert verify_quote(q("frontmatter-turns", "close"), sources) is None  # one word is not evidence
    assert verify_quote(q("nope", "Our close takes nine days", path="other.md"), sources) is None


def test_quote_in_the_ai_summary_is_rejected(samples):
    sources = by_id(samples / "summary.md")
    assert verify_quote(q("summary", "alert fatigue is the biggest problem for the on-call team"), sources) is None
    assert verify_quote(q("summary", "Rowan talks about observability"), sources) is None  # description
    assert verify_quote(q("summary", "Alert fatigue is real for us."), sources) is not None


def test_nearest_occurrence_and_fallback_by_path(tmp_path):
    p = tmp_path / "twice.md"
    body = ["**Interviewer:** Hi?", "**Kim:** Close is slow for us."] + ["**Kim:** filler line."] * 7 + [
        "**Kim:** Close is slow for us."]
    p.write_text("\n".join(body) + "\n")
    sources = by_id(p)
    assert verify_quote(q("twice", "Close is slow for us.", 9), sources).line_start == 10
    assert verify_quote(q("twice", "Close is slow for us.", 1), sources).line_start == 2
    moved = verify_quote(q("old-id", "Close is slow for us.", 1, path="twice.md"), sources)
    assert moved is not None and moved.source_id == "twice"


def test_quote_must_be_inside_its_own_interview(samples):
    sources = by_id(samples / "multi.md")
    text = "Our spreadsheets break whenever someone adds a row."
    assert verify_quote(q("multi#3", text), sources) is not None
    assert verify_quote(q("multi#1", text), sources) is None


# --------------------------------------------------------------------------- verify_claims


def analysis() -> Analysis:
    seg = Segment(id="industry=Software", dimensions={"industry": "Software"}, closed=40, won=28, lost=12,
                  win_rate=0.7, ci_low=0.54, ci_high=0.82, lift=1.4, verdict="better",
                  deal_ids=["D1", "D2", "D3"])
    return Analysis(
        baseline=SegmentStats(closed=100, won=50, lost=50, win_rate=0.5, ci_low=0.4, ci_high=0.6),
        dimensions=["industry"], min_support=10, correction="Holm", segments=[seg],
        sufficiency=DataSufficiency(won=50, lost=50, verdict="sufficient"), verdict="Software wins more")


def stat(**over) -> StatEvidence:
    base = dict(segment_id="industry=Software", closed=40, won=28, win_rate=0.7, ci_low=0.54,
                ci_high=0.82, deal_ids=["D1", "D3"])
    base.update(over)
    return StatEvidence(**base)


def persona(**fields) -> Persona:
    return Persona(id="p", name="Ana, the Controller", archetype="a", role="Controller", **fields)


def test_verify_claims_drops_quotes_lowers_confidence_and_marks_inferred(samples):
    sources = by_id(samples / "frontmatter-turns.md")
    real = q("frontmatter-turns", "Our close takes nine days and it is a constant scramble.", 3)
    fake = q("frontmatter-turns", "We love our current close process.", 3, path="frontmatter-turns.md")
    p = persona(
        pains=[Claim(text="slow close", evidence=[real, fake], confidence="high", status="supported"),
               Claim(text="invented", evidence=[fake], confidence="medium", status="supported"),
               Claim(text="fine", evidence=[real], confidence="low", status="supported")],
        quotes=[real, fake])
    cleaned, failures = verify_claims(p, sources)
    first, second, third = cleaned.pains
    assert first.status == "supported" and first.confidence == "medium" and len(first.evidence) == 1
    assert first.evidence[0].line_start != 3  # corrected to where it really is
    assert second.status == "inferred" and second.confidence == "low" and second.evidence == []
    assert third.confidence == "low" and third.status == "supported"
    assert cleaned.quotes == [first.evidence[0]]
    assert "pains[1]: quote not found in frontmatter-turns.md: 'We love our current close process.'" in failures
    assert any(f.startswith("pains[0]:") for f in failures) and any(f.startswith("quotes[1]:") for f in failures)
    # a set names the persona in each failure
    _, set_failures = verify_claims(PersonaSet(personas=[p]), sources)
    assert any(f.startswith("personas[0].pains[1]:") for f in set_failures)


def test_statistics_must_equal_the_analysis():
    a = analysis()
    claims = [Claim(text=f"c{i}", evidence=[ev], confidence="high", status="supported") for i, ev in enumerate([
        stat(),
        stat(win_rate=0.71),
        stat(closed=41),
        stat(deal_ids=["D1", "D9"]),
        stat(segment_id="industry=Retail"),
        stat(ci_high=0.82 + 5e-7),  # within tolerance
    ])]
    icp = ICP(id="i", name="n", summary="s", crm_singles_out_segment=True, challenges=claims,
              qualification_signals=[QualificationSignal(criterion="x", weight=0.3, evidence=[stat(won=1)],
                                                         confidence="high")],
              data_sufficiency=a.sufficiency)
    cleaned, failures = verify_claims(icp, {}, a)
    kept = [bool(c.evidence) for c in cleaned.challenges]
    assert kept == [True, False, False, False, False, True]
    assert all(c.status == "inferred" for c, k in zip(cleaned.challenges, kept) if not k)
    assert cleaned.qualification_signals[0].evidence == [] and cleaned.qualification_signals[0].confidence == "low"
    assert any("win_rate" in f for f in failures) and any("D9" in f for f in failures)
    assert any("no such segment" in f for f in failures)
    # without an analysis no figure can be checked, so none survives
    no_analysis, fails = verify_claims(icp, {}, None)
    assert not any(c.evidence for c in no_analysis.challenges) and fails


def test_clean_model_passes_unchanged(samples):
    sources = by_id(samples / "summary.md")
    good = q("summary", "Alert fatigue is real for us.", 1)
    fixed = verify_quote(good, sources)
    p = persona(pains=[Claim(text="alert fatigue", evidence=[fixed], confidence="low", status="supported")])
    cleaned, failures = verify_claims(p, sources)
    assert cleaned == p and failures == []


# --------------------------------------------------------------------------- the one walk over evidence


def test_the_walk_reaches_every_evidence_item_with_its_name_and_copies_nothing_it_does_not_change():
    from persona_assistant.draft.evidence import evidence_items, map_evidence

    a = analysis()
    fig = stat()
    icp = ICP(id="i", name="n", summary="s", crm_singles_out_segment=True,
              firmographics={"industries": [Claim(text="software", evidence=[fig])]},
              long_term_value=Claim(text="ltv", evidence=[q("s", "we renew every year", 4)]),
              disqualifiers=[{"criterion": "retail", "reason": "r", "evidence": [fig]}],
              data_sufficiency=a.sufficiency)
    named = [(where, ev.kind) for where, ev in evidence_items(icp)]
    assert named == [("firmographics.industries[0]", "statistic"), ("long_term_value", "quote"),
                     ("disqualifiers[0]", "statistic")]
    p = persona(pains=[Claim(text="x", evidence=[q("s", "one two three")])], quotes=[q("s", "four five six")])
    assert [w for w, _ in evidence_items(PersonaSet(personas=[p]))] == ["personas[0].pains[0]", "personas[0].quotes[0]"]
    assert map_evidence(p, lambda ev, _w: ev) is p  # nothing changed, nothing copied
    dropped = map_evidence(p, lambda ev, _w: None if ev.text == "four five six" else ev)
    assert dropped.quotes == [] and dropped.pains == p.pains and p.quotes  # the original is untouched


def test_fabricated_quotes_are_found_wherever_the_model_put_them(samples):
    from persona_assistant.draft.evidence import fabricated_quotes

    sources = by_id(samples / "frontmatter-turns.md")
    real = q("frontmatter-turns", "Our close takes nine days and it is a constant scramble.", 3)
    fake = q("frontmatter-turns", "We love our current close process.", 3)
    icp = ICP(id="i", name="n", summary="s", crm_singles_out_segment=False,
              qualification_signals=[QualificationSignal(criterion="c", weight=0.2, evidence=[real, fake])],
              data_sufficiency=analysis().sufficiency)
    assert fabricated_quotes(icp, sources) == ["We love our current close process."]
