"""The last workspace inputs read around the Workspace listings: the workspace's mapping.toml in
analysis, the .md saved beside a draft version (chat's /icp and /undo) and the saved conversation
(chat --resume). A link leading outside is skipped with the workspace's notice, never read."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import respx

from chat_helpers import BASE_URL, make_workspace, run_lines, sse_response, text_stream, tool_stream
from persona_assistant.analysis.segments import analyze_workspace
from persona_assistant.chat.session import Session, conversation_path
from persona_assistant.workspace import Workspace
from test_campaign import make_icp

SECRET = "OUTSIDE-SECRET-5150"


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


def test_a_mapping_toml_linked_outside_is_skipped_with_a_notice(tmp_path, fixtures_dir, outside):
    root = tmp_path / "ws"
    shutil.copytree(fixtures_dir / "sample-workspace", root)
    plain = analyze_workspace(Workspace(root, notify=lambda m: None))
    (outside / "mapping.toml").write_text(f"[columns\n{SECRET} = broken")  # not even TOML
    (root / "mapping.toml").symlink_to(outside / "mapping.toml")
    told: list[str] = []
    result = analyze_workspace(Workspace(root, notify=told.append))  # read, it would fail as bad TOML
    assert told == [f"skipped mapping.toml: it leads to {outside / 'mapping.toml'}, outside the workspace; "
                    f"copy it into {root} to use it"]
    assert result.model_dump(exclude={"generated_at"}) == plain.model_dump(exclude={"generated_at"})


def test_chat_icp_does_not_show_a_draft_md_linked_outside(tmp_path, outside):
    ws = make_workspace(tmp_path / "ws")
    icp = make_icp()
    version = ws.save_version("icp", icp, "# ICP\n\nsaved text\n")
    md = version.path.with_suffix(".md")
    (outside / "icp.md").write_text(f"# {SECRET}\n")
    md.unlink()
    md.symlink_to(outside / "icp.md")
    shown, _ = run_lines(ws, ["/icp", "/exit"], settings_obj=_offline())
    assert SECRET not in shown and icp.summary in shown  # rendered from the JSON instead


@respx.mock(base_url=BASE_URL)
def test_undo_does_not_copy_a_draft_md_linked_outside_into_the_new_version(respx_mock, tmp_path, outside):
    ws = make_workspace(tmp_path / "ws")
    respx_mock.post("/chat/completions").mock(side_effect=[
        sse_response(tool_stream("propose_edit", {"persona_id": "cfo", "path": "archetype", "value": "Audit hawk"})),
        sse_response(text_stream("Done."))])
    run_lines(ws, ["rename the archetype", "y", "/exit"])
    (outside / "v1.md").write_text(f"# {SECRET}\n")
    (ws.drafts_dir / "personas" / "v0001.md").symlink_to(outside / "v1.md")
    shown, _ = run_lines(ws, ["/undo", "/exit"], resume=True)
    assert "personas v0003 restores v0001" in shown
    assert not (ws.drafts_dir / "personas" / "v0003.md").exists()  # nothing read from outside to copy
    assert all(SECRET.encode() not in p.read_bytes() for p in ws.root.rglob("*") if p.is_file() and not p.is_symlink())


def test_a_conversation_linked_outside_is_not_resumed_and_chat_refuses_it(tmp_path, outside):
    ws = make_workspace(tmp_path / "ws")
    (outside / "conversation.json").write_text(json.dumps({"format": 1, "messages": [
        {"role": "user", "content": SECRET}], "edits": []}))
    (ws.state_dir / "chat").mkdir()
    conversation_path(ws).symlink_to(outside / "conversation.json")
    told: list[str] = []
    session = Session.open(Workspace(ws.root, notify=told.append), resume=True)
    assert session.messages == [] and len(told) == 1 and "outside the workspace" in told[0]
    r = subprocess.run([sys.executable, "-m", "persona_assistant", "chat", "--resume", "--offline", "-w",
                        str(ws.root)], input="/exit\n", capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and SECRET not in r.stdout + r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith(
        f"error: {conversation_path(ws)}: leads to {outside / 'conversation.json'}, outside the workspace")
    assert json.loads((outside / "conversation.json").read_text())["messages"][0]["content"] == SECRET


def _offline():
    from chat_helpers import settings

    return settings(offline=True)
