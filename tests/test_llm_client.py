"""The LLM layer through the real openai client, with HTTP mocked by respx (never the network)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import respx
from pydantic import BaseModel

from persona_assistant.errors import ModelError
from persona_assistant.llm.client import LLM, make_client
from persona_assistant.llm.redact import Redactor
from persona_assistant.llm.settings import LLMSettings, SecretStr
from persona_assistant.llm.store import Store

BASE = "http://llm.test/v1"
URL = f"{BASE}/chat/completions"


class Answer(BaseModel):
    name: str
    count: int


def completion(content: str | None, *, finish: str = "stop", prompt: int = 10, out: int = 5,
               refusal: str | None = None, headers: dict | None = None) -> httpx.Response:
    return httpx.Response(200, headers=headers, json={
        "id": "c1", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": finish,
                     "message": {"role": "assistant", "content": content, "refusal": refusal}}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out}})


GOOD = '{"name": "ok", "count": 3}'
MSGS = [{"role": "system", "content": "You answer in JSON."}, {"role": "user", "content": "Give me one."}]


def make_settings(**kw) -> LLMSettings:
    base = dict(model="test-model", base_url=BASE, api_key=SecretStr("sk-test-key"), timeout=5.0,
                prices={"test-model": (1.0, 2.0)})
    base.update(kw)
    return LLMSettings(**base)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "state" / "log.sqlite")
    yield s
    s.close()


def sent(route, i: int) -> dict:
    return json.loads(route.calls[i].request.content)


def test_valid_answer_strict_schema_and_log_row(store):
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=completion(GOOD, prompt=1000, out=500))
        res = LLM(make_settings(), store).structured("t", MSGS, Answer, cache_key_parts={"prompt": "p", "version": "1"})
    assert res.value == Answer(name="ok", count=3)
    assert (res.attempts, res.mode, res.cached) == (1, "json_schema", False)
    fmt = sent(route, 0)["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["additionalProperties"] is False
    assert fmt["json_schema"]["schema"]["required"] == ["name", "count"]
    row = store.recent(1)[0]
    assert (row["status"], row["prompt_tokens"], row["completion_tokens"], row["mode"]) == ("ok", 1000, 500, "json_schema")
    assert row["cost"] == pytest.approx((1000 * 1.0 + 500 * 2.0) / 1e6)
    assert row["endpoint"] == "llm.test" and row["prompt_version"] == "1"
    assert res.cost == pytest.approx(row["cost"])


def test_429_with_retry_after_then_success(store):
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=[
            httpx.Response(429, headers={"retry-after": "0"}, json={"error": {"message": "slow down"}}),
            completion(GOOD)])
        res = LLM(make_settings(), store).structured("t", MSGS, Answer)
    assert route.call_count == 2 and res.value.count == 3


def test_three_500s_give_model_error_after_exactly_three_attempts(store):
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=httpx.Response(
            500, headers={"retry-after": "0"}, json={"error": {"message": "boom\nsecond line"}}))
        with pytest.raises(ModelError) as err:
            LLM(make_settings(), store).structured("draft", MSGS, Answer)
    assert route.call_count == 3
    msg = err.value.message
    assert "llm.test" in msg and "500" in msg and "\n" not in msg and "sk-test-key" not in msg
    row = store.recent(1)[0]
    assert row["status"] == "error" and "500" in row["error"]


def test_timeout_is_a_model_error_naming_the_endpoint(store):
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(ModelError, match=r"llm\.test did not answer within 5 s; the request was given up on, "
                                             r"not resent \(the server may still be working on it\)"):
            LLM(make_settings(max_retries=1), store).structured("t", MSGS, Answer)
    assert route.call_count == 1  # never resent while the server may still be working on it


def test_invalid_json_then_valid_reask_sums_usage(store):
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=[completion('{"name": "ok", "count": '), completion(GOOD)])
        res = LLM(make_settings(), store).structured("t", MSGS, Answer)
    assert res.attempts == 2 and res.value.count == 3
    assert (res.usage.prompt_tokens, res.usage.completion_tokens) == (20, 10)
    second = sent(route, 1)["messages"]
    assert second[-2] == {"role": "assistant", "content": '{"name": "ok", "count": '}
    assert "not JSON" in second[-1]["content"]
    # a parse failure is the model's, not a refusal of the format: the mode stays
    assert res.mode == "json_schema" and sent(route, 1)["response_format"]["type"] == "json_schema"


def test_schema_violation_then_valid_reask(store):
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=[completion('{"name": "ok", "count": "many"}'), completion(GOOD)])
        res = LLM(make_settings(), store).structured("t", MSGS, Answer)
    assert res.attempts == 2 and res.mode == "json_schema"
    feedback = sent(route, 1)["messages"][-1]["content"]
    assert "count" in feedback and "integer" in feedback


def test_check_failure_then_valid(store):
    def no_fabrication(value: Answer) -> list[str]:
        return [] if value.name == "ok" else [f"quote {value.name!r} is not in notes/a.md"]

    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=[completion('{"name": "invented", "count": 3}'), completion(GOOD)])
        res = LLM(make_settings(), store).structured("t", MSGS, Answer, check=no_fabrication)
    assert res.value.name == "ok" and res.attempts == 2
    assert "'invented' is not in notes/a.md" in sent(route, 1)["messages"][-1]["content"]


def test_never_valid_gives_model_error_after_three_asks(store):
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=[completion(f'{{"name": {i}}}') for i in range(3)])
        with pytest.raises(ModelError, match="no valid answer from test-model at llm.test after 3 attempts"):
            LLM(make_settings(), store).structured("t", MSGS, Answer)
    assert route.call_count == 3
    assert store.cache_get(store.recent(1)[0]["cache_key"]) is None


def test_an_identical_answer_ends_the_reasks_at_once(store):
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=completion('{"name": 1}'))
        with pytest.raises(ModelError, match="after the same answer again: name: Input should be a valid string"):
            LLM(make_settings(), store).structured("t", MSGS, Answer)
    assert route.call_count == 2
    assert store.cache_get(store.recent(1)[0]["cache_key"]) is None


@pytest.mark.parametrize("response, pattern", [
    (completion(None, refusal="I can't help with that."), "refused: I can't help with that"),
    (completion('{"name": "o', finish="length"), r"truncated at max_tokens=50 with nothing complete to keep; raise --max-tokens"),
    (completion("", finish="content_filter"), "content filter"),
])
def test_refusal_truncation_and_filter_are_model_errors(store, response, pattern):
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=response)
        with pytest.raises(ModelError, match=pattern):
            LLM(make_settings(), store).structured("t", MSGS, Answer, max_tokens=50)
    assert route.call_count == 1  # not re-asked: the same request would fail the same way


def test_server_rejecting_json_schema_falls_back_without_burning_retries(store):
    rejected = httpx.Response(500, json={"detail": "1 validation error: response_format.type: "
                                                   "Input should be 'text' or 'json_object'"})
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=[rejected, completion(GOOD), completion(GOOD)])
        llm = LLM(make_settings(cache=False), store)
        res = llm.structured("t", MSGS, Answer)
        assert route.call_count == 2  # one rejected probe, not 3 retries of it
        assert res.mode == "json_object" and res.attempts == 1
        fmt = sent(route, 1)["response_format"]
        assert fmt["type"] == "json_object" and fmt["schema"]["required"] == ["name", "count"]
        assert "JSON Schema" in sent(route, 1)["messages"][0]["content"]
        # remembered for the endpoint: the next item goes straight to json_object
        llm.structured("t", MSGS, Answer)
        assert route.call_count == 3 and sent(route, 2)["response_format"]["type"] == "json_object"


def test_plain_prompt_mode_parses_fenced_json(store):
    no_format = httpx.Response(400, json={"error": {"message": "unsupported response_format"}})
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=[no_format, no_format, completion("Here:\n```json\n" + GOOD + "\n```")])
        res = LLM(make_settings(), store).structured("t", MSGS, Answer)
    assert res.mode == "prompt" and res.value.count == 3
    assert "response_format" not in sent(route, 2)


def test_cache_hit_miss_without_cache_and_failures_not_cached(tmp_path, store):
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=[
            httpx.Response(400, json={"error": {"message": "bad request"}}),  # failure: not cached
            completion(GOOD), completion(GOOD)])
        llm = LLM(make_settings(), store)
        with pytest.raises(ModelError):
            llm.structured("t", MSGS, Answer)
        first = llm.structured("t", MSGS, Answer)
        again = llm.structured("t", MSGS, Answer)
        assert route.call_count == 2
        assert not first.cached and again.cached and again.value == first.value and again.mode == "cache"
        other = [MSGS[0], {"role": "user", "content": "Give me two."}]
        assert not llm.structured("t", other, Answer).cached  # different messages: a miss
        assert route.call_count == 3
        route.side_effect = [completion(GOOD)]
        no_cache = LLM(make_settings(cache=False), store).structured("t", MSGS, Answer)
    assert not no_cache.cached and route.call_count == 4
    assert [r["cached"] for r in store.recent(10)] == [0, 0, 1, 0, 0]
    assert [r["status"] for r in store.recent(10)][-1] == "error"


def test_redaction_applies_to_requests_and_restores_answers(store):
    red = Redactor(people=["Dana Whitfield"], emails=["dana@northwind.example"])
    msgs = [{"role": "user", "content": "Dana Whitfield (dana@northwind.example, +1 415 555 0134) said hi."}]
    answer = '{"name": "[person_1] via <EMAIL_1>", "count": 1}'
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=completion(answer))
        res = LLM(make_settings(), store, red).structured("t", msgs, Answer)
    body = route.calls[0].request.content.decode()
    assert "Dana" not in body and "Whitfield" not in body and "northwind" not in body and "555" not in body
    assert "<PERSON_1>" in body and "<EMAIL_1>" in body and "<PHONE_1>" in body
    assert res.value.name == "Dana Whitfield via dana@northwind.example"


def test_no_redact_sends_text_as_is(store):
    red = Redactor(people=["Dana Whitfield"])
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=completion(GOOD))
        LLM(make_settings(redact=False), store, red).structured("t", [{"role": "user", "content": "Dana Whitfield"}], Answer)
    assert "Dana Whitfield" in route.calls[0].request.content.decode()


def test_offline_settings_refuse_to_call(store):
    with pytest.raises(ModelError, match="offline engine"):
        LLM(make_settings(offline=True), store).structured("t", MSGS, Answer)


def test_a_client_from_make_client_is_intercepted_by_respx():
    """If requests escaped respx (the SDK's default httpx2 transport), this would hit the network."""
    async def go():
        c = make_client(make_settings(max_retries=0))
        try:
            await c.chat.completions.create(model="m", messages=MSGS)
        finally:
            await c.close()

    with respx.mock(assert_all_mocked=True):
        with pytest.raises(Exception) as err:
            asyncio.run(go())
    chain, exc = [], err.value
    while exc is not None:
        chain.append(type(exc).__name__)
        exc = exc.__cause__ or exc.__context__
    assert "AllMockedAssertionError" in chain


def _sse(*chunks: dict) -> bytes:
    return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"


def _chunk(delta: dict, finish=None, usage=None) -> dict:
    return {"id": "s", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if delta is not None else [],
            "usage": usage}


def test_stream_chat_yields_text_tool_calls_and_usage(store):
    red = Redactor(people=["Dana Whitfield"])
    body = _sse(
        _chunk({"role": "assistant", "content": "Hello <PERS"}),
        _chunk({"content": "ON_1>, the pains"}),
        _chunk({"content": " are clear."}),
        _chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                "function": {"name": "lookup_segments", "arguments": '{"q": '}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"saas"}'}}]}, finish="tool_calls"),
        _chunk(None, usage={"prompt_tokens": 7, "completion_tokens": 9, "total_tokens": 16}),
    )

    async def go():
        llm = LLM(make_settings(), store, red)
        async with llm:
            return [e async for e in llm.stream_chat([{"role": "user", "content": "Dana Whitfield?"}],
                                                   tools=[{"type": "function", "function": {"name": "lookup_segments",
                                                                                            "parameters": {"type": "object"}}}])]

    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=body))
        events = asyncio.run(go())
    assert "Dana" not in route.calls[0].request.content.decode()
    text = "".join(v for k, v in events if k == "text")
    assert text == "Hello Dana Whitfield, the pains are clear."
    assert ("tool_call", {"id": "call_1", "name": "lookup_segments", "arguments": '{"q": "saas"}'}) in events
    assert events[-1] == ("usage", {"prompt_tokens": 7, "completion_tokens": 9})
    row = store.recent(1)[0]
    assert (row["task"], row["mode"], row["prompt_tokens"]) == ("chat", "stream", 7)


