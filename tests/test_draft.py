"""Drafting: offline engine and LLM path (respx-mocked), versions, diff, history and the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import httpx
import pytest
import respx
from pydantic import BaseModel

from persona_assistant.draft.diff import diff_versions
from persona_assistant.services.drafting import draft_icp
from persona_assistant.services.drafting import draft_personas
from persona_assistant.errors import UsageError
from persona_assistant.llm.settings import LLMSettings, SecretStr
from persona_assistant.schemas import ICP, PersonaSet, QuoteEvidence
from persona_assistant.workspace import Workspace

OFFLINE = LLMSettings(offline=True)
BASE = "http://llm.test/v1"
URL = f"{BASE}/chat/completions"


@pytest.fixture
def ws(tmp_path, fixtures_dir) -> Workspace:
    shutil.copytree(fixtures_dir / "sample-workspace", tmp_path / "ws")
    return Workspace(tmp_path / "ws")


def quotes_of(obj):
    """Every QuoteEvidence anywhere in a model."""
    if isinstance(obj, QuoteEvidence):
        yield obj
    elif isinstance(obj, list):
        for x in obj:
            yield from quotes_of(x)
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from quotes_of(getattr(obj, name))


def assert_quotes_in_files(root, model) -> int:
    n = 0
    for q in quotes_of(model):
        lines = (root / q.path).read_text(encoding="utf-8").splitlines()[q.line_start - 1: q.line_end]
        cited = " ".join(" ".join(lines).split())
        assert " ".join(q.text.split()) in cited, (q.path, q.line_start, q.text)
        n += 1
    return n


# --------------------------------------------------------------------------- offline


def test_offline_drafts_are_versioned_and_every_quote_is_in_its_file(ws):
    icp, v_icp, _ = draft_icp(ws, OFFLINE)
    pset, v1, notes = draft_personas(ws, OFFLINE)
    assert (v_icp.label, v1.label) == ("v0001", "v0001")
    assert v1.path.with_suffix(".md").is_file()
    saved = PersonaSet.model_validate_json(v1.path.read_text())
    assert saved == pset and len(saved.personas) >= 2
    assert all(p.icp_id == icp.id for p in saved.personas)  # the latest ICP is linked
    assert assert_quotes_in_files(ws.root, saved) > 20
    assert assert_quotes_in_files(ws.root, ICP.model_validate_json(v_icp.path.read_text())) >= 1
    for p in saved.personas:  # nothing shown as fact without evidence
        for c in p.pains + p.goals:
            assert c.status != "supported" or c.evidence
    before = v1.path.read_bytes()
    _, again, _ = draft_personas(ws, OFFLINE)  # same notes: the same draft is not saved twice
    assert again.unchanged and again.label == "v0001" and v1.path.read_bytes() == before
    (ws.notes_dir / "controller-zenith.md").write_text(
        "---\nname: Ola Berg\nrole: Controller\ncompany: Zenith Tools\n---\n\n"
        "**Ola:** Our intercompany eliminations are manual and the spreadsheet breaks at midnight.\n")
    _, v2, _ = draft_personas(ws, OFFLINE)
    assert v2.label == "v0002" and not v2.unchanged and v1.path.read_bytes() == before
    assert [v.label for v in ws.versions("personas")] == ["v0001", "v0002"]


def test_icp_never_singles_out_a_segment_without_a_better_one(ws):
    icp, _, _ = draft_icp(ws, OFFLINE)
    from persona_assistant.analysis.segments import analyze_workspace

    analysis = analyze_workspace(ws)
    assert icp.crm_singles_out_segment == any(s.verdict == "better" for s in analysis.segments)
    assert icp.data_sufficiency == analysis.sufficiency


def test_no_notes_is_a_usage_error_naming_the_folder(tmp_path):
    (tmp_path / "notes").mkdir()
    with pytest.raises(UsageError, match="notes"):
        draft_personas(Workspace(tmp_path), OFFLINE)


def test_diff_after_a_new_note_names_the_new_source(ws):
    draft_personas(ws, OFFLINE)
    (ws.notes_dir / "controller-zenith.md").write_text(
        "---\nname: Ola Berg\nrole: Controller\ncompany: Zenith Tools\n---\n\n"
        "**Interviewer:** What is hard?\n\n"
        "**Ola:** Our intercompany eliminations are manual and every month the spreadsheet breaks at midnight.\n\n"
        "**Interviewer:** What do you want?\n\n"
        "**Ola:** We want to close the books in five days and stop rebuilding reconciliations by hand.\n",
        encoding="utf-8")
    draft_personas(ws, OFFLINE)
    d = diff_versions(ws, "personas")
    assert (d.old, d.new) == ("v0001", "v0002")
    assert "notes/controller-zenith.md" in d.new_sources
    changed = [c for c in d.changes if "notes/controller-zenith.md" in c.new_sources]
    assert changed and all(c.field.startswith("personas.") for c in changed)
    assert not any("notes/controller-zenith.md" in c.sources for c in d.changes if c.removed and not c.added
                   and not c.evidence)
    with pytest.raises(UsageError, match="need two versions of icp"):
        diff_versions(ws, "icp")


# --------------------------------------------------------------------------- LLM path


NOTE = ("---\nname: Dana Quill\nrole: CFO\ncompany: Acme Corp\n---\n\n"
        "**Interviewer:** What hurts most?\n\n"
        "**Dana:** Our close takes twelve days because reconciliations live in spreadsheets.\n\n"
        "**Interviewer:** Why now?\n\n"
        "**Dana:** The auditors flagged our cash reconciliations last year.\n")
REAL = "Our close takes twelve days because reconciliations live in spreadsheets."
FAKE = "We lose forty hours a week to manual journal entries in Excel."


def completion(content: dict) -> httpx.Response:
    return httpx.Response(200, json={
        "id": "c", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": json.dumps(content)}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})


def persona_answer() -> dict:
    quote = lambda text, line: {"kind": "quote", "source_id": "cfo", "path": "notes/cfo.md",  # noqa: E731
                                "line_start": line, "line_end": line, "text": text}
    return {"id": "whatever", "name": "Finance Fiona", "archetype": "A CFO who wants a faster close",
            "role": "CFO", "seniority": "c_level", "function": "finance", "buying_role": "financial_buyer",
            "pains": [
                {"text": "Manual journal entries eat the week", "evidence": [quote(FAKE, 9)],
                 "confidence": "high", "status": "supported"},
                {"text": FAKE, "evidence": [quote(FAKE, 9)], "confidence": "high", "status": "supported"},
                {"text": "The close is slow", "evidence": [quote(REAL, 9)], "confidence": "medium",
                 "status": "supported"}],
            "quotes": [quote(FAKE, 9), quote(REAL, 9)]}


@pytest.fixture
def llm_ws(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "cfo.md").write_text(NOTE, encoding="utf-8")
    return Workspace(tmp_path)


def draft_with_extract(ws, second_item: dict):
    """draft_personas against a mocked model: the extraction returns REAL (line 9) and
    `second_item`; synthesis and its one re-ask return persona_answer()."""
    settings = LLMSettings(model="test-model", base_url=BASE, api_key=SecretStr("sk-test"), timeout=5.0,
                           max_retries=0)
    extracted = {"source_id": "cfo", "role": "CFO", "seniority": "c_level", "function": "finance",
                 "buying_role": "financial_buyer", "items": [
                     {"category": "pains", "line_start": 9, "line_end": 9, "quote": REAL, "summary": "slow close"},
                     second_item]}
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=[completion(extracted), completion(persona_answer()),
                                                 completion(persona_answer())])
        pset, version, notes = draft_personas(ws, settings)
    return route, version, notes


def test_llm_fabricated_quote_is_never_saved(llm_ws):
    route, version, notes = draft_with_extract(
        llm_ws, {"category": "pains", "line_start": 9, "line_end": 9, "quote": FAKE, "summary": "invented"})
    assert route.call_count == 3  # extract, synthesis, ONE re-ask
    reask = json.loads(route.calls[2].request.content)["messages"][-1]["content"]
    assert "quote not found" in reask and "forty hours" in reask
    bodies = [c.request.content.decode() for c in route.calls]
    assert not any("Dana Quill" in b for b in bodies)  # interviewee name redacted
    assert "forty hours" not in json.dumps(json.loads(bodies[1]))  # unverified extract never reaches synthesis
    saved = version.path.read_text()
    assert "forty hours" not in saved and "forty hours" not in version.path.with_suffix(".md").read_text()
    p = PersonaSet.model_validate_json(saved).personas[0]
    assert p.id == "cfo-c-level" or p.sources == ["cfo"]
    by_text = {c.text: c for c in p.pains}
    assert by_text["Manual journal entries eat the week"].status != "supported"
    assert not by_text["Manual journal entries eat the week"].evidence
    assert by_text["The close is slow"].status == "supported"
    assert [q.text for q in p.quotes] == [REAL]
    assert any("not found" in n for n in notes)
    assert_quotes_in_files(llm_ws.root, p)


def test_llm_extracted_host_words_never_reach_synthesis(llm_ws):
    route, version, notes = draft_with_extract(
        llm_ws, {"category": "pains", "line_start": 7, "line_end": 7, "quote": "What hurts most?",
                 "summary": "the interviewer's question"})
    synthesis_request = json.loads(route.calls[1].request.content)
    assert "What hurts most?" not in json.dumps(synthesis_request["messages"][-1])
    assert REAL in json.dumps(synthesis_request)
    assert any("host or interviewer in notes/cfo.md (line 7)" in n for n in notes)


def test_llm_model_error_propagates_as_one_line(llm_ws):
    from persona_assistant.errors import ModelError

    settings = LLMSettings(model="test-model", base_url=BASE, api_key=SecretStr("sk-test"), timeout=5.0,
                           max_retries=0)
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(URL).mock(return_value=httpx.Response(401, json={"error": {"message": "bad key"}}))
        with pytest.raises(ModelError) as err:
            draft_personas(llm_ws, settings)
    assert "401" in err.value.message and "\n" not in err.value.message
    assert llm_ws.versions("personas") == []


# --------------------------------------------------------------------------- CLI


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "persona_assistant", *args], capture_output=True, text=True)


def test_cli_json_is_pure_and_history_diff_work(ws):
    out = run_cli("draft", "personas", "-w", str(ws.root), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)  # nothing but JSON on stdout
    assert data["version"] == "v0001" and PersonaSet.model_validate(data["draft"])
    assert "offline engine" in out.stderr
    again = run_cli("draft", "personas", "-w", str(ws.root))  # identical rerun: said, not saved
    assert again.returncode == 0 and again.stdout.startswith("unchanged:") and "no new version saved" in again.stdout
    assert [v.label for v in ws.versions("personas")] == ["v0001"]
    (ws.notes_dir / "controller-zenith.md").write_text(
        "---\nname: Ola Berg\nrole: Controller\ncompany: Zenith Tools\n---\n\n"
        "**Ola:** Our intercompany eliminations are manual and the spreadsheet breaks at midnight.\n")
    assert run_cli("draft", "personas", "-w", str(ws.root)).returncode == 0
    hist = json.loads(run_cli("history", "personas", "-w", str(ws.root), "--json").stdout)
    assert [h["version"] for h in hist] == ["v0001", "v0002"] and hist[0]["personas"] >= 2
    d = run_cli("diff", "personas", "-w", str(ws.root), "--json")
    assert d.returncode == 0 and json.loads(d.stdout)["new"] == "v0002"


@pytest.mark.parametrize("args, code, text", [
    (("diff", "personas"), 2, "need two versions of personas"),
    (("diff", "nonsense"), 2, "KIND"),
    (("history",), 2, "no draft versions"),
    (("draft", "personas"), 2, "no interview notes in"),
])
def test_cli_errors_are_one_line(tmp_path, args, code, text):
    out = run_cli(*args, "-w", str(tmp_path))
    assert out.returncode == code
    last = out.stderr.splitlines()[-1]
    assert last.startswith("error: ") and text in last  # one line, the last one (after any notice)
    assert out.stdout == "" and "Traceback" not in out.stderr
    assert [ln for ln in out.stderr.splitlines() if ln.startswith("error:")] == [last]
