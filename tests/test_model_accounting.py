"""Honest accounting: unknown token counts and prices are unknown, never 0; requests and modes logged."""

from __future__ import annotations

import json

import httpx
import respx
from chat_helpers import BASE_URL, chunk, make_workspace, run_lines, sse, sse_response
from typer.testing import CliRunner

from persona_assistant.cli.main import app
from persona_assistant.llm.client import LLM
from persona_assistant.llm.settings import LLMSettings, SecretStr
from persona_assistant.llm.store import Store
from persona_assistant.llm.structured import ExtractedEvidence
from persona_assistant.workspace import Workspace

BASE = "http://llm.test/v1"
URL = f"{BASE}/chat/completions"
GOOD = {"source_id": "s", "items": [], "role": "r", "seniority": "director", "function": "f",
        "buying_role": "champion"}


def no_usage(content: str) -> httpx.Response:
    return httpx.Response(200, json={
        "id": "c", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]})


def test_no_usage_and_no_price_are_unknown_in_log_and_usage(tmp_path):
    ws = Workspace(tmp_path)
    settings = LLMSettings(model="local-model", base_url=BASE, api_key=SecretStr("sk-x"), timeout=5.0,
                           max_retries=0, prices={})
    refusal = httpx.Response(500, json={"error": {"message": "response_format: Input should be 'text' or "
                                                             "'json_object'"}})
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(URL).mock(side_effect=[refusal, no_usage("not json"), no_usage(json.dumps(GOOD))])
        res = LLM(settings, ws=ws).structured("extract_evidence", [{"role": "user", "content": "x"}],
                                               ExtractedEvidence)
    assert res.cost is None and res.usage.known is False
    store = Store.existing(ws)
    row = store.recent(1)[0]
    assert (row["prompt_tokens"], row["completion_tokens"], row["cost"]) == (None, None, None)
    assert row["requests"] == 3 and row["attempts"] == 2 and row["mode"] == "json_schema>json_object"
    usage = store.usage()[0]
    store.close()
    assert (usage["prompt_tokens"], usage["cost"]) == (None, None)
    out = CliRunner().invoke(app, ["usage", "-w", str(tmp_path)])
    assert out.exit_code == 0 and "unknown" in out.output and "$0.0000" not in out.output
    log = CliRunner().invoke(app, ["log", "-w", str(tmp_path), "--json"])
    logged = json.loads(log.output)[0]
    assert logged["prompt_tokens"] is None and logged["requests"] == 3


def test_chat_status_bar_says_tokens_unknown_without_a_usage_chunk(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    body = sse([chunk({"role": "assistant", "content": ""}), chunk({"content": "Hello there. "}), chunk({}, "stop")])
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(f"{BASE_URL}/chat/completions").mock(return_value=sse_response(body))
        _, chat = run_lines(ws, ["hi", "/exit"])
    assert "tokens unknown" in chat.status() and "0 in" not in chat.status()
