"""One writer per workspace (the lock: refuse naming the holder, --wait, stale lock taken over) and
reruns that change nothing save no new version."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import respx

from persona_assistant.errors import WorkspaceBusy
from persona_assistant.services.campaign import run_campaign
from persona_assistant.workspace import Workspace
from persona_assistant.workspace_lock import LOCK_NAME, writer_lock
from test_campaign import make_workspace
from test_export import _answer

BASE = "http://llm.test/v1"
BODY = ("Hi {{first_name}}, " + "Ledgerly ends the monthly rebuild of reconciliation spreadsheets and the chase "
        "for documents, " * 6 + "so book a 15-minute walkthrough.")  # one sentence: none said twice
SELECTION = dict(channels=["cold_email"], stages=["awareness", "decision"], variants=2)  # 2 personas: 8 items


def answer() -> httpx.Response:
    return _answer("Month-end without the rebuild", BODY)  # a lint-clean cold email: no re-ask


def run_cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "persona_assistant", *args], capture_output=True, text=True,
                          timeout=120, **kw)


HOLDER = """
import os, sys, time
from persona_assistant.workspace import open_workspace
from persona_assistant.workspace_lock import writer_lock
with writer_lock(open_workspace(sys.argv[1]), "campaign"):
    print("locked", flush=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:  # until told to finish
        time.sleep(0.05)
"""


def hold_lock(root: Path, release: Path) -> subprocess.Popen:
    """A process holding the workspace lock until `release` exists."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(root), str(release)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


# --------------------------------------------------------------------------- concurrency


def test_two_concurrent_campaigns_request_each_item_once(tmp_path, monkeypatch):
    ws = make_workspace(tmp_path / "ws")
    monkeypatch.setenv("PERSONA_ASSISTANT_BASE_URL", BASE)
    monkeypatch.setenv("PERSONA_ASSISTANT_MODEL", "test-model")
    in_first_request, release = threading.Event(), threading.Event()

    def slow(request: httpx.Request) -> httpx.Response:
        in_first_request.set()
        release.wait(10)  # the first run stays inside its requests until the others have tried
        return answer()

    outcomes: dict[str, object] = {}
    told: list[str] = []

    def run(name: str, **kw) -> None:
        try:
            outcomes[name] = run_campaign(Workspace(ws.root, notify=told.append), **SELECTION, **kw)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcomes[name] = exc

    with respx.mock(base_url=BASE, assert_all_called=True) as mock:
        route = mock.post("/chat/completions").mock(side_effect=slow)
        first = threading.Thread(target=run, args=("first",))
        first.start()
        assert in_first_request.wait(10)
        run("refused")  # a second campaign without --wait: refused at once, nothing requested
        waiting = threading.Thread(target=run, args=("waiting",), kwargs={"wait": True})
        waiting.start()
        deadline = time.monotonic() + 10
        while not any(t.startswith("waiting for") for t in told) and time.monotonic() < deadline:
            time.sleep(0.05)
        release.set()
        first.join(30), waiting.join(30)

    refused = outcomes["refused"]
    assert isinstance(refused, WorkspaceBusy)
    assert refused.message.startswith(f"{ws.root / '.persona-assistant' / LOCK_NAME}: the workspace is in use by "
                                      f"`campaign` (pid {os.getpid()}, started ")
    assert refused.message.endswith("wait for it to finish, or run again with --wait")
    assert any(t.startswith(f"waiting for `campaign` (pid {os.getpid()}") for t in told), told
    done, waited = outcomes["first"], outcomes["waiting"]
    assert len(done.result.generated) == 8 and done.version.number == 1
    assert route.call_count == 8  # each item requested once, by the first run only
    assert waited.result.complete and waited.result.generated == []
    assert waited.version.number == 1 and waited.version.unchanged  # no second, identical version
    assert [v.number for v in ws.versions("campaign")] == [1]
    assert not (ws.root / ".persona-assistant" / LOCK_NAME).exists()  # released


def test_cli_refuses_naming_the_holder_waits_with_wait_and_takes_over_a_dead_holders_lock(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    holder = hold_lock(ws.root, tmp_path / "never")
    try:
        for args in (("campaign", "--offline"), ("draft", "personas", "--offline")):
            r = run_cli(*args, "-w", str(ws.root))
            assert r.returncode == 1
            last = r.stderr.strip().splitlines()[-1]
            assert last == (f"error: {ws.root / '.persona-assistant' / LOCK_NAME}: the workspace is in use by "
                            f"`campaign` (pid {holder.pid}, started {last.split('started ')[1].split(')')[0]}); "
                            "wait for it to finish, or run again with --wait")
        assert ws.versions("campaign") == []
    finally:
        holder.send_signal(signal.SIGKILL)  # dies holding it: the lock file stays behind
        holder.wait()
    lock = ws.root / ".persona-assistant" / LOCK_NAME
    assert json.loads(lock.read_text())["pid"] == holder.pid
    r = run_cli("campaign", "--offline", "--channel", "cold_email", "--variants", "1", "-w", str(ws.root))
    assert r.returncode == 0, r.stderr
    assert f"took over the lock left by `campaign` (pid {holder.pid}" in r.stderr and "no longer running" in r.stderr
    assert not lock.exists()

    short = hold_lock(ws.root, tmp_path / "release")
    waiter = subprocess.Popen([sys.executable, "-m", "persona_assistant", "campaign", "--offline", "--channel",
                               "cold_email", "--variants", "1", "-w", str(ws.root), "--wait"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = waiter.stderr.readline()  # the waiter says for whom it waits, then the holder finishes
    assert first.startswith(f"waiting for `campaign` (pid {short.pid}"), first
    (tmp_path / "release").touch()
    out, err = waiter.communicate(timeout=120)
    short.wait()
    assert waiter.returncode == 0, err
    assert "no new version saved" in err  # the same campaign: nothing new to save


def test_the_lock_is_released_after_an_error_and_threads_exclude_each_other(tmp_path):
    ws = Workspace(tmp_path)
    with pytest.raises(RuntimeError):
        with writer_lock(ws, "draft icp"):
            raise RuntimeError("boom")
    with writer_lock(ws, "draft icp"):
        with pytest.raises(WorkspaceBusy, match="in use by `draft icp`"):
            with writer_lock(ws, "campaign"):
                pass
    assert not (tmp_path / ".persona-assistant").exists()  # created for the lock only: removed again


def test_a_waiter_survives_the_holder_removing_the_state_folder_it_created(tmp_path):
    told: list[str] = []
    outcome: list[object] = []

    def waiter() -> None:
        try:
            with writer_lock(Workspace(tmp_path, notify=told.append), "campaign", wait=True):
                outcome.append("locked")
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome.append(exc)

    with writer_lock(Workspace(tmp_path), "draft icp"):  # creates .persona-assistant for the lock
        thread = threading.Thread(target=waiter)
        thread.start()
        deadline = time.monotonic() + 10
        while not told and time.monotonic() < deadline:
            time.sleep(0.02)
    thread.join(10)  # the holder removed the (empty) folder on leaving; the waiter makes it again
    assert told and told[0].startswith("waiting for `draft icp`") and outcome == ["locked"]


# --------------------------------------------------------------------------- identical reruns


def test_identical_reruns_save_no_new_version(tmp_path, fixtures_dir):
    root = tmp_path / "ws"
    shutil.copytree(fixtures_dir / "sample-workspace", root)
    steps = [("draft", "icp"), ("draft", "personas"), ("campaign", "--channel", "cold_email", "--variants", "1")]
    for args in steps:
        assert run_cli(*args, "-w", str(root), "--offline").returncode == 0
    first = {kind: (root / "drafts" / kind / "v0001.json").read_bytes() for kind in ("icp", "personas", "campaign")}
    for args in steps:
        r = run_cli(*args, "-w", str(root), "--offline")
        assert r.returncode == 0, r.stderr
        assert "unchanged: " in r.stdout + r.stderr and "no new version saved" in r.stdout + r.stderr
    for kind, data in first.items():
        assert sorted(p.name for p in (root / "drafts" / kind).glob("v*.json")) == ["v0001.json"], kind
        assert (root / "drafts" / kind / "v0001.json").read_bytes() == data
    r = run_cli("draft", "icp", "-w", str(root), "--offline", "--json")
    assert json.loads(r.stdout)["unchanged"] is True and json.loads(r.stdout)["version"] == "v0001"
