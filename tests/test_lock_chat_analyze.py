"""Chat edits, /undo and `analyze` of the workspace's own data save versions, so they hold the
workspace's writer lock like draft and campaign: while another run holds it they refuse with the
lock's one line and save nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import respx

from chat_helpers import BASE_URL, make_workspace, run_lines, sse_response, text_stream, tool_stream
from persona_assistant.workspace import Workspace
from persona_assistant.workspace_lock import LOCK_NAME, writer_lock
from test_storage_errors import error_lines, run_main
from test_workspace_lock import hold_lock

EDIT = {"persona_id": "cfo", "path": "archetype", "value": "Audit hawk", "reason": "sharper"}


def busy_line(ws: Workspace, command: str, ending: str) -> str:
    """The start and end of the lock's refusal (the start time between them varies)."""
    return (f"{ws.root / '.persona-assistant' / LOCK_NAME}: the workspace is in use by `{command}` "
            f"(pid {os.getpid()}, started ", f"; wait for it to finish, {ending}")


@respx.mock(base_url=BASE_URL)
def test_a_chat_edit_refuses_while_a_campaign_holds_the_workspace(respx_mock, tmp_path):
    ws = make_workspace(tmp_path / "ws")
    route = respx_mock.post("/chat/completions").mock(side_effect=[
        sse_response(tool_stream("propose_edit", EDIT)), sse_response(text_stream("Could not save it."))])
    with writer_lock(ws, "campaign"):
        shown, _ = run_lines(ws, ["rename the archetype", "y", "/exit"])
    assert [v.number for v in ws.versions("personas")] == [1]  # nothing saved
    start, end = busy_line(ws, "campaign", "then ask again")
    (line,) = [ln for ln in shown.splitlines() if ln.startswith("error:")]
    assert line.startswith(f"error: {start}") and line.endswith(end)
    told = json.loads(json.loads(route.calls[1].request.content)["messages"][-1]["content"])
    assert told["error"].startswith(start) and told["error"].endswith(end)  # the model is told why


@respx.mock(base_url=BASE_URL)
def test_undo_refuses_while_a_draft_holds_the_workspace_and_works_after(respx_mock, tmp_path):
    ws = make_workspace(tmp_path / "ws")
    respx_mock.post("/chat/completions").mock(side_effect=[
        sse_response(tool_stream("propose_edit", EDIT)), sse_response(text_stream("Done."))])
    run_lines(ws, ["rename the archetype", "y", "/exit"])
    assert [v.number for v in ws.versions("personas")] == [1, 2]
    with writer_lock(ws, "draft personas"):
        shown, _ = run_lines(ws, ["/undo", "/exit"], resume=True)
    start, end = busy_line(ws, "draft personas", "then ask again")
    (line,) = [ln for ln in shown.splitlines() if ln.startswith("error:")]
    assert line.startswith(f"error: {start}") and line.endswith(end)
    assert [v.number for v in ws.versions("personas")] == [1, 2]
    shown, _ = run_lines(ws, ["/undo", "/exit"], resume=True)  # the lock is free again
    assert "personas v0003 restores v0001" in shown and not (ws.state_dir / LOCK_NAME).exists()


@pytest.fixture
def sample(tmp_path, fixtures_dir) -> Path:
    shutil.copytree(fixtures_dir / "sample-workspace", tmp_path / "ws")
    return tmp_path / "ws"


def test_analyze_refuses_while_another_run_holds_the_workspace(sample, monkeypatch, capsys):
    ws = Workspace(sample)
    with writer_lock(ws, "campaign"):
        code, out, err = run_main(monkeypatch, capsys, "analyze", "-w", str(sample), "--json")
        assert code == 1 and out == ""
        start, end = busy_line(ws, "campaign", "or run again with --wait")
        (line,) = error_lines(err)
        assert line.startswith(f"error: {start}") and line.endswith(end)
        assert ws.versions("analysis") == []
        # Files named on the command line are only read: no version, no lock needed.
        code, out, _ = run_main(monkeypatch, capsys, "analyze", *(str(p) for p in ws.crm_files()), "-w",
                                str(sample), "--json")
        assert code == 0 and json.loads(out)["segments"] and ws.versions("analysis") == []
    code, _, _ = run_main(monkeypatch, capsys, "analyze", "-w", str(sample), "--json")
    assert code == 0 and [v.number for v in ws.versions("analysis")] == [1]


def test_analyze_waits_for_the_holder_with_wait(sample, tmp_path):
    holder = hold_lock(sample, tmp_path / "release")
    waiter = subprocess.Popen([sys.executable, "-m", "persona_assistant", "analyze", "-w", str(sample), "--wait",
                               "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = waiter.stderr.readline()
    assert first.startswith(f"waiting for `campaign` (pid {holder.pid}"), first
    assert Workspace(sample).versions("analysis") == []  # nothing saved while it waits
    (tmp_path / "release").touch()
    out, err = waiter.communicate(timeout=120)
    holder.wait()
    assert waiter.returncode == 0, err
    assert json.loads(out)["segments"] and [v.number for v in Workspace(sample).versions("analysis")] == [1]
