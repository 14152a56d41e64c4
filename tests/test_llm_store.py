"""The SQLite log and cache, the `log` and `usage` commands, and that the key is written nowhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from persona_assistant.llm.store import Store, cache_key

CANARY = "sk-CANARY-7f3a9c2e5b1d4f60"


def test_cache_key_changes_with_every_part():
    base = dict(model="m", endpoint="http://e/v1", parts={"prompt": "p", "version": "1"}, schema={"a": 1},
                messages=[{"role": "user", "content": "x"}], max_tokens=None)
    k = cache_key(**base)
    assert k == cache_key(**dict(reversed(list(base.items()))))  # order of parts does not matter
    for name, other in [("model", "m2"), ("endpoint", "http://f/v1"), ("parts", {"prompt": "p", "version": "2"}),
                        ("schema", {"a": 2}), ("messages", [{"role": "user", "content": "y"}]), ("max_tokens", 10)]:
        assert cache_key(**{**base, name: other}) != k, name


def test_usage_totals_and_unknown_cost(tmp_path):
    s = Store(tmp_path / "log.sqlite")
    s.record(task="extract", model="a", endpoint="h", prompt_tokens=100, completion_tokens=10, cost=0.5, status="ok")
    s.record(task="extract", model="a", endpoint="h", prompt_tokens=50, completion_tokens=5, cost=0.25, status="ok")
    s.record(task="extract", model="a", endpoint="h", cached=1, cost=0.0, status="ok")
    s.record(task="icp", model="local", endpoint="h", prompt_tokens=7, completion_tokens=3, cost=None, status="ok")
    s.record(task="icp", model="local", endpoint="h", status="error", error="HTTP 500")
    rows = {(r["model"], r["task"]): r for r in s.usage()}
    a = rows[("a", "extract")]
    assert (a["calls"], a["cached"], a["prompt_tokens"], a["completion_tokens"]) == (3, 1, 150, 15)
    assert a["cost"] == pytest.approx(0.75)
    assert rows[("local", "icp")]["cost"] is None and rows[("local", "icp")]["errors"] == 1
    assert [r["task"] for r in s.recent(2)] == ["icp", "icp"]
    with pytest.raises(TypeError):
        s.record(task="x", model="m", endpoint="h", status="ok", api_key="no")
    s.close()


SCRIPT = textwrap.dedent('''
    import sys, httpx, respx
    from pydantic import BaseModel
    from persona_assistant.errors import ModelError
    from persona_assistant.llm.client import LLM
    from persona_assistant.llm.settings import resolve_settings
    from persona_assistant.workspace import open_workspace

    class A(BaseModel):
        name: str

    def ok():
        return httpx.Response(200, json={"id": "1", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
            "content": '{"name": "x"}'}}], "usage": {"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15}})

    key = sys.argv[2]
    ws = open_workspace(sys.argv[1])
    settings = resolve_settings(ws, base_url="http://llm.test/v1")
    print(repr(settings), file=sys.stderr)
    llm = LLM(settings, ws=ws)
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post("http://llm.test/v1/chat/completions").mock(side_effect=[ok(),
            httpx.Response(401, json={"error": {"message": "Incorrect API key provided: " + key}})])
        print(llm.structured("extract", [{"role": "user", "content": "a"}], A).value, file=sys.stderr)
        try:
            llm.structured("extract", [{"role": "user", "content": "b"}], A)
        except ModelError as exc:
            print("error:", exc.message, file=sys.stderr)
    import traceback
    try:
        raise ModelError("x")
    except ModelError:
        traceback.print_exc()
''')


def test_api_key_is_written_nowhere(tmp_path):
    ws = tmp_path / "ws"
    (ws / ".persona-assistant").mkdir(parents=True)
    env = {**os.environ, "OPENAI_API_KEY": CANARY, "OPENAI_LOG": "debug", "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(ws), CANARY], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "error: extract: model endpoint llm.test answered HTTP 401" in run.stderr
    assert "keys set" in run.stderr  # the 401 hint
    assert "HTTP Request" in run.stderr or "Request options" in run.stderr  # the SDK's debug log was on
    outputs = [run.stdout, run.stderr]
    for cmd in (["log", "--json"], ["log"], ["usage", "--json"], ["usage"]):
        r = subprocess.run([sys.executable, "-m", "persona_assistant", *cmd, "-w", str(ws)], env=env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        outputs += [r.stdout, r.stderr]
    rows = json.loads(subprocess.run([sys.executable, "-m", "persona_assistant", "log", "--json", "-w", str(ws)],
                                     env=env, capture_output=True, text=True, timeout=60).stdout)
    assert [r["status"] for r in rows] == ["error", "ok"]
    assert rows[1]["prompt_tokens"] == 11 and rows[0]["error"].startswith("extract: model endpoint llm.test")
    for text in outputs:
        assert CANARY not in text and "CANARY" not in text
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "log.sqlite" for p in files)
    for path in files:
        assert b"CANARY" not in path.read_bytes(), path


def test_log_and_usage_commands(tmp_path):
    ws = tmp_path / "ws"
    s = Store(ws / ".persona-assistant" / "log.sqlite")
    s.record(task="persona_synthesis", model="gpt-4o-mini", endpoint="api.openai.com", prompt_tokens=1000,
             completion_tokens=200, latency_ms=1200, cost=0.00027, status="ok", mode="json_schema", attempts=1,
             redacted=23)
    s.record(task="chat", model="local", endpoint="localhost:8080", prompt_tokens=10, completion_tokens=5,
             status="error", error="[bold red]markup[/] \x1b[31mred", mode="stream", attempts=1)
    s.close()
    env = {**os.environ, "COLUMNS": "200"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "persona_assistant", *a, "-w", str(ws)], env=env,
                                    capture_output=True, text=True, timeout=60)
    r = run("log", "-n", "1", "--json")
    assert r.returncode == 0 and [x["task"] for x in json.loads(r.stdout)] == ["chat"] and r.stderr == ""
    assert json.loads(run("log", "--json").stdout)[1]["redacted"] == 23  # values the request carried redacted
    r = run("log")
    assert "redacted" in r.stdout and " 23 " in r.stdout
    assert "persona_synthesis" in r.stdout and "[bold red]markup[/]" in r.stdout and "\x1b[31m" not in r.stdout
    data = json.loads(run("usage", "--json").stdout)
    assert data["total"] == {"calls": 2, "prompt_tokens": 1010, "completion_tokens": 205, "cost": None}
    r = run("usage")
    assert "unknown" in r.stdout and "$0.0003" in r.stdout and "[llm.prices" in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = subprocess.run([sys.executable, "-m", "persona_assistant", "log", "-w", str(empty)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and "no model calls logged yet" in r.stderr
    assert not (empty / ".persona-assistant").exists()  # reading does not create state
