"""The log and cache (llm/store.py) on a hostile disk: a log linked outside the workspace is refused,
a full or read-only disk is one StorageError line naming log.sqlite, nothing half-made stays behind,
and a full disk during a model campaign stops it once. Tests run as root (chmod stops nothing), so
the failures are simulated at the sqlite3 and os layers."""

from __future__ import annotations

import errno
import os
import sqlite3

import httpx
import pytest
import respx

from persona_assistant.errors import InputError, StorageError
from persona_assistant.llm import store as store_module
from persona_assistant.llm.store import LOG_NAME, Store
from persona_assistant.workspace import Workspace
from test_campaign import make_workspace
from test_storage_errors import error_lines, run_main

FULL = "database or disk is full"
READ_ONLY = "attempt to write a readonly database"
NO_SPACE = "no space left on the disk (or the quota is used up): free some space, then run the command again"
RO_ADVICE = "the file system is read-only: copy the workspace to a writable folder, then run the command again"


class FailingConnection:
    """A real sqlite3 connection whose statements starting with `prefix` raise `message`."""

    def __init__(self, real: sqlite3.Connection, prefix: str, message: str):
        self._real, self._prefix, self._message = real, prefix, message

    def _check(self, sql: str) -> None:
        if sql.lstrip().upper().startswith(self._prefix):
            raise sqlite3.OperationalError(self._message)

    def execute(self, sql, *args):
        self._check(sql)
        return self._real.execute(sql, *args)

    def executescript(self, sql):
        self._check(sql)
        return self._real.executescript(sql)

    def __getattr__(self, name):
        return getattr(self._real, name)


def failing_sqlite(monkeypatch, prefix: str, message: str = FULL) -> None:
    real = sqlite3.connect
    monkeypatch.setattr(store_module.sqlite3, "connect",
                        lambda *a, **k: FailingConnection(real(*a, **k), prefix, message))


def state_files(ws: Workspace) -> list[str]:
    folder = ws.root / ".persona-assistant"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------- containment


@pytest.mark.parametrize("linked", [LOG_NAME, f"{LOG_NAME}-wal"])
def test_a_log_linked_outside_the_workspace_is_not_written_through(tmp_path, linked):
    ws = Workspace(tmp_path / "ws")
    (ws.root / ".persona-assistant").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (ws.root / ".persona-assistant" / linked).symlink_to(outside / linked)
    with pytest.raises(InputError, match=f"{linked}: leads to {outside / linked}, outside the workspace"):
        Store.for_workspace(ws)
    with pytest.raises(InputError, match="outside the workspace"):
        Store.existing(ws)
    assert list(outside.iterdir()) == []  # nothing created or written there


def test_the_log_command_refuses_a_log_linked_outside(tmp_path, monkeypatch, capsys):
    outside = tmp_path / "elsewhere.sqlite"
    Store(outside).close()
    before = outside.read_bytes()
    (tmp_path / "ws" / ".persona-assistant").mkdir(parents=True)
    (tmp_path / "ws" / ".persona-assistant" / LOG_NAME).symlink_to(outside)
    code, out, err = run_main(monkeypatch, capsys, "log", "-w", str(tmp_path / "ws"))
    assert code == 1 and out == ""
    (line,) = error_lines(err)
    assert line.startswith(f"error: {tmp_path / 'ws' / '.persona-assistant' / LOG_NAME}: leads to {outside}")
    assert outside.read_bytes() == before


# --------------------------------------------------------------------------- full and read-only disks


@pytest.mark.parametrize("prefix", ["PRAGMA", "CREATE"])
def test_a_full_disk_on_the_first_write_leaves_no_empty_log(tmp_path, monkeypatch, prefix):
    ws = Workspace(tmp_path / "ws")
    failing_sqlite(monkeypatch, prefix)
    with pytest.raises(StorageError) as caught:
        Store.for_workspace(ws)
    assert caught.value.message == f"{ws.root / '.persona-assistant' / LOG_NAME}: {NO_SPACE}"
    assert state_files(ws) == []  # no 0-byte log.sqlite, no -wal/-shm


def test_a_connect_that_fails_leaves_no_empty_log(tmp_path, monkeypatch):
    ws = Workspace(tmp_path / "ws")

    def refuse(*args, **kwargs):
        raise sqlite3.OperationalError(FULL)
    monkeypatch.setattr(store_module.sqlite3, "connect", refuse)
    with pytest.raises(StorageError, match="no space left on the disk"):
        Store.for_workspace(ws)
    assert state_files(ws) == []


