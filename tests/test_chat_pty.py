"""`persona-assistant chat` in a real pseudo-terminal against a local OpenAI-compatible stub server."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from chat_helpers import make_workspace
from chat_stub_server import MARKER, StubServer

pexpect = pytest.importorskip("pexpect")

PROMPT = ">"  # prompt_toolkit draws "> " as ">" and a cursor move


def _cli() -> list[str]:
    exe = shutil.which("persona-assistant", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "persona_assistant"]


@pytest.fixture
def stub():
    server = StubServer(slow_delay=0.3).start()
    yield server
    server.stop()


def spawn_chat(ws_root: Path, tmp_path: Path, *args: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PERSONA_ASSISTANT_"))}
    # No cursor-position requests: a pty driven by pexpect never answers them.
    env.update(XDG_CONFIG_HOME=str(tmp_path / "xdg"), PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm-256color")
    cmd = _cli()
    return pexpect.spawn(cmd[0], [*cmd[1:], "chat", "-w", str(ws_root), *args], env=env,
                         dimensions=(30, 110), encoding="utf-8", timeout=20)


def test_chat_in_a_terminal_streams_runs_commands_and_saves(tmp_path, stub):
    ws = make_workspace(tmp_path / "ws")
    child = spawn_chat(ws.root, tmp_path, "--base-url", stub.base_url, "--model", "stub-model")
    try:
        child.expect("Ctrl-D to leave")
        child.expect_exact(PROMPT)
        child.sendline("/personas")
        child.expect_exact("cfo: Maya, the CFO")
        child.expect_exact(PROMPT)
        child.sendline("hello stub")
        child.expect_exact(f"{MARKER} You said: hello stub")
        child.expect_exact("stub-model | tokens 50 in")  # the status line after the answer
        child.expect_exact(PROMPT)
        child.sendline("go slow please")  # the stub streams a word every 0.3 s
        child.expect_exact(MARKER)
        child.sendcontrol("c")
        child.expect_exact("[interrupted]")
        child.expect_exact(PROMPT)
        child.sendline("/exit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    conv = json.loads((ws.state_dir / "chat" / "conversation.json").read_text())
    said = [(m["role"], m["content"]) for m in conv["messages"]]
    assert said[:3] == [("user", "hello stub"), ("assistant", f"{MARKER} You said: hello stub"),
                        ("user", "go slow please")]
    assert conv["messages"][3]["interrupted"] is True
    assert conv["messages"][3]["content"].startswith(MARKER)
    assert stub.requests[0]["stream"] is True and stub.requests[0]["model"] == "stub-model"
    assert (ws.state_dir / "chat" / "input-history").read_text().count("hello stub") == 1

    # --resume continues the saved conversation: the model sees the earlier turns.
    child = spawn_chat(ws.root, tmp_path, "--base-url", stub.base_url, "--resume")
    try:
        child.expect_exact("resumed:")
        child.expect_exact(PROMPT)
        child.sendline("again")
        child.expect_exact(f"{MARKER} You said: again")
        child.expect_exact(PROMPT)
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    sent = [m.get("content") for m in stub.requests[-1]["messages"] if m["role"] == "user"]
    assert sent == ["hello stub", "go slow please", "again"]


def test_piped_chat_has_no_prompts_or_colours(tmp_path):
    import subprocess

    ws = make_workspace(tmp_path / "ws")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PERSONA_ASSISTANT_"))}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    out = subprocess.run([*_cli(), "chat", "-w", str(ws.root)], input="/personas\nwrite a cold email for maya\n/bogus\n",
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and ">" not in out.stdout.split("\n")[0]
    assert out.stdout.splitlines()[0] == "cfo: Maya, the CFO - CFO (financial_buyer, c_level); 1 pains, 1 goals, 1 quotes"
    assert "(offline) /message cfo email" in out.stdout
    assert "error: unknown command /bogus" in out.stdout
