"""Model faults end cleanly: unusable bodies, truncated streams, the circuit breaker, echoed keys.

The real openai client runs; HTTP is mocked by respx (a request that escapes the mock fails)."""

from __future__ import annotations

import asyncio
import sqlite3

import httpx
import pytest
import respx
from pydantic import BaseModel

from persona_assistant.errors import ModelError
from persona_assistant.llm.client import LLM
from persona_assistant.llm.faults import (
    BREAKER_THRESHOLD, REFUSING, SECRET_RUN, CircuitBreaker, EndpointRefusing, SecretMask, StreamInterrupted,
)
from persona_assistant.llm.settings import LLMSettings, SecretStr
from persona_assistant.llm.store import Store

BASE = "http://llm.test/v1"
URL = f"{BASE}/chat/completions"
MSGS = [{"role": "user", "content": "Give me one."}]
HTML = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>" + "x" * 500 + "</body></html>"
CANARY = "sk-proj-CanaryQ7w9Zt4Lm2Xv8Rb6Np3Hs5Jk1Df0"  # never a real key


class Answer(BaseModel):
    name: str


def settings(**kw) -> LLMSettings:
    base = dict(model="test-model", base_url=BASE, api_key=SecretStr("sk-test-key"), timeout=5.0, max_retries=2)
    base.update(kw)
    return LLMSettings(**base)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "log.sqlite")
    yield s
    s.close()


def good(content: str = '{"name": "ok"}') -> httpx.Response:
    return httpx.Response(200, json={
        "id": "c1", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})


# --------------------------------------------------------------------------- unusable bodies


@pytest.mark.parametrize("response, shown", [
    (httpx.Response(200, text=HTML, headers={"content-type": "text/html; charset=utf-8"}),
     "answered text/html instead of a chat completion (JSON): '<html><head><title>502 Bad Gateway"),
    (httpx.Response(200, content=b""), "answered no content type instead of a chat completion (JSON): an empty body"),
    (httpx.Response(200, text='{"id": "c1", "choi', headers={"content-type": "application/json"}),
     "answered application/json instead of a chat completion (JSON): '{\"id\": \"c1\", \"choi'"),
    (httpx.Response(200, text='{"error": "upstream\x1b[31m overloaded"}', headers={"content-type": "application/json"}),
     "answered application/json instead of a chat completion (JSON): '{\"error\": \"upstream overloaded\"}'"),
])
def test_a_body_that_is_not_a_completion_is_one_line_naming_host_and_what_came_back(store, response, shown):
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=response)
        with pytest.raises(ModelError) as err:
            LLM(settings(), store).structured("draft", MSGS, Answer)
    message = err.value.message
    assert message.startswith("draft: model endpoint llm.test ") and shown in message
    assert "\n" not in message and "\x1b" not in message and len(message) < 300
    assert route.call_count == 1  # an endpoint fault, not a model answer: no re-ask
    row = store.recent(1)[0]
    assert row["status"] == "error" and row["error"] == message


def test_a_json_answer_after_an_html_page_still_works_on_the_next_call(store):
    llm = LLM(settings(), store)
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(URL).mock(side_effect=[httpx.Response(200, text=HTML, headers={"content-type": "text/html"}),
                                          good()])
        with pytest.raises(ModelError):
            llm.structured("draft", MSGS, Answer)
        assert llm.structured("draft", MSGS, Answer).value.name == "ok"


# --------------------------------------------------------------------------- streams


def sse(*chunks: str, finish: str | None = "stop", done: bool = True) -> httpx.Response:
    import json

    def chunk(delta, reason=None):
        return "data: " + json.dumps({"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                                      "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]}) + "\n\n"
    body = "".join(chunk({"content": c}) for c in chunks)
    if finish:
        body += chunk({}, finish)
    if done:
        body += "data: [DONE]\n\n"
    return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})


async def collect(llm: LLM) -> list:
    events = []
    async with llm:
        async for event in llm.stream_chat(MSGS):
            events.append(event)
    return events


def test_a_stream_without_finish_reason_is_interrupted_after_the_text_it_sent(store):
    events: list = []

    async def run(llm):
        async with llm:
            async for event in llm.stream_chat(MSGS):
                events.append(event)

    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(URL).mock(return_value=sse("The close ", "takes three ", "da", finish=None, done=False))
        with pytest.raises(StreamInterrupted) as err:
            asyncio.run(run(LLM(settings(), store)))
    assert ("text", "The close ") in events and not any(kind in ("usage", "tool_call") for kind, _ in events)
    message = err.value.message
    assert "answer interrupted: the stream ended without a finish reason" in message and "llm.test" in message
    assert store.recent(1)[0]["status"] == "error"


def test_a_complete_stream_is_not_a_fault(store):
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(URL).mock(return_value=sse("All ", "good.", done=False))  # [DONE] is optional after a finish
        events = asyncio.run(collect(LLM(settings(), store)))
    assert "".join(v for k, v in events if k == "text") == "All good."


def test_a_mislabelled_event_stream_is_read(store):
    response = sse("Plain ", "label.")
    response.headers["content-type"] = "text/plain"
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(URL).mock(return_value=response)
        events = asyncio.run(collect(LLM(settings(), store)))
    assert "".join(v for k, v in events if k == "text") == "Plain label."