def test_an_existing_log_is_kept_when_its_open_fails(tmp_path, monkeypatch):
    ws = Workspace(tmp_path / "ws")
    s = Store.for_workspace(ws)
    s.record(task="t", model="m", endpoint="h", status="ok")
    s.close()
    failing_sqlite(monkeypatch, "PRAGMA")
    with pytest.raises(StorageError):
        Store.for_workspace(ws)
    monkeypatch.undo()
    assert [r["task"] for r in Store.for_workspace(ws).recent()] == ["t"]


def test_a_read_only_workspace_is_one_line_for_a_new_and_an_existing_log(tmp_path, monkeypatch):
    ws = Workspace(tmp_path / "ws")
    (ws.root / ".persona-assistant").mkdir(parents=True)
    real_open = os.open

    def read_only(path, *args, **kwargs):
        if str(path).endswith(LOG_NAME):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(StorageError) as caught:
        Store.for_workspace(ws)
    assert caught.value.message == f"{ws.root / '.persona-assistant' / LOG_NAME}: {RO_ADVICE}"
    assert state_files(ws) == []
    monkeypatch.undo()

    Store.for_workspace(ws).close()  # the log exists; the file system then turns read-only
    failing_sqlite(monkeypatch, "INSERT", READ_ONLY)
    s = Store.for_workspace(ws)
    with pytest.raises(StorageError) as caught:
        s.record(task="t", model="m", endpoint="h", status="ok")
    assert caught.value.message == f"{ws.root / '.persona-assistant' / LOG_NAME}: {RO_ADVICE}"
    with pytest.raises(StorageError, match="no space left"):
        failing_sqlite(monkeypatch, "INSERT OR REPLACE")
        Store.for_workspace(ws).cache_put("k", "v", task="t", model="m")


def test_a_full_disk_during_a_model_campaign_is_one_line_and_stops_it(tmp_path, monkeypatch, capsys):
    ws = make_workspace(tmp_path / "ws")
    monkeypatch.setenv("PERSONA_ASSISTANT_BASE_URL", "http://llm.test/v1")
    failing_sqlite(monkeypatch, "INSERT")  # every logged call fails: the disk filled up
    page = httpx.Response(200, text="<html>busy</html>", headers={"content-type": "text/html"})
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post("http://llm.test/v1/chat/completions").mock(return_value=page)
        code, out, err = run_main(monkeypatch, capsys, "campaign", "-w", str(ws.root), "--channel", "cold_email",
                                  "--variants", "3", "--concurrency", "8")
    assert code == 1 and out == ""
    assert error_lines(err) == [f"error: {ws.root / '.persona-assistant' / LOG_NAME}: {NO_SPACE}"]
    assert "failed" not in err and "OperationalError" not in err
    assert 1 <= route.call_count <= 8 < 18  # stopped at once: at most the first concurrent batch was asked
    assert ws.versions("campaign") == []


def test_a_full_disk_while_drafting_or_chatting_with_a_model_is_the_storage_line(tmp_path, monkeypatch, capsys):
    import io

    from chat_helpers import BASE_URL, make_workspace as chat_workspace, settings, sse_response, text_stream
    from persona_assistant.chat.repl import Chat

    ws = chat_workspace(tmp_path / "ws")
    log = ws.root / ".persona-assistant" / LOG_NAME
    failing_sqlite(monkeypatch, "INSERT")
    monkeypatch.setenv("PERSONA_ASSISTANT_BASE_URL", BASE_URL)
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as mock:
        mock.post("/chat/completions").mock(return_value=sse_response(text_stream("Fine.")))
        code, out, err = run_main(monkeypatch, capsys, "draft", "personas", "-w", str(ws.root))
        assert code == 1 and out == "" and error_lines(err) == [f"error: {log}: {NO_SPACE}"]
        assert [v.number for v in ws.versions("personas")] == [1]

        shown = io.StringIO()
        chat = Chat(ws, settings(), out=shown, stdin=io.StringIO("first?\n"), terminal=False)
        assert chat.run() == 1  # piped: the question got no complete answer
    assert [ln for ln in shown.getvalue().splitlines() if ln.startswith("error:")] == [f"error: {log}: {NO_SPACE}"]
