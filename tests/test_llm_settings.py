"""Where model, base URL and key come from, and that the key stays secret."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

import pytest

from persona_assistant.errors import InputError, UsageError
from persona_assistant.llm.settings import (
    DUMMY_KEY, OPENAI_BASE_URL, keys_path, read_keys_file, resolve_settings, write_keys_file,
)
from persona_assistant.workspace import Workspace


@pytest.fixture
def ws(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    return Workspace(root)


def write_config(ws, text: str) -> None:
    ws.config_path.write_text(text, encoding="utf-8")


def test_nothing_configured_is_offline(ws):
    s = resolve_settings(ws)
    assert s.offline and s.origin == {}


def test_precedence_option_env_keys_file_workspace(ws, monkeypatch):
    write_config(ws, '[llm]\nmodel = "from-ws"\nbase_url = "http://ws.test/v1"\n')
    s = resolve_settings(ws)
    assert (s.model, s.base_url, s.origin["model"]) == ("from-ws", "http://ws.test/v1", str(ws.config_path))
    assert not s.offline and s.api_key.get_secret_value() == DUMMY_KEY  # base URL alone is enough

    write_keys_file({"api_key": "sk-file", "model": "from-file", "base_url": "http://file.test/v1"})
    s = resolve_settings(ws)
    assert (s.model, s.base_url, s.api_key.get_secret_value()) == ("from-file", "http://file.test/v1", "sk-file")

    monkeypatch.setenv("PERSONA_ASSISTANT_MODEL", "from-env")
    monkeypatch.setenv("PERSONA_ASSISTANT_BASE_URL", "http://env.test/v1/")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    s = resolve_settings(ws)
    assert (s.model, s.base_url, s.api_key.get_secret_value()) == ("from-env", "http://env.test/v1", "sk-env")
    assert s.origin["api_key"] == "environment OPENAI_API_KEY"

    s = resolve_settings(ws, model="from-option", base_url="http://opt.test/v1")
    assert (s.model, s.base_url, s.origin["model"]) == ("from-option", "http://opt.test/v1", "option")
    assert resolve_settings(ws, offline=True).offline


def test_key_alone_uses_openai(ws, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-abc")
    s = resolve_settings(ws)
    assert not s.offline and s.base_url == OPENAI_BASE_URL and s.endpoint_host == "api.openai.com"
    assert s.cost(1_000_000, 0) == pytest.approx(0.15)  # gpt-4o-mini list price


def test_key_never_in_repr_or_dump(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-CANARY-0123456789")
    s = resolve_settings(None)
    assert "CANARY" not in repr(s) and "CANARY" not in str(s) and "CANARY" not in s.model_dump_json()


def test_workspace_may_not_hold_a_key(ws):
    write_config(ws, '[llm]\napi_key = "sk-oops"\n')
    with pytest.raises(InputError, match=r"persona-assistant.toml: \[llm\] api_key is not read"):
        resolve_settings(ws)


def test_bad_values_name_their_source(ws):
    with pytest.raises(UsageError, match="--base-url: base URL 'localhost:8080' is not an http"):
        resolve_settings(ws, base_url="localhost:8080")
    write_config(ws, '[llm]\nprompt_budget_tokens = "lots"\n')
    with pytest.raises(InputError, match="llm.prompt_budget_tokens: expected a number"):
        resolve_settings(ws)


def test_workspace_budget_and_prices(ws):
    write_config(ws, '[llm]\nbase_url = "http://localhost:8080/v1"\nmodel = "qwen"\nprompt_budget_tokens = 3000\n'
                     '[llm.prices."qwen"]\ninput = 0.5\noutput = 1.5\n')
    s = resolve_settings(ws)
    assert s.prompt_budget_tokens == 3000
    assert s.cost(2_000_000, 1_000_000) == pytest.approx(2.5)
    assert s.price("gpt-4o-mini") is None  # OpenAI list prices do not apply to a local server


def test_unpriced_local_model_has_unknown_cost(ws):
    s = resolve_settings(ws, base_url="http://localhost:11434/v1")
    assert s.cost(100, 100) is None


def test_keys_file_is_0600_in_a_0700_folder():
    path = write_keys_file({"api_key": "sk-1"})
    assert path == keys_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    write_keys_file({"base_url": "http://x.test/v1"})
    assert read_keys_file() == {"api_key": "sk-1", "base_url": "http://x.test/v1"}


def test_broken_keys_file_names_it():
    keys_path().parent.mkdir(parents=True)
    keys_path().write_text("{nope", encoding="utf-8")
    with pytest.raises(InputError, match="keys.json: not valid JSON"):
        resolve_settings(None)


def _cli(*args, env, stdin=""):
    return subprocess.run([sys.executable, "-m", "persona_assistant", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=60)


def test_keys_set_and_path_commands(tmp_path):
    import os

    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    r = _cli("keys", "path", env=env)
    assert r.returncode == 0 and r.stdout.strip() == str(tmp_path / "cfg" / "persona-assistant" / "keys.json")
    r = _cli("keys", "set", "--stdin", env=env, stdin="sk-from-stdin\n")
    assert r.returncode == 0, r.stderr
    path = tmp_path / "cfg" / "persona-assistant" / "keys.json"
    assert json.loads(path.read_text()) == {"api_key": "sk-from-stdin"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "sk-from-stdin" not in r.stdout + r.stderr
    r = _cli("keys", "set", "--stdin", env=env, stdin="\n")
    assert r.returncode == 2 and r.stderr.startswith("error: keys set: no key given")


def test_keys_set_prompt_does_not_echo_the_key(tmp_path):
    import os

    pexpect = pytest.importorskip("pexpect")
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    child = pexpect.spawn(sys.executable, ["-m", "persona_assistant", "keys", "set"], env=env, timeout=30,
                          encoding="utf-8")
    child.expect("API key")
    child.sendline("sk-typed-secret-42")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "sk-typed-secret-42" not in child.before
    assert read_keys_file(tmp_path / "cfg" / "persona-assistant" / "keys.json")["api_key"] == "sk-typed-secret-42"


def test_first_token_and_idle_timeouts_from_the_workspace(ws):
    write_config(ws, '[llm]\nbase_url = "http://localhost:8080/v1"\ntimeout = 20\nidle_timeout = 5\n')
    s = resolve_settings(ws)
    assert (s.timeout, s.idle_timeout) == (20.0, 5.0)
    write_config(ws, '[llm]\nidle_timeout = 0\n')
    with pytest.raises(InputError, match="llm.idle_timeout: must be at least 0.1"):
        resolve_settings(ws)
