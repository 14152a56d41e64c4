"""The one structured-output loop and its re-ask policy (llm/loop.py).

HTTP requests are counted with respx where the count is the point (the documented maximum per
item); the policy itself is exercised with the Python-level FakeProvider."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import respx
from pydantic import BaseModel

from fake_provider import FakeProvider
from persona_assistant.errors import ModelError
from persona_assistant.llm.answers import NoValidAnswer
from persona_assistant.llm.client import LLM
from persona_assistant.llm.loop import ANSWERS_PER_CALL, Check
from persona_assistant.llm.provider import Completion
from persona_assistant.llm.quirks import REFUSAL_RESENDS
from persona_assistant.llm.settings import LLMSettings, SecretStr
from persona_assistant.llm.store import Store
from persona_assistant.messaging.campaign import llm_generator, plan_items, run_items
from test_campaign import make_context
from test_draft import completion
from test_model_constraints import ANSWER

BASE = "http://llm.test/v1"
URL = f"{BASE}/chat/completions"
MSGS = [{"role": "user", "content": "Give me one."}]


class Answer(BaseModel):
    name: str
    count: int


class Listing(BaseModel):
    names: list[Answer]


def settings(**kw) -> LLMSettings:
    return LLMSettings(**{"model": "m", "base_url": BASE, "api_key": SecretStr("sk-x"), "timeout": 5.0,
                          "cache": False, **kw})


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "log.sqlite")
    yield s
    s.close()


# --------------------------------------------------------------------------- HTTP requests per item (respx)


def bad_asset(i: int) -> dict:
    """An asset answer that validates but always breaks lint (a headline far over its limit), a
    different one each time so the identical-answer stop does not end the re-asks early."""
    return {**ANSWER, "fields": [{"name": "headline", "text": f"Headline {i} far too long " * 6, "items": []},
                                 ANSWER["fields"][1]], "addresses": ANSWER["addresses"][:1]}


def run_assets(tmp_path, side_effect, n_items: int = 1, **kw):
    ctx = make_context()
    specs = plan_items(["controller"], ["linkedin_sponsored"], ["awareness"], n_items)
    llm = LLM(settings(**kw))

    async def run():
        async with llm:
            return await run_items(specs, llm_generator(ctx, llm, None), tmp_path, concurrency=4)

    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=side_effect)
        result = asyncio.run(run())
    return result, route, specs


def test_an_asset_whose_answers_always_fail_lint_costs_the_documented_answers_and_no_more(tmp_path):
    answers = iter(range(100))
    result, route, specs = run_assets(tmp_path, lambda request: completion(bad_asset(next(answers))),
                                      n_items=2, max_retries=0)
    # before the one loop: 1 + 2 lint re-asks, each with up to 1 + 2 answers = 9 per asset
    assert route.call_count == ANSWERS_PER_CALL * len(specs) == 6
    assert sorted(result.done) == sorted(s.id for s in specs)  # saved with its findings, not failed
    saved = json.loads((tmp_path / specs[0].filename).read_text())
    assert any(f["field"] == "headline" for f in saved["lint"] if f["severity"] == "error")


def test_http_requests_per_item_stay_within_the_documented_maximum(store):
    """Every answer behind one failed HTTP attempt (the SDK's retry), two format refusals first:
    answers x (max_retries + 1) + refusal resends, the bound in llm/loop.py's docstring."""
    refusals = [httpx.Response(400, json={"error": {"message": f"response_format {m} is not supported"}})
                for m in ("json_schema", "json_object")]
    busy = httpx.Response(503, json={"error": {"message": "busy"}})
    sequence = refusals + [r for i in range(3) for r in (busy, completion({"name": i}))]
    answers = iter(sequence)
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=lambda request: next(answers))
        with pytest.raises(NoValidAnswer, match="after 3 attempts"):
            LLM(settings(max_retries=1), store).structured("t", MSGS, Answer)
    assert route.call_count == 2 + 3 * 2 <= ANSWERS_PER_CALL * (1 + 1) + REFUSAL_RESENDS
    assert store.recent(1)[0]["requests"] == route.call_count


