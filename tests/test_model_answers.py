"""Keep what is valid: item-wise salvage and normalisation of model answers (llm/answers.py),
through the real openai client with HTTP mocked by respx."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from persona_assistant.services.drafting import draft_personas
from persona_assistant.errors import ModelError
from persona_assistant.llm.answers import close_truncated, normalise, salvage
from persona_assistant.llm.settings import LLMSettings, SecretStr
from persona_assistant.llm.structured import ExtractedEvidence, PersonaGrouping
from persona_assistant.schemas import PersonaSet
from persona_assistant.workspace import Workspace

BASE = "http://llm.test/v1"
URL = f"{BASE}/chat/completions"
NOTE = ("---\nname: Rui Tamsin\nrole: Head of Marketing\ncompany: Lumen Ltd\n---\n\n"
        "**Q:** What is hard?\n\n"
        "**Rui:** Attribution reports take a week to assemble by hand.\n\n"
        "**Q:** And budgets?\n\n"
        "**Rui:** The board cut our paid budget by a third this year.\n\n"
        "**Rui:** We need pipeline numbers the CFO believes.\n")
Q1 = "Attribution reports take a week to assemble by hand."
Q2 = "The board cut our paid budget by a third this year."
Q3 = "We need pipeline numbers the CFO believes."


def completion(content, finish: str = "stop") -> httpx.Response:
    text = content if isinstance(content, str) else json.dumps(content)
    return httpx.Response(200, json={
        "id": "c", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})


def settings() -> LLMSettings:
    return LLMSettings(model="test-model", base_url=BASE, api_key=SecretStr("sk-test"), timeout=5.0,
                       max_retries=0)


@pytest.fixture
def ws(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mkt.md").write_text(NOTE, encoding="utf-8")
    return Workspace(tmp_path)


def item(quote, line, category="pains"):
    return {"category": category, "line_start": line, "line_end": line, "quote": quote, "summary": "s"}


EXTRACTED = {"source_id": "mkt", "role": "Head of Marketing", "seniority": " Director ",
             "function": "marketing", "buying_role": "Economic Buyer",
             "items": [item(Q1, 9), item("", 9), item(Q2, 13), item(Q3, 0), item(Q3, 15, "Goals")]}


def persona(pid: str = "Marketing Leaders") -> dict:
    return {"id": pid, "name": "Marketing Mara", "archetype": "A marketer who must prove pipeline",
            "role": "Head of Marketing", "seniority": "director", "function": "marketing",
            "buying_role": "economic_buyer",
            "pains": [{"text": "Attribution is manual", "confidence": "medium", "status": "supported",
                       "evidence": [{"kind": "quote", "source_id": "mkt", "path": "notes/mkt.md",
                                     "line_start": 9, "line_end": 9, "text": Q1}]}]}


def test_extraction_with_three_valid_and_two_invalid_items_keeps_three_and_notes_two(ws):
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=[completion(EXTRACTED), completion(EXTRACTED),
                                                 completion(persona()), completion(persona())])
        pset, version, notes = draft_personas(ws, settings())
    # extraction, ONE re-ask for the dropped items (answered identically: the re-asks end), synthesis
    assert route.call_count == 3
    reask = json.loads(route.calls[1].request.content)["messages"][-1]["content"]
    assert "items.1.quote" in reask and "items.3.line_start" in reask
    dropped = [n for n in notes if "dropped items." in n]
    assert len(dropped) == 2, notes
    synthesis = json.loads(route.calls[2].request.content)["messages"][-1]["content"]
    assert all(q in synthesis for q in (Q1, Q2, Q3))
    saved = PersonaSet.model_validate_json(version.path.read_text())
    assert saved.personas[0].pains[0].status == "supported"


def test_cosmetic_faults_are_normalised_not_rejected():
    notes: list[str] = []
    data = normalise({"groups": [{"id": "Marketing Leaders", "label": "M", "role": "r", "function": "f",
                                  "seniority": "Director", "source_ids": ["mkt"], "rationale": " x "}]},
                     PersonaGrouping, notes)
    value, dropped, problems = salvage(PersonaGrouping, data)
    assert problems == [] and dropped == []
    assert value.groups[0].id == "marketing-leaders" and value.groups[0].seniority == "director"
    assert value.ungrouped == [] and any("ungrouped" in n for n in notes)  # a missing list is empty
    assert value.groups[0].rationale == "x"


def test_an_unknown_enum_value_becomes_unknown_with_a_note():
    notes: list[str] = []
    data = normalise({**EXTRACTED, "items": [], "buying_role": "kingmaker"}, ExtractedEvidence, notes)
    value, _, problems = salvage(ExtractedEvidence, data)
    assert problems == [] and value.buying_role == "unknown" and value.seniority == "director"
    assert any("kingmaker" in n for n in notes)


def test_errors_outside_any_list_item_are_not_salvaged():
    value, _, problems = salvage(ExtractedEvidence, {"items": [], "source_id": 3})
    assert value is None and any(p.startswith("role") or p.startswith("source_id") for p in problems)


def test_a_truncated_answer_is_closed_after_its_last_complete_item():
    text = json.dumps({"source_id": "mkt", "items": [item(Q1, 9), item(Q2, 13)]})
    cut = text[: text.index(Q2) + 10]
    closed = json.loads(close_truncated(cut))
    assert closed["items"][0] == item(Q1, 9)
    value, dropped, problems = salvage(ExtractedEvidence, normalise(closed, ExtractedEvidence, []))
    assert problems == [] and [i.quote for i in value.items] == [Q1] and len(dropped) == 1
    assert close_truncated("no json here") is None


def test_a_draft_fails_in_one_line_only_when_nothing_usable_came_back(ws):
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(URL).mock(return_value=completion("I am sorry, I cannot do JSON."))
        with pytest.raises(ModelError) as err:
            draft_personas(ws, settings())
    assert "no usable answer for any of 1 note part(s)" in err.value.message and "\n" not in err.value.message
    assert ws.versions("personas") == []


# --------------------------------------------------------------------------- parse leniently, learn from refusals


def test_control_characters_and_prose_around_json_are_accepted_without_changing_mode(tmp_path):
    from persona_assistant.llm.client import LLM

    raw = 'Here you go:\n```json\n{"source_id": "mkt", "items": [], "role": "Head\tof\nMarketing", ' \
          '"seniority": "director", "function": "marketing", "buying_role": "champion"}\n```'
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=completion(raw))
        res = LLM(settings()).structured("extract_evidence", [{"role": "user", "content": "x"}], ExtractedEvidence)
    assert route.call_count == 1 and res.value.role == "Head\tof\nMarketing" and res.mode == "json_schema"


def test_a_format_refusal_is_learnt_once_and_remembered_by_the_next_command(tmp_path):
    import asyncio

    from persona_assistant.llm.client import LLM

    ws = Workspace(tmp_path)
    refusal = httpx.Response(500, json={"error": {"message": "response_format: Input should be 'text' or "
                                                             "'json_object'"}})
    good = {"source_id": "mkt", "items": [], "role": "r", "seniority": "director", "function": "f",
            "buying_role": "champion"}

    def server(request: httpx.Request) -> httpx.Response:
        return refusal if json.loads(request.content)["response_format"]["type"] == "json_schema" else completion(good)

    async def many(llm):
        async with llm:
            return await asyncio.gather(*(llm.structured_async(
                "extract_evidence", [{"role": "user", "content": str(i)}], ExtractedEvidence) for i in range(6)))

    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=server)
        first = asyncio.run(many(LLM(settings(), ws=ws)))
        refused = sum(json.loads(c.request.content)["response_format"]["type"] == "json_schema" for c in route.calls)
        assert all(r.mode == "json_object" for r in first) and refused <= 6
        before = route.call_count
        LLM(settings(), ws=ws).structured("extract_evidence", [{"role": "user", "content": "next"}],
                                          ExtractedEvidence)
    assert route.call_count == before + 1  # the next command starts with json_object
    assert json.loads((ws.state_dir / "endpoints.json").read_text())[f"{BASE} test-model"]["mode"] == "json_object"


def test_a_reask_quotes_the_errors_and_changes_the_seed_unless_the_server_refuses_seeds():
    from persona_assistant.llm.client import LLM

    bad = {**EXTRACTED, "role": 7}
    good = {**EXTRACTED, "items": []}
    no_seed = httpx.Response(400, json={"error": {"message": "Unrecognized request argument supplied: seed"}})
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=[completion(bad), no_seed, completion(good)])
        res = LLM(settings()).structured("extract_evidence", [{"role": "user", "content": "x"}], ExtractedEvidence)
    first, with_seed, without = (json.loads(c.request.content) for c in route.calls)
    assert "seed" not in first and with_seed["seed"] == 2 and "seed" not in without
    assert "role: Input should be a valid string" in without["messages"][-1]["content"]
    assert res.attempts == 2 and res.value.role == "Head of Marketing"
