"""`draft icp` through the model path (llm_icp): real openai client, HTTP mocked by respx.

The model lies (wrong segment figures, invented quotes, a segment singled out on flat data);
code must keep none of it as fact. The ICP prompt carries analysis figures only, never CRM rows.
"""

from __future__ import annotations

import csv
import json
import shutil

import httpx
import pytest
import respx
from pydantic import BaseModel

from persona_assistant.analysis.segments import analyze_workspace
from persona_assistant.services.drafting import draft_icp
from persona_assistant.llm.settings import LLMSettings, SecretStr
from persona_assistant.schemas import ICP, Claim, QuoteEvidence, StatEvidence
from persona_assistant.workspace import Workspace
from test_draft import completion  # one mocked chat-completion body for draft tests

BASE = "http://llm.test/v1"
URL = f"{BASE}/chat/completions"
SETTINGS = dict(model="test-model", base_url=BASE, api_key=SecretStr("sk-test"), timeout=5.0, max_retries=0)

NOTE_PATH = "notes/controller-ironclad.md"
REAL = "Inventory and accrual reconciliations are manual, and we rebuild the same spreadsheets every single month."
FAKE = "Our auditors charge us an extra ninety thousand dollars every quarter for the close."


def settings() -> LLMSettings:
    return LLMSettings(**SETTINGS)


@pytest.fixture
def ws(tmp_path, fixtures_dir) -> Workspace:
    shutil.copytree(fixtures_dir / "sample-workspace", tmp_path / "ws")
    return Workspace(tmp_path / "ws")


def schema_of(request: httpx.Request) -> str:
    return json.loads(request.content)["response_format"]["json_schema"]["name"]


def mock_model(mock, icp_answer: dict):
    """One route: evidence extraction answers 'nothing found'; every ICP request gets `icp_answer`."""
    def answer(request: httpx.Request) -> httpx.Response:
        if schema_of(request) == "ICPAnswer":
            return completion(icp_answer)
        body = json.loads(request.content)
        assert schema_of(request) == "ExtractedEvidence", body["response_format"]
        return completion({"source_id": "x", "items": [], "role": "unknown", "seniority": "unknown",
                           "function": "unknown", "buying_role": "unknown"})
    return mock.post(URL).mock(side_effect=answer)


def icp_calls(route) -> list[httpx.Request]:
    return [c.request for c in route.calls if schema_of(c.request) == "ICPAnswer"]


def stat(seg, **wrong) -> dict:
    """A StatEvidence dict for `seg` (an analysis Segment), with some figures overridden."""
    d = {"kind": "statistic", "segment_id": seg.id, "closed": seg.closed, "won": seg.won,
         "win_rate": seg.win_rate, "ci_low": seg.ci_low, "ci_high": seg.ci_high, "deal_ids": []}
    d.update(wrong)
    return d


def quote(text: str, line: int, source_id: str = "controller-ironclad") -> dict:
    return {"kind": "quote", "source_id": source_id, "path": NOTE_PATH, "line_start": line, "line_end": line,
            "text": text}


def claim(text: str, evidence: list, status: str = "supported", confidence: str = "high") -> dict:
    return {"text": text, "evidence": evidence, "confidence": confidence, "status": status}


def sufficiency(analysis) -> dict:
    return analysis.sufficiency.model_dump()


def walk(obj, kind):
    if isinstance(obj, kind):
        yield obj
    elif isinstance(obj, list):
        for x in obj:
            yield from walk(x, kind)
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from walk(getattr(obj, name), kind)


def claims_with_stat_of(obj):
    """Every Claim (with its evidence list) anywhere in the ICP."""
    return list(walk(obj, Claim))


# --------------------------------------------------------------------------- 1. wrong figures, fake quote