def test_concurrent_items_share_one_client(store):
    async def go(llm):
        async with llm:
            return await asyncio.gather(*(llm.structured_async("t", [{"role": "user", "content": f"item {i}"}],
                                                               Answer) for i in range(8)))

    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=completion(GOOD))
        results = asyncio.run(go(LLM(make_settings(), store)))
    assert route.call_count == 8 and all(r.value.count == 3 for r in results)
    assert len(store.recent(100)) == 8


# --------------------------------------------------------------------------- max_tokens vs max_completion_tokens

NO_MAX_TOKENS = {"error": {
    "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
               "Use 'max_completion_tokens' instead.",
    "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}}


def _newer_openai_model(request: httpx.Request) -> httpx.Response:
    """An o1/o3/gpt-5-style endpoint: 400 for max_tokens, fine with max_completion_tokens."""
    if "max_tokens" in json.loads(request.content):
        return httpx.Response(400, json=NO_MAX_TOKENS)
    return completion(GOOD)


def test_max_tokens_rejected_resends_max_completion_tokens_once_and_remembers(store, tmp_path):
    from persona_assistant.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=_newer_openai_model)
        llm = LLM(make_settings(cache=False, max_tokens=50), store, ws=ws)
        res = llm.structured("t", MSGS, Answer)
        assert route.call_count == 2 and res.value == Answer(name="ok", count=3)
        assert res.attempts == 1  # the resend is not a re-ask
        assert sent(route, 0)["max_tokens"] == 50 and "max_completion_tokens" not in sent(route, 0)
        assert sent(route, 1)["max_completion_tokens"] == 50 and "max_tokens" not in sent(route, 1)
        assert sent(route, 1)["messages"] == sent(route, 0)["messages"]
        # remembered for this endpoint and model: the next call goes straight to max_completion_tokens,
        # also from a new LLM on the same workspace (the next command: <state>/endpoints.json)
        again = llm.structured("t", MSGS, Answer, max_tokens=70)
        other = LLM(make_settings(cache=False, max_tokens=60), store, ws=ws).structured("t", MSGS, Answer)
        assert route.call_count == 4 and again.value.count == 3 and other.value.count == 3
        assert sent(route, 2)["max_completion_tokens"] == 70 and "max_tokens" not in sent(route, 2)
        assert sent(route, 3)["max_completion_tokens"] == 60 and "max_tokens" not in sent(route, 3)
        # another model on the same server starts again from max_tokens
        LLM(make_settings(cache=False, max_tokens=40, model="older-model"), store).structured("t", MSGS, Answer)
        assert sent(route, 4)["max_tokens"] == 40
    assert [r["status"] for r in store.recent(10)] == ["ok"] * 4


@pytest.mark.parametrize("error", [
    {"error": {"message": "bad request"}},
    {"error": {"message": "max_tokens is too large: 100000. This model supports at most 16384 completion tokens.",
               "type": "invalid_request_error", "param": "max_tokens", "code": "invalid_value"}},
])
def test_unrelated_400_is_not_resent(store, error):
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=httpx.Response(400, json=error))
        with pytest.raises(ModelError) as err:
            LLM(make_settings(max_tokens=100000), store).structured("t", MSGS, Answer)
    assert route.call_count == 1 and "max_tokens" in sent(route, 0)
    msg = err.value.message
    assert "HTTP 400" in msg and error["error"]["message"][:20] in msg and "\n" not in msg


