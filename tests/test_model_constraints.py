"""Constrain what can be constrained: closed sets in the request schema (respx at the HTTP level)."""

from __future__ import annotations

import asyncio
import json

import httpx
import respx

from persona_assistant.llm.client import LLM
from persona_assistant.llm.settings import LLMSettings, SecretStr
from persona_assistant.messaging.campaign import llm_generator, plan_items, run_items
from test_campaign import make_context
from test_draft import completion  # one mocked chat-completion body

BASE = "http://llm.test/v1"
URL = f"{BASE}/chat/completions"


ANSWER = {"fields": [{"name": "headline", "text": "Close in four days, not nine", "items": []},
                     {"name": "intro", "text": "Rebuilding reconciliations by hand each month? Tallow Foods closed "
                                               "in 4 days instead of 9. Book a 15-minute walkthrough.", "items": []},
                     {"name": "pains", "text": "invented field", "items": []}],
          "addresses": [{"field": "pains", "index": 0, "text": ""}, {"field": "pains", "index": 7, "text": ""}],
          "proof_points": ["Tallow Foods closed in 4 days instead of 9."]}


def run_one(tmp_path, *responses):
    ctx = make_context()
    specs = plan_items(["controller"], ["linkedin_sponsored"], ["awareness"], 1)
    llm = LLM(LLMSettings(model="m", base_url=BASE, api_key=SecretStr("sk-x"), timeout=5.0, max_retries=0))

    async def run():
        async with llm:
            return await run_items(specs, llm_generator(ctx, llm, None), tmp_path, concurrency=1)

    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=list(responses) + [responses[-1]] * 6)
        result = asyncio.run(run())
    return result, route, specs


def test_asset_schema_sent_closes_field_names_references_and_proof_points(tmp_path):
    result, route, specs = run_one(tmp_path, completion(ANSWER))
    schema = json.loads(route.calls[0].request.content)["response_format"]["json_schema"]["schema"]
    text = json.dumps(schema)
    names = sorted(d["properties"]["name"]["enum"][0] for k, d in schema["$defs"].items() if k.startswith("Field_"))
    assert names == ["headline", "intro"]
    refs = {d["properties"]["field"]["enum"][0] for k, d in schema["$defs"].items() if k.startswith("Ref_")}
    assert refs == {"goals", "pains", "objections", "triggers", "decision_criteria"}
    assert "Tallow Foods closed in 4 days instead of 9." in text
    assert "maximum" not in text  # bounds go only to servers that take them (json_object + schema)
    # the server ignored the schema: the invented field and the out-of-range address are dropped, the item saved
    assert result.done == [specs[0].id] and not result.failed
    saved = json.loads((tmp_path / specs[0].filename).read_text())
    assert set(saved["fields"]) == {"headline", "intro"}
    assert [(a["field"], a["index"]) for a in saved["addresses"]] == [("pains", 0)]
    dropped = [f["message"] for f in saved["lint"] if f["rule"] == "answer_item_dropped"]
    assert any("fields.2" in m for m in dropped) and any("addresses.1" in m for m in dropped)


def test_a_grammar_server_gets_bounds_and_lengths(tmp_path):
    rejection = httpx.Response(500, json={"error": {"message": "response_format: Input should be 'text' or "
                                                               "'json_object'"}})
    result, route, specs = run_one(tmp_path, rejection, completion(ANSWER))
    fmt = json.loads(route.calls[1].request.content)["response_format"]
    assert fmt["type"] == "json_object"
    defs = fmt["schema"]["$defs"]
    assert defs["Field_headline"]["properties"]["text"]["maxLength"] == 70
    assert defs["Ref_pains"]["properties"]["index"] == {"maximum": 1, "minimum": 0, "type": "integer"}
    assert result.done == [specs[0].id]


def test_the_same_copy_again_ends_the_lint_reasks(tmp_path):
    too_long = {**ANSWER, "fields": [{"name": "headline", "text": "A headline far too long " * 6, "items": []},
                                     ANSWER["fields"][1]], "addresses": ANSWER["addresses"][:1]}
    result, route, specs = run_one(tmp_path, completion(too_long))
    assert route.call_count == 2  # the answer, one lint re-ask answered identically, no third
    saved = json.loads((tmp_path / specs[0].filename).read_text())
    assert result.done == [specs[0].id] and any(f["severity"] == "error" for f in saved["lint"])