def test_wrong_statistics_and_fabricated_quote_never_reach_the_saved_icp(ws):
    analysis = analyze_workspace(ws)
    seg = analysis.segment("industry=Software")
    worse = analysis.segment("industry=Healthcare")
    assert seg is not None and worse is not None
    line = next(i for i, ln in enumerate((ws.root / NOTE_PATH).read_text().splitlines(), 1) if REAL[:40] in ln)
    wrong_rate = stat(seg, win_rate=0.9, ci_low=0.85, ci_high=0.95)
    wrong_counts = stat(seg, closed=seg.closed + 50, won=seg.won + 40)
    answer = {
        "id": "whatever", "name": "Mid-market software", "summary": "Software companies win most.",
        "crm_singles_out_segment": True,
        "firmographics": {"industries": [
            claim("Software wins at 90%", [wrong_rate]),
            claim("Software closes more deals", [wrong_counts]),
            claim("Software beats the baseline", [stat(seg)])],  # correct: kept
            "employee_bands": [], "revenue_bands": [], "regions": [], "technographics": [], "other": []},
        "segments": [seg.id],
        "challenges": [
            claim("Audit fees are high", [quote(FAKE, line)]),
            claim(FAKE, [quote(FAKE, line)]),
            claim("Reconciliations are manual", [quote(REAL, line)])],
        "goals": [], "traits": [],
        "long_term_value": claim(FAKE, [], status="inferred", confidence="low"),
        "advocacy_potential": claim("unknown", [], status="unknown", confidence="unknown"),
        "qualification_signals": [{"criterion": "Industry is Software", "dimension": "industry",
                                   "value": "Software", "weight": 0.8, "evidence": [wrong_rate],
                                   "confidence": "high"}],
        "disqualifiers": [{"criterion": "Healthcare", "dimension": "industry", "value": "Healthcare",
                           "reason": "loses", "evidence": [stat(worse, won=worse.won + 1)],
                           "confidence": "high"}],
        "data_sufficiency": sufficiency(analysis)}

    with respx.mock(assert_all_mocked=True) as mock:
        route = mock_model(mock, answer)
        icp, version, notes = draft_icp(ws, settings())

    calls = icp_calls(route)
    assert len(calls) == 2  # the answer, then ONE re-ask repeating it
    reask = json.loads(calls[1].content)["messages"][-1]["content"]
    assert "win_rate 0.9" in reask and "quote not found" in reask

    saved_text = version.path.read_text()
    assert version.path == ws.drafts_dir / "icp" / "v0001.json"
    saved = ICP.model_validate_json(saved_text)
    assert saved == icp and saved.id == "icp-primary"
    assert "ninety thousand" not in saved_text
    assert "ninety thousand" not in version.path.with_suffix(".md").read_text()

    stats = list(walk(saved, StatEvidence))
    assert stats, "the correct statistic must survive"
    for ev in stats:  # every figure saved is the analysis' own
        s = analysis.segment(ev.segment_id)
        assert s is not None
        assert (ev.closed, ev.won) == (s.closed, s.won)
        assert (ev.win_rate, ev.ci_low, ev.ci_high) == pytest.approx((s.win_rate, s.ci_low, s.ci_high), abs=1e-9)
        assert ev.deal_ids and set(ev.deal_ids) <= set(s.deal_ids)  # filled by code

    industries = {c.text: c for c in saved.firmographics.industries}
    for text in ("Software wins at 90%", "Software closes more deals"):
        assert industries[text].evidence == [] and industries[text].status != "supported"
    assert industries["Software beats the baseline"].status == "supported"
    assert len(industries["Software beats the baseline"].evidence) == 1
    assert saved.qualification_signals[0].evidence == [] and saved.qualification_signals[0].confidence == "low"
    assert saved.disqualifiers[0].evidence == []

    for c in claims_with_stat_of(saved):  # nothing shown as fact without evidence
        assert c.status != "supported" or c.evidence, c.text
    challenges = {c.text: c for c in saved.challenges}
    assert FAKE not in challenges  # the claim repeating the invented quote is removed
    assert challenges["Audit fees are high"].status != "supported" and not challenges["Audit fees are high"].evidence
    real = challenges["Reconciliations are manual"]
    assert real.status == "supported" and [q.text for q in real.evidence] == [REAL]
    assert all(isinstance(q, QuoteEvidence) and q.path == NOTE_PATH for q in real.evidence)
    assert saved.long_term_value.text == "unknown"
    assert any("win_rate" in n for n in notes) and any("not found" in n for n in notes)


def test_figures_copied_at_prompt_precision_are_kept(ws):
    """The prompt shows rates to 4 decimals; a model copying them exactly is not lying."""
    analysis = analyze_workspace(ws)
    seg = analysis.segment("industry=Software")
    as_shown = stat(seg, win_rate=round(seg.win_rate, 4), ci_low=round(seg.ci_low, 4),
                    ci_high=round(seg.ci_high, 4))
    answer = {"id": "x", "name": "Software", "summary": "s", "crm_singles_out_segment": True,
              "firmographics": {"industries": [claim("Software wins", [as_shown])], "employee_bands": [],
                                "revenue_bands": [], "regions": [], "technographics": [], "other": []},
              "data_sufficiency": sufficiency(analysis)}
    shutil.rmtree(ws.notes_dir)
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock_model(mock, answer)
        icp, _, _ = draft_icp(ws, settings())
    assert len(icp_calls(route)) == 1  # nothing to re-ask about
    ev = icp.firmographics.industries[0].evidence
    assert len(ev) == 1 and icp.firmographics.industries[0].status == "supported"
    assert ev[0].win_rate == pytest.approx(seg.win_rate, abs=1e-9)  # saved with the analysis' exact figure