# --------------------------------------------------------------------------- re-asks stay bounded


def test_reasks_carry_only_the_latest_failed_answer(store):
    answers = ['{"name": "a", ', '{"name": "b", ', '{"name": "c", ']
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=[completion(a) for a in answers])
        with pytest.raises(ModelError, match="after 3 attempts"):
            LLM(make_settings(), store).structured("t", MSGS, Answer)
    assert route.call_count == 3
    second, third = sent(route, 1)["messages"], sent(route, 2)["messages"]
    assert len(third) <= len(second)
    assert len(json.dumps(third)) <= len(json.dumps(second))
    assert [m["content"] for m in third if m["role"] == "assistant"] == [answers[1]]


def test_a_huge_invalid_answer_is_not_echoed_in_full(store):
    huge = "x" * 200_000
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=[completion(huge + str(i)) for i in range(3)])
        with pytest.raises(ModelError, match="after 3 attempts"):
            LLM(make_settings(), store).structured("t", MSGS, Answer)
    for i in (1, 2):
        assert len(route.calls[i].request.content) < 20_000
        echoed = [m["content"] for m in sent(route, i)["messages"] if m["role"] == "assistant"]
        assert len(echoed) == 1 and echoed[0].startswith("x" * 4000) and "cut" in echoed[0]


def test_long_check_errors_are_bounded_in_the_reask(store):
    def picky(value: Answer) -> list[str]:
        return [f"quote {'y' * 10_000} is not in notes/a.md"] * 40

    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=completion(GOOD))
        with pytest.raises(ModelError):
            LLM(make_settings(), store).structured("t", MSGS, Answer, check=picky)
    feedback = sent(route, 1)["messages"][-1]["content"]
    assert len(feedback) < 8_000 and "more" in feedback
