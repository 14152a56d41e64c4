"""A campaign against a failing endpoint: the circuit breaker stops the run, finished items stay,
and failures with one cause are reported as one line. HTTP is mocked by respx."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from persona_assistant.cli.cmd_campaign import report
from persona_assistant.llm.client import LLM
from persona_assistant.llm.faults import BREAKER_THRESHOLD, REFUSING
from persona_assistant.llm.settings import LLMSettings, SecretStr
from persona_assistant.messaging.campaign import (
    AssetDraft, RunResult, items_dir, offline_generator, plan_items, run_items,
)
from persona_assistant.services.campaign import run_campaign
from test_campaign import make_context, make_workspace

BASE = "http://llm.test/v1"
URL = f"{BASE}/chat/completions"
STORM = httpx.Response(429, headers={"retry-after": "0"}, json={"error": {"message": "rate limit reached"}})


def test_429_storm_stops_the_run_after_n_and_keeps_finished_items(tmp_path):
    ctx = make_context()
    specs = plan_items(list(ctx.personas), ["cold_email", "linkedin_post", "google_rsa"], ["awareness", "consideration",
                                                                                   "decision"], 3)
    offline = offline_generator(ctx)
    finished_first = {s.id for s in specs[:5]}
    llm = LLM(LLMSettings(model="m", base_url=BASE, api_key=SecretStr("sk-x"), timeout=5.0, max_retries=2))

    async def generate(spec):
        if spec.id in finished_first:  # these finish before the storm
            return await offline(spec)
        await llm.structured_async("asset", [{"role": "user", "content": spec.id}], AssetDraft,
                                   cache_key_parts={"item": spec.id})
        raise AssertionError("the storm never answers")

    async def run():
        async with llm:
            return await run_items(specs, generate, tmp_path, concurrency=8)

    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=STORM)
        result = asyncio.run(run())
    without_breaker = (len(specs) - 5) * 3  # every item, with the SDK's 2 retries
    assert len(specs) == 54 and route.call_count <= BREAKER_THRESHOLD + 8 - 1 < without_breaker
    assert result.stopped and REFUSING in result.stopped and "429" in result.stopped
    assert set(result.generated) == finished_first and {p.name for p in tmp_path.glob("*.json")} == {
        s.filename for s in specs if s.id in finished_first}
    assert result.failed == {} and result.pending == len(specs) - 5 and not result.complete


def test_run_campaign_with_a_refusing_endpoint_exits_1_with_one_stop_line(tmp_path, monkeypatch, capsys):
    ws = make_workspace(tmp_path / "ws")
    monkeypatch.setenv("PERSONA_ASSISTANT_BASE_URL", BASE)
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=httpx.Response(503, json={"error": {"message": "overloaded"}}))
        outcome = run_campaign(ws, channels=["cold_email", "google_rsa"], variants=3)
    assert route.call_count <= BREAKER_THRESHOLD + 8 - 1 and outcome.version is None
    assert outcome.result.pending == outcome.result.total == 36
    with pytest.raises(Exception) as exit_:
        report(outcome, json_out=False)
    assert getattr(exit_.value, "exit_code", None) == 1
    err = capsys.readouterr().err.splitlines()
    assert [ln for ln in err if ln.startswith("stopped:")] == [
        f"stopped: {outcome.result.stopped}; finished items are saved"]
    assert "llm.test answered 5 consecutive HTTP 429/5xx, last 503" in outcome.result.stopped
    assert not list(items_dir(ws, outcome.campaign_id).glob("*.json"))


def test_failures_with_one_cause_collapse_into_one_line():
    same = "asset: model endpoint llm.test answered text/html instead of a chat completion (JSON): '<html>'"
    result = RunResult(total=300, failed={f"item-{i:03d}": same for i in range(277)} | {"other": "asset: odd"})
    lines = result.failure_lines()
    assert lines == [f"277 items failed: {same} (first: item-000)", "failed other: asset: odd"]


def test_html_page_for_every_item_is_one_collapsed_line(tmp_path, monkeypatch, capsys):
    ws = make_workspace(tmp_path / "ws")
    monkeypatch.setenv("PERSONA_ASSISTANT_BASE_URL", BASE)
    page = httpx.Response(200, text="<html><body>Service Unavailable</body></html>",
                          headers={"content-type": "text/html"})
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=page)
        outcome = run_campaign(ws, channels=["cold_email"], variants=3)
    assert route.call_count == 18 and len(outcome.result.failed) == 18 and not outcome.result.stopped
    with pytest.raises(Exception):
        report(outcome, json_out=False)
    failed = [ln for ln in capsys.readouterr().err.splitlines() if "failed" in ln and "pending" not in ln]
    assert failed == ["18 items failed: asset: model endpoint llm.test answered text/html instead of a chat "
                      "completion (JSON): '<html><body>Service Unavailable</body></html>' (first: cfo/cold_email/awareness/1)"]