# --------------------------------------------------------------------------- 2. flat data


def write_flat_crm(root) -> None:
    """Four industries, 40 closed deals each, 10 won in every one: nothing is significant."""
    crm = root / "crm"
    crm.mkdir(parents=True)
    industries = ["Software", "Retail", "Healthcare", "Logistics"]
    with open(crm / "companies.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Record ID", "Company name", "Industry", "Number of Employees", "Annual Revenue",
                    "Country/Region"])
        for i, ind in enumerate(industries):
            for j in range(4):
                w.writerow([9000 + i * 10 + j, f"Flat {ind} {j}", ind, 300, 60000000, "United States"])
    with open(crm / "deals.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Record ID", "Deal Name", "Deal Stage", "Amount", "Create Date", "Close Date", "Pipeline",
                    "Associated Company", "Deal owner"])
        n = 0
        for ind in industries:
            for k in range(40):
                n += 1
                company = f"Flat {ind} {k % 4}"
                w.writerow([70000000 + n, f"{company} - Plan", "Closed Won" if k % 4 == 0 else "Closed Lost",
                            "$10,000.00", "2024-01-01", "2024-02-01", "Sales Pipeline", company, "Sam Owner"])


def test_claimed_winner_on_flat_data_is_not_saved(tmp_path):
    write_flat_crm(tmp_path)
    ws = Workspace(tmp_path)
    analysis = analyze_workspace(ws)
    assert analysis.segments and not any(s.verdict == "better" for s in analysis.segments)
    seg = analysis.segment("industry=Software")
    answer = {"id": "x", "name": "Software", "summary": "Software is the ICP.", "crm_singles_out_segment": True,
              "segments": [seg.id],
              "firmographics": {"industries": [claim("Software", [stat(seg)])], "employee_bands": [],
                                "revenue_bands": [], "regions": [], "technographics": [], "other": []},
              "data_sufficiency": {"won": 999, "lost": 1, "verdict": "sufficient", "note": "made up"}}
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock_model(mock, answer)
        icp, version, notes = draft_icp(ws, settings())
    assert len(icp_calls(route)) == 1
    saved = ICP.model_validate_json(version.path.read_text())
    assert saved.crm_singles_out_segment is False and icp.crm_singles_out_segment is False
    assert saved.data_sufficiency == analysis.sufficiency  # code, not the model, decides
    assert any("crm_singles_out_segment set to false" in n for n in notes)


# --------------------------------------------------------------------------- 3. no CRM rows in the prompt


def tenfold(src: Workspace, dst_root) -> Workspace:
    """A copy of `src` whose deals file has every row ten times, each with a new deal id."""
    shutil.copytree(src.root, dst_root)
    path = dst_root / "crm" / "deals.csv"
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    out = [header]
    for k in range(10):
        for r in body:
            out.append([f"{r[0]}{k}" if k else r[0], *r[1:]])
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(out)
    return Workspace(dst_root)


def icp_request_body(ws) -> str:
    analysis = analyze_workspace(ws)
    answer = {"id": "x", "name": "n", "summary": "s", "crm_singles_out_segment": False,
              "data_sufficiency": sufficiency(analysis)}
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock_model(mock, answer)
        draft_icp(ws, settings())
    calls = icp_calls(route)
    assert len(calls) == 1
    return calls[0].content.decode()


def crm_cells(ws, column: str, name: str) -> set[str]:
    with open(ws.crm_dir / name, newline="", encoding="utf-8") as f:
        return {r[column] for r in csv.DictReader(f)}


def test_icp_prompt_carries_no_crm_rows_and_does_not_grow_with_deals(ws, tmp_path):
    body = icp_request_body(ws)
    text = json.dumps(json.loads(body)["messages"])
    deal_ids = crm_cells(ws, "Record ID", "deals.csv")
    company_ids = crm_cells(ws, "Record ID", "companies.csv")
    assert len(deal_ids) > 700
    assert not [d for d in deal_ids | company_ids if d in text]
    assert not [n for n in crm_cells(ws, "Deal Name", "deals.csv") if n in text]
    assert not [n for n in crm_cells(ws, "Company name", "companies.csv") if n in text]
    assert not [n for n in crm_cells(ws, "Deal owner", "deals.csv") if n in text]
    assert "industry=Software" in text  # the analysis figures are there

    big = tenfold(ws, tmp_path / "big")
    assert analyze_workspace(big).baseline.closed == 10 * analyze_workspace(ws).baseline.closed
    big_body = icp_request_body(big)
    assert not [d for d in crm_cells(big, "Record ID", "deals.csv") if d in big_body]
    assert abs(len(big_body) - len(body)) / len(body) < 0.05, (len(body), len(big_body))
