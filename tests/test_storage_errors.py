"""Disk full, read-only workspace, no permission: one line naming the file and what to do, exit 1,
nothing partial left behind (no temp files, no empty files, no .md without its version). Tests run
as root, where chmod stops nothing, so the failures are simulated by monkeypatching the OS calls."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import typer

from persona_assistant.cli.cmd_campaign import report
from persona_assistant.messaging.campaign import RunResult
from persona_assistant.services.campaign import CampaignOutcome
from test_campaign import make_workspace


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """The real entry point (its error handling included), in process so the monkeypatches apply."""
    from persona_assistant.cli.main import run

    monkeypatch.setattr(sys, "argv", ["persona-assistant", *args])
    code = 0
    try:
        run()
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def fail_after(monkeypatch, target, name: str, allowed: int, err: int, when=lambda *a: True) -> None:
    """Make `target.name` raise OSError(err) once `allowed` calls (for which `when` holds) went through."""
    real = getattr(target, name)
    calls = {"n": 0}

    def fake(*args, **kwargs):
        if when(*args):
            calls["n"] += 1
            if calls["n"] > allowed:
                raise OSError(err, os.strerror(err))
        return real(*args, **kwargs)
    monkeypatch.setattr(target, name, fake)


def leftovers(root: Path) -> list[Path]:
    """Temporary files and empty files anywhere in the workspace."""
    return [p for p in root.rglob("*") if p.is_file() and (p.name.endswith(".tmp") or p.stat().st_size == 0)]


def error_lines(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("error:")]


@pytest.fixture
def sample(tmp_path, fixtures_dir) -> Path:
    shutil.copytree(fixtures_dir / "sample-workspace", tmp_path / "ws")
    return tmp_path / "ws"


def test_full_disk_during_a_campaign_is_one_line_and_keeps_the_finished_items(tmp_path, monkeypatch, capsys):
    ws = make_workspace(tmp_path / "ws")
    fail_after(monkeypatch, os, "replace", 3, errno.ENOSPC)
    code, out, err = run_main(monkeypatch, capsys, "campaign", "-w", str(ws.root), "--offline",
                              "--channel", "cold_email", "--channel", "google_rsa", "--variants", "3")
    assert code == 1 and out == ""
    (line,) = error_lines(err)
    assert line.startswith(f"error: {ws.root / '.persona-assistant' / 'campaign'}/c") and ".json: " in line
    assert line.endswith("no space left on the disk (or the quota is used up): free some space, then run "
                         "the command again")
    assert "failed" not in err and len(err.splitlines()) <= 2  # no line per item
    items = list((ws.root / ".persona-assistant" / "campaign").rglob("*.json"))
    assert len(items) == 3 and all(json.loads(p.read_text())["id"] for p in items)  # finished and whole
    assert leftovers(ws.root) == [] and ws.versions("campaign") == []


@pytest.mark.parametrize("err, advice", [
    (errno.EROFS, "the file system is read-only: copy the workspace to a writable folder"),
    (errno.EACCES, "permission denied: check the owner and mode"),
    (errno.ENOSPC, "no space left on the disk"),
])
def test_a_failing_draft_write_names_the_file_and_leaves_no_md_without_its_json(sample, monkeypatch, capsys, err,
                                                                               advice):
    # The .md is written first; the version's JSON then fails.
    fail_after(monkeypatch, os, "replace", 0, err, when=lambda src, dst, *a: str(dst).endswith(".json"))
    code, out, stderr = run_main(monkeypatch, capsys, "draft", "personas", "-w", str(sample), "--offline")
    assert code == 1 and out == ""
    (line,) = error_lines(stderr)
    assert line.startswith(f"error: {sample / 'drafts' / 'personas' / 'v0001.json'}: {advice}")
    assert list((sample / "drafts" / "personas").iterdir()) == []  # no orphan .md, no temp file
    assert leftovers(sample) == [] and not (sample / ".persona-assistant" / "lock").exists()


def test_read_only_workspace_refuses_at_the_lock_and_at_export(sample, monkeypatch, capsys):
    real_open = os.open

    def read_only(path, *args, **kwargs):
        if str(path).endswith("lock"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr(os, "open", read_only)
    code, _, err = run_main(monkeypatch, capsys, "campaign", "-w", str(sample), "--offline")
    assert code == 1
    assert error_lines(err) == [f"error: {sample / '.persona-assistant' / 'lock'}: the file system is read-only: "
                                "copy the workspace to a writable folder, then run the command again"]
    monkeypatch.setattr(os, "open", real_open)

    assert run_main(monkeypatch, capsys, "draft", "icp", "-w", str(sample), "--offline")[0] == 0
    fail_after(monkeypatch, tempfile, "mkstemp", 0, errno.EROFS)
    code, _, err = run_main(monkeypatch, capsys, "export", "-w", str(sample), "--format", "html")
    assert code == 1
    assert error_lines(err) == [f"error: {sample / 'output' / 'report.html'}: the file system is read-only: "
                                "copy the workspace to a writable folder, then run the command again"]
    assert not (sample / "output").exists() or list((sample / "output").iterdir()) == []


def test_an_unwrapped_os_error_is_still_one_line_naming_its_file(sample, monkeypatch, capsys):
    real = os.scandir

    def unreadable(path="."):
        if str(path).endswith("notes"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)
    monkeypatch.setattr(os, "scandir", unreadable)  # an unreadable notes folder
    code, _, err = run_main(monkeypatch, capsys, "draft", "personas", "-w", str(sample), "--offline")
    assert code == 1
    assert error_lines(err) == [f"error: {sample / 'notes'}: permission denied: check the owner and mode of the "
                                "file and its folder, or work on a copy you own"]
    assert "unexpected" not in err and "Traceback" not in err


# --------------------------------------------------------------------------- a failure storm


def test_items_failing_for_the_same_cause_are_one_line(tmp_path, capsys):
    failed = {f"p/cold_email/awareness/{i}": "the endpoint is refusing: retry later" for i in range(277)}
    failed["p/google_rsa/decision/1"] = "asset: the model's answer is not valid JSON"
    result = RunResult(total=300, done=["x"] * 22, failed=failed)
    assert result.failure_lines() == [
        "277 items failed: the endpoint is refusing: retry later (first: p/cold_email/awareness/0)",
        "failed p/google_rsa/decision/1: asset: the model's answer is not valid JSON",
    ]
    outcome = CampaignOutcome(campaign_id="c1", result=result,
                              engine="m", items_dir=tmp_path)
    with pytest.raises(typer.Exit):  # items are missing: exit 1
        report(outcome, json_out=False)
    err = capsys.readouterr().err.splitlines()
    assert err == result.failure_lines() + ["22 done / 278 failed / 0 pending",
                                           "run the same command again to generate only the missing items"]
    with pytest.raises(typer.Exit):
        report(outcome, json_out=True)
    data = json.loads(capsys.readouterr().out)
    assert data["failure_causes"] == {"the endpoint is refusing: retry later": 277,
                                      "asset: the model's answer is not valid JSON": 1}
