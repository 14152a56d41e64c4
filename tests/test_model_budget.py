"""Bound the output: max_tokens per task, overrides, truncated answers salvaged, chat marks a cut."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from chat_helpers import BASE_URL, chunk, make_workspace, run_lines, sse, sse_response

from persona_assistant.errors import ModelError
from persona_assistant.llm.budget import CUT_NOTICE, TASK_MAX_TOKENS
from persona_assistant.llm.client import LLM
from persona_assistant.llm.settings import LLMSettings, SecretStr, resolve_settings
from persona_assistant.llm.structured import evidence_answer
from persona_assistant.workspace import Workspace

BASE = "http://llm.test/v1"
URL = f"{BASE}/chat/completions"
Q1 = "Attribution reports take a week to assemble by hand."
Q2 = "The board cut our paid budget by a third this year."


def completion(text: str, finish: str = "stop") -> httpx.Response:
    return httpx.Response(200, json={
        "id": "c", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})


def item(quote, line):
    return {"category": "pains", "line_start": line, "line_end": line, "quote": quote, "summary": "s"}


def ask(settings: LLMSettings, answer: httpx.Response, task: str = "extract_evidence"):
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(return_value=answer)
        res = LLM(settings).structured(task, [{"role": "user", "content": "x"}], evidence_answer("mkt", 1, 20))
    return res, json.loads(route.calls[0].request.content)


def make_settings(**kw) -> LLMSettings:
    return LLMSettings(model="m", base_url=BASE, api_key=SecretStr("sk-x"), timeout=5.0, max_retries=0, cache=False,
                       **kw)


GOOD = json.dumps({"source_id": "mkt", "items": [item(Q1, 3)], "role": "r", "seniority": "director",
                   "function": "f", "buying_role": "champion"})


@pytest.mark.parametrize("task", ["asset", "extract_evidence", "persona_synthesis"])
def test_each_task_sends_its_own_output_limit(task):
    _, body = ask(make_settings(), completion(GOOD), task)
    assert body["max_tokens"] == TASK_MAX_TOKENS[task]


def test_option_beats_per_task_setting_beats_global_setting(tmp_path):
    (tmp_path / "persona-assistant.toml").write_text(
        '[llm]\nbase_url = "http://llm.test/v1"\nmax_tokens = 900\n[llm.max_tokens_per_task]\nasset = 300\n')
    ws = Workspace(tmp_path)
    configured = resolve_settings(ws)
    assert ask(configured, completion(GOOD), "asset")[1]["max_tokens"] == 300
    assert ask(configured, completion(GOOD), "extract_evidence")[1]["max_tokens"] == 900
    assert ask(resolve_settings(ws, max_tokens=50), completion(GOOD), "asset")[1]["max_tokens"] == 50


def test_a_run_on_answer_cut_at_max_tokens_keeps_its_complete_items():
    full = json.dumps({"source_id": "mkt", "items": [item(Q1, 3), item(Q2, 5)]})
    run_on = full[: full.index(Q2) + 12]  # the model ran on until the limit cut it mid-quote
    res, _ = ask(make_settings(), completion(run_on, finish="length"))
    assert [i.quote for i in res.value.items] == [Q1]
    assert res.value.role == "unknown" and res.value.seniority == "unknown"  # nothing left: unknown
    assert any("answer cut at max_tokens=2500" in n for n in res.notes)
    assert res.attempts == 1  # not re-asked: it would run on again


def test_a_cut_answer_with_nothing_complete_fails_in_one_line_naming_the_option():
    with pytest.raises(ModelError, match=r"truncated at max_tokens=2500 with nothing complete.*--max-tokens"):
        ask(make_settings(), completion('{"source_id": "mk', finish="length"))


def test_chat_shows_when_an_answer_was_cut_at_the_output_limit(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    body = sse([chunk({"role": "assistant", "content": ""}), chunk({"content": "The main pains are "}),
                chunk({}, "length")])
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(f"{BASE_URL}/chat/completions").mock(return_value=sse_response(body))
        shown, _ = run_lines(ws, ["What hurts?", "/exit"])
    assert CUT_NOTICE in shown
    assert json.loads(route.calls[0].request.content)["max_tokens"] == TASK_MAX_TOKENS["chat"]
