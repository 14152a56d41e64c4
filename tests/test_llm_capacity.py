"""Respecting local servers (llm/capacity.py, llm/provider.py): low start, learnt concurrency,
first-token and idle deadlines, nothing resent while the server may still be working.

Streams are served by respx with tiny real delays (tens of milliseconds); the capacity rules
themselves are checked without any clock."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import respx

from persona_assistant.errors import ModelError
from persona_assistant.llm.capacity import LOCAL_START, Capacity, is_local
from persona_assistant.llm.client import LLM
from persona_assistant.llm.endpoints import Endpoints
from persona_assistant.llm.settings import LLMSettings, SecretStr
from persona_assistant.llm.store import Store

from test_llm_loop import MSGS, Answer

LOCAL = "http://127.0.0.1:8080/v1"
URL = f"{LOCAL}/chat/completions"


def settings(**kw) -> LLMSettings:
    return LLMSettings(**{"model": "m", "base_url": LOCAL, "api_key": SecretStr("sk-x"), "timeout": 2.0,
                          "idle_timeout": 2.0, "cache": False, "max_retries": 0, **kw})


def chunk(delta: dict, finish: str | None = None) -> bytes:
    body = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(body)}\n\n".encode()


def sse(content: str, *, stall: float = 0.0) -> httpx.Response:
    """A streamed answer in two content chunks; `stall` seconds of silence after the first."""
    half = len(content) // 2

    async def body():
        yield chunk({"role": "assistant", "content": content[:half]})
        if stall:
            await asyncio.sleep(stall)
        yield chunk({"content": content[half:]})
        yield chunk({}, "stop")
        usage = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m", "choices": [],
                 "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}
        yield f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode()

    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())


GOOD = '{"name": "ok", "count": 3}'


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "log.sqlite")
    yield s
    s.close()


# --------------------------------------------------------------------------- the rules, no clock


@pytest.mark.parametrize("url, local", [
    ("http://localhost:11434/v1", True), ("http://127.0.0.1:8080/v1", True), ("http://[::1]:8000/v1", True),
    ("http://192.168.1.20:8000/v1", True), ("http://10.0.0.5/v1", True), ("http://gpu-box.local:8000/v1", True),
    ("https://api.openai.com/v1", False), ("http://llm.test/v1", False), ("http://8.8.8.8/v1", False),
])
def test_local_endpoints_are_recognised_by_address_or_name(url, local):
    assert is_local(url) is local


def test_a_local_endpoint_starts_low_a_remote_one_at_the_ceiling_a_learnt_one_where_it_settled():
    assert Capacity.for_endpoint(LOCAL, 16, None).limit == LOCAL_START
    assert Capacity.for_endpoint("https://api.openai.com/v1", 16, None).limit == 16
    learnt = Capacity.for_endpoint(LOCAL, 16, "3")
    assert learnt.limit == 3 and learnt.settled
    assert Capacity.for_endpoint(LOCAL, 1, None).limit == 1  # never above the run's ceiling


def test_fast_first_tokens_grow_the_limit_a_late_one_settles_it_below_what_caused_it():
    kept = []
    cap = Capacity.for_endpoint(LOCAL, 8, None, remember=lambda n, why: kept.append(n))
    for _ in range(4):
        cap.in_flight += 1
        cap.release(1, 0.30)
    assert cap.limit == 6 and not cap.settled  # each fast answer adds a slot
    cap.in_flight += 1
    cap.release(5, 0.95)  # one late first token: a hiccup
    assert cap.limit == 6 and not cap.settled
    cap.in_flight += 3
    for started_with in (5, 4, 6):
        cap.release(started_with, 0.95)  # three of the last five, admitted with 4+ in flight: fewer fit
    assert cap.limit == 3 and cap.settled and kept == [3]
    cap.in_flight += 1
    cap.release(1, 0.30)
    assert cap.limit == 3  # settled: no growth for the rest of the run


def test_late_answers_while_nothing_was_on_time_are_a_busy_machine_not_a_queue():
    cap = Capacity.for_endpoint(LOCAL, 8, None)
    cap.in_flight += 1
    cap.release(1, 0.30, sent_at=0.0)  # on time
    sent = time.monotonic()  # sent after the last on-time answer: all of them waited through the same burst
    cap.in_flight += 3
    for started_with in (3, 4, 2):
        cap.release(started_with, 0.95, sent_at=sent)
    assert not cap.settled and cap.limit == LOCAL_START + 1


def test_late_answers_from_a_deep_queue_count_when_our_loop_ran_on_time():
    """A deep queue answers nothing on time, yet the client sat idle: that is the server's queue (the
    test above is the same answers while our loop ran late, a busy machine)."""
    cap = Capacity.for_endpoint(LOCAL, 8, None)
    cap.in_flight += 1
    cap.release(1, 0.30, sent_at=0.0)
    sent = time.monotonic() - 1.0  # out for a second, nothing answered on time meanwhile
    cap.in_flight += 3
    for started_with in (3, 4, 2):
        cap.release(started_with, 0.95, sent_at=sent, stalled_at=cap.stalled)  # no lateness of ours meanwhile
    assert cap.settled and cap.limit == 1
    busy = Capacity.for_endpoint(LOCAL, 8, None)
    busy.fastest, busy.in_flight = 0.30, 3  # nothing answered on time while these were out
    busy.stalled = 0.9  # our loop ran late for most of the second they were out
    for started_with in (3, 4, 2):
        busy.release(started_with, 0.95, sent_at=time.monotonic() - 1.0, stalled_at=0.0)
    assert not busy.settled


def test_a_slow_answer_alone_on_the_server_is_a_slow_model_not_a_full_server():
    cap = Capacity.for_endpoint(LOCAL, 8, None)
    cap.in_flight += 2
    cap.release(1, 0.3)
    cap.release(1, 5.0)
    assert not cap.settled and cap.limit == LOCAL_START + 1  # the fast one grew it, the slow one did nothing


# --------------------------------------------------------------------------- streamed answers (respx)


def test_a_local_endpoint_is_streamed_and_the_answer_assembled(store):
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=sse(GOOD))
        res = LLM(settings(), store).structured("t", MSGS, Answer)
    sent = json.loads(route.calls[0].request.content)
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert res.value.name == "ok" and res.usage.completion_tokens == 3
    assert store.recent(1)[0]["requests"] == 1


def test_no_first_token_in_time_alone_is_a_slow_model_and_is_not_resent(store):
    arrived = []

    async def late(request):
        arrived.append(request)
        await asyncio.sleep(0.5)
        return sse(GOOD)

    with respx.mock(assert_all_mocked=False, assert_all_called=False) as mock:
        mock.post(URL).mock(side_effect=late)
        with pytest.raises(ModelError, match=r"no first token within 0\.1 s with no other request of ours at it: "
                                             r"the model is slow to start.*closed, not resent"):
            LLM(settings(timeout=0.1, max_retries=2), store).structured("t", MSGS, Answer)
    assert len(arrived) == 1  # given up on and closed, never resent (respx counts only answered calls)


def test_a_stream_that_stalls_is_given_up_on_by_the_idle_deadline(store):
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=lambda request: sse(GOOD, stall=0.5))
        with pytest.raises(ModelError, match=r"stalled: no token for 0\.1 s after 1 chunks.*idle_timeout"):
            LLM(settings(idle_timeout=0.1), store).structured("t", MSGS, Answer)
    assert route.call_count == 1


def two_slot_server(hold: float):
    """A respx side effect that serves two requests at a time and queues the rest (llama.cpp --parallel 2)."""
    slots = asyncio.Semaphore(2)
    seen = {"most": 0, "now": 0, "arrived": 0}

    async def serve(request):
        seen["arrived"] += 1
        seen["now"] += 1
        seen["most"] = max(seen["most"], seen["now"])
        try:
            async with slots:
                await asyncio.sleep(hold)
                return sse(GOOD)
        finally:
            seen["now"] -= 1

    return serve, seen


def run_concurrently(llm: LLM, n: int):
    async def run():
        async with llm:
            return await asyncio.gather(*(llm.structured_async("t", [{"role": "user", "content": f"item {i}"}],
                                                               Answer) for i in range(n)), return_exceptions=True)
    return asyncio.run(run())


def test_queueing_at_a_two_slot_server_settles_the_run_low_and_is_remembered(store):
    endpoints = Endpoints()
    serve, seen = two_slot_server(0.2)
    llm = LLM(settings(), store, endpoints=endpoints, concurrency=8)
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(URL).mock(side_effect=serve)
        results = run_concurrently(llm, 16)
    assert all(not isinstance(r, Exception) for r in results)
    limit = llm.capacity.limit
    assert llm.capacity.settled and 2 <= limit <= 4  # 2 slots: queueing seen at 3 to 5 requests at a time
    assert endpoints.get(LOCAL, "m", "concurrency") == str(limit)
    assert "requests at a time: 3 of the last" in endpoints.get(LOCAL, "m", "concurrency_why")
    assert LLM(settings(), store, endpoints=endpoints, concurrency=8).capacity.limit == limit  # the next command


def test_a_first_token_timeout_among_several_requests_names_queueing_and_lowers_the_limit(store):
    serve, seen = two_slot_server(0.25)
    llm = LLM(settings(timeout=0.4), store, concurrency=4)
    llm.capacity.limit = 4  # as if the run had grown to 4 before the server filled up
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(URL).mock(side_effect=serve)
        results = run_concurrently(llm, 4)
    failed = [str(r) for r in results if isinstance(r, Exception)]
    assert failed and all("the server was queueing them, not slow to answer" in m for m in failed)
    assert llm.capacity.limit <= 2 and seen["arrived"] == 4  # nothing resent
