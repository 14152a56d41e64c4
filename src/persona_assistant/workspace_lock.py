"""One writer per workspace: every run that saves a version holds a lock while it runs (`draft icp`,
`draft personas`, `campaign`, `analyze` of the workspace's own data) or while it saves (a chat
edit or /undo).

Why: two campaigns on one workspace would each ask the model for every missing item (paid
twice) and save two versions; two drafts would race for the same version number.

How: `<state>/lock` is locked with flock(2) (an exclusive, non-blocking lock on the open file,
released by the kernel when the holder exits, however it exits). A state folder created only for the
lock is removed again when the run leaves it empty (bad arguments write nothing). The file holds the holder's
pid, command and start time, so a refused run can name it:

    error: ws/.persona-assistant/lock: the workspace is in use by `campaign` (pid 4242, started
    2026-12-02 01:40:00 UTC); wait for it to finish, or run again with --wait

With `--wait` the run waits (polling every 0.2 s, one notice saying for whom) and then goes on;
a waiting campaign then finds every item on disk and requests none. A lock left behind by a
process that died (kill -9, power loss) is not held by anyone: it is taken over, with a notice
naming the dead pid. The holder removes the file when it finishes; a waiter that locked a file
already removed (inode no longer at the path) opens the path again, so two writers never hold
two different files. Locks are per open file, so two threads of one process exclude each other
too (the concurrency tests rely on it). Where flock is not supported by the file system, the run
goes on unlocked with a notice.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any, TypeVar

from persona_assistant.errors import StorageError, WorkspaceBusy
from persona_assistant.workspace import Workspace, make_dirs, open_workspace

LOCK_NAME = "lock"
POLL_SECONDS = 0.2

F = TypeVar("F", bound=Callable[..., Any])


def _holder_text(command: str) -> str:
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return json.dumps({"pid": os.getpid(), "command": command, "started": started}) + "\n"


def _read_holder(fd: int) -> dict[str, Any] | None:
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "null")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("pid"), int) else None


def _describe(holder: dict[str, Any] | None) -> str:
    if holder is None:
        return "another run"
    return f"`{holder.get('command', '?')}` (pid {holder['pid']}, started {holder.get('started', '?')})"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _same_file(fd: int, path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def writer_lock(ws: Workspace, command: str, *, wait: bool = False,
                retry: str = "or run again with --wait") -> Iterator[None]:
    """Hold the workspace's writer lock for the block; WorkspaceBusy (one line naming the holder,
    ending "wait for it to finish, " + `retry`) when another run holds it, unless `wait`. Notices go
    to `ws.notify`."""
    import fcntl

    path = ws.state_dir / LOCK_NAME
    created = not path.parent.exists()  # removed again afterwards if the run left it empty
    told = False
    while True:
        make_dirs(path.parent, within=ws.root)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except FileNotFoundError:  # a finishing holder just removed the folder it had created
            continue
        except OSError as exc:
            raise StorageError(path, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            if not wait:
                raise WorkspaceBusy(f"{path}: the workspace is in use by {_describe(holder)}; wait for it to "
                                    f"finish, {retry}") from None
            if not told:
                ws.notify(f"waiting for {_describe(holder)} to finish with {ws.root} ...")
                told = True
            time.sleep(POLL_SECONDS)
            continue
        except OSError as exc:
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                os.close(fd)
                raise StorageError(path, exc) from None
            ws.notify(f"{path}: this file system cannot lock files; two runs at once are not prevented")
        if not _same_file(fd, path):  # the holder removed it between our open and our lock
            os.close(fd)
            continue
        break
    try:
        previous = _read_holder(fd)
        if previous is not None and previous["pid"] != os.getpid() and not _alive(previous["pid"]):
            ws.notify(f"took over the lock left by {_describe(previous)}, which is no longer running")
        os.ftruncate(fd, 0)
        os.pwrite(fd, _holder_text(command).encode("utf-8"), 0)
    except OSError as exc:
        os.close(fd)
        raise StorageError(path, exc) from None
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)
        if created:
            with contextlib.suppress(OSError):
                path.parent.rmdir()


def one_writer(command: str) -> Callable[[F], F]:
    """Decorator for a whole run `fn(ws, ...)`: opens `ws` when given as a path, holds the writer
    lock for the call and accepts `wait=` (wait for the holder instead of refusing)."""
    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def run(ws, *args, wait: bool = False, **kwargs):
            if not isinstance(ws, Workspace):
                ws = open_workspace(ws)
            with writer_lock(ws, command, wait=wait):
                return fn(ws, *args, **kwargs)
        return run  # type: ignore[return-value]
    return decorate