def test_an_html_page_instead_of_a_stream_is_one_line(store):
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(URL).mock(return_value=httpx.Response(200, text=HTML, headers={"content-type": "text/html"}))
        with pytest.raises(ModelError) as err:
            asyncio.run(collect(LLM(settings(), store)))
    assert err.value.message.startswith("chat: model endpoint llm.test answered text/html instead of an event "
                                        "stream: '<html><head><title>502 Bad Gateway")


# --------------------------------------------------------------------------- the circuit breaker


def test_breaker_stops_concurrent_calls_after_n_consecutive_429s(store):
    """A 429 storm over 40 concurrent calls (3 HTTP attempts each without a breaker) stops at once."""
    llm = LLM(settings(), store)

    async def storm():
        sem = asyncio.Semaphore(8)

        async def one(i):
            async with sem:
                try:
                    await llm.structured_async("asset", MSGS, Answer, cache_key_parts={"i": i})
                except ModelError as exc:
                    return exc
        async with llm:
            return await asyncio.gather(*(one(i) for i in range(40)))

    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=httpx.Response(
            429, headers={"retry-after": "0"}, json={"error": {"message": "rate limited"}}))
        errors = asyncio.run(storm())
    assert route.call_count <= BREAKER_THRESHOLD + 8 - 1  # the threshold, plus what was already in flight
    assert route.call_count < 40 * 3 / 5
    assert all(isinstance(e, EndpointRefusing) for e in errors)
    assert REFUSING in errors[-1].message and "llm.test" in errors[-1].message


def test_breaker_caps_the_sdk_retries_of_one_call_in_a_draft_sequence(store):
    llm = LLM(settings(max_retries=10), store)  # [llm].max_retries = 10: 11 attempts a call without it
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=httpx.Response(
            503, headers={"retry-after": "0.01"}, json={"error": {"message": "overloaded"}}))
        with pytest.raises(EndpointRefusing, match="the endpoint is refusing: retry later"):
            llm.structured("extract_evidence", MSGS, Answer)
        with pytest.raises(EndpointRefusing):  # the next call of the sequence sends nothing
            llm.structured("persona_synthesis", MSGS, Answer)
    assert route.call_count == BREAKER_THRESHOLD


def test_breaker_counts_only_consecutive_refusals_and_respects_the_sdk_retry(store):
    llm = LLM(settings(), store)
    refuse = httpx.Response(503, headers={"retry-after": "0"}, json={"error": {"message": "busy"}})
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=[refuse, refuse, good(), refuse, refuse, good()])
        assert llm.structured("t", MSGS, Answer, cache_key_parts={"n": 1}).value.name == "ok"
        assert llm.structured("t", MSGS, Answer, cache_key_parts={"n": 2}).value.name == "ok"
    assert route.call_count == 6 and not llm.breaker.is_open


def test_open_breaker_sends_nothing_until_its_cooldown_and_reports_retry_after():
    now = [100.0]
    breaker = CircuitBreaker(threshold=2, cooldown=10, clock=lambda: now[0])
    request = httpx.Request("POST", URL)
    for _ in range(2):
        asyncio.run(breaker.after_response(httpx.Response(429, headers={"retry-after": "60"}, request=request)))
    assert breaker.is_open and "it asked to wait 60 s" in breaker.describe("asset", "llm.test")
    with pytest.raises(Exception) as err:
        asyncio.run(breaker.before_request(request))
    assert breaker.refused(err.value)
    now[0] += 61  # Retry-After (60 s) outlasts the 10 s cooldown
    asyncio.run(breaker.before_request(request))  # half-open: one try goes out
    asyncio.run(breaker.after_response(httpx.Response(500, request=request)))
    assert breaker.is_open  # one more refusal reopens it


# --------------------------------------------------------------------------- echoed secrets


def no_run_of(secret: str, text: str) -> bool:
    return not any(secret[i:i + SECRET_RUN] in text for i in range(len(secret) - SECRET_RUN + 1))


def test_secret_mask_covers_the_key_without_prefix_and_long_pieces_of_it():
    mask = SecretMask(CANARY)
    body = CANARY[3:]
    for text in (f"key {CANARY} bad", f"Incorrect API key provided: {body}.", f"key ...{body[-12:]}",
                 f"{body[:10]}****{body[-10:]}"):
        masked = mask(text)
        assert "***" in masked and no_run_of(CANARY, masked), masked
    assert mask("a normal message about proj keys") == "a normal message about proj keys"


def test_key_echoed_without_prefix_is_masked_in_error_and_log(tmp_path):
    store = Store(tmp_path / "log.sqlite")
    body = {"error": {"message": f"Incorrect API key provided: {CANARY[3:]}. Key {CANARY[8:20]}xx rejected"}}
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(URL).mock(return_value=httpx.Response(401, json=body))
        with pytest.raises(ModelError) as err:
            LLM(settings(api_key=SecretStr(CANARY)), store).structured("draft", MSGS, Answer)
    store.close()
    assert "401" in err.value.message and no_run_of(CANARY, err.value.message)
    dump = "\n".join(sqlite3.connect(tmp_path / "log.sqlite").iterdump())
    assert "Incorrect API key provided" in dump and no_run_of(CANARY, dump)