def test_an_item_whose_answers_are_never_json_makes_exactly_the_answer_budget(store):
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=[completion(f"no json {i}") for i in range(9)])
        with pytest.raises(NoValidAnswer):
            LLM(settings(), store).structured("t", MSGS, Answer)
    assert route.call_count == ANSWERS_PER_CALL


# --------------------------------------------------------------------------- the policy (FakeProvider)


def test_a_check_with_one_reask_keeps_the_second_answer_and_reports_what_still_fails():
    fake = FakeProvider([{"name": "invented", "count": 1}, {"name": "still invented", "count": 2}])
    check = Check("quotes", lambda a: [] if a.name == "ok" else [f"{a.name!r} is not in the notes"], reasks=1)
    res = LLM(settings(), provider=fake).structured("t", MSGS, Answer, checks=[check])
    assert fake.calls == 2 and res.attempts == 2
    assert res.value.name == "invented"  # of two answers with one problem each, the earlier
    assert res.unresolved == {"quotes": ["'invented' is not in the notes"]}
    assert "'invented' is not in the notes" in fake.sent(1)


def test_a_must_pass_check_is_reasked_until_the_budget_then_fails():
    fake = FakeProvider([{"name": f"x{i}", "count": i} for i in range(5)])
    with pytest.raises(NoValidAnswer, match="after 3 attempts: never ok"):
        LLM(settings(), provider=fake).structured("t", MSGS, Answer, check=lambda a: ["never ok"])
    assert fake.calls == ANSWERS_PER_CALL


def test_a_caller_may_ask_for_a_smaller_budget_never_a_larger_one():
    fake = FakeProvider(["nope 1", "nope 2", "nope 3", "nope 4"])
    with pytest.raises(NoValidAnswer):
        LLM(settings(), provider=fake).structured("t", MSGS, Answer, answers=1)
    assert fake.calls == 1
    fake = FakeProvider(["nope 1", "nope 2", "nope 3", "nope 4", "nope 5"])
    with pytest.raises(NoValidAnswer):
        LLM(settings(), provider=fake).structured("t", MSGS, Answer, answers=10)
    assert fake.calls == ANSWERS_PER_CALL


def test_lost_items_are_reasked_once_and_the_better_answer_kept():
    partial = {"names": [{"name": "a", "count": 1}, {"name": "b", "count": "many"}]}
    fake = FakeProvider([partial, {"names": [{"name": "a", "count": 1}, {"name": "b", "count": "lots"}]}])
    res = LLM(settings(), provider=fake).structured("t", MSGS, Listing)
    assert fake.calls == 2  # one re-ask for the lost item, none for the second loss
    assert [n.name for n in res.value.names] == ["a"] and any("dropped names.1" in n for n in res.notes)
    assert "Some items of your answer were invalid" in fake.sent(1)


def test_one_reask_carries_every_reaskable_problem_at_once():
    partial = {"names": [{"name": "a", "count": 1}, {"name": "b", "count": "many"}]}
    fake = FakeProvider([partial, {"names": [{"name": "a", "count": 1}, {"name": "b", "count": 2}]}])
    check = Check("names", lambda v: [] if len(v.names) == 2 else ["name b is missing"], reasks=1)
    res = LLM(settings(), provider=fake).structured("t", MSGS, Listing, checks=[check])
    assert fake.calls == 2 and len(res.value.names) == 2
    assert "name b is missing" in fake.sent(1) and "names.1" in fake.sent(1)


def test_an_answer_cut_at_the_limit_is_never_reasked():
    cut = Completion('{"names": [{"name": "a", "count": 1}, {"name": "b", "co', "length")
    fake = FakeProvider([cut, {"names": []}])
    res = LLM(settings(), provider=fake).structured("t", MSGS, Listing)
    assert fake.calls == 1 and [n.name for n in res.value.names] == ["a"]
    assert any("answer cut at max_tokens" in n for n in res.notes)


def test_a_provider_fault_is_one_logged_line_not_a_reask(store):
    fake = FakeProvider([ModelError("t: model endpoint x: the stream broke off after 3 chunks (ReadError)")])
    with pytest.raises(ModelError, match="broke off"):
        LLM(settings(), store, provider=fake).structured("t", MSGS, Answer)
    assert fake.calls == 1 and store.recent(1)[0]["status"] == "error"
