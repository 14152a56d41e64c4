"""The request log and the answer cache: one SQLite file in the workspace state dir.

Why SQLite: concurrent campaign items append rows safely (WAL, busy timeout), `log` and
`usage` are plain queries, and a crash never leaves a half-written file (SQLite's own
journal gives the atomicity that workspace.atomic_write gives other files).

What is stored: time, task, model, endpoint HOST (never a path, query or key), token counts,
latency, estimated cost, cache key, status with a one-line error, mode and attempts, and how
many distinct personal values the request carried as placeholders (`redacted`; NULL when
redaction was off or nothing was sent). The cache holds only answers that passed validation
and every code check.

Migrations: a log written by an older version lacks newer columns; opening it adds them
(ALTER TABLE ... ADD COLUMN, old rows NULL), so `log` and `usage` keep working on it.

Storage: a workspace's log lives in `ws.state_dir` and goes through the workspace's containment
check (`Workspace.checked`, also for SQLite's `-wal`/`-shm`/`-journal` files beside it), so a
link leading outside is refused, not written through. Every sqlite3 error is a StorageError naming
the file (a full disk during a campaign then stops the run with one line, like any failing write);
when the file was created by this open and the open fails, it is removed again (no 0-byte log).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from persona_assistant.errors import StorageError
from persona_assistant.workspace import make_dirs

LOG_NAME = "log.sqlite"
SIDECARS = ("-wal", "-shm", "-journal")  # the files SQLite keeps beside the database


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    known: bool = True  # False once an answer came without token counts: the totals are then unknown

    def add(self, usage: Any) -> None:
        if usage is None or getattr(usage, "prompt_tokens", None) is None:
            self.known = False
            return
        self.prompt_tokens += getattr(usage, "prompt_tokens", 0) or 0
        self.completion_tokens += getattr(usage, "completion_tokens", 0) or 0

    def as_dict(self) -> dict[str, int | None]:
        """Token counts for callers: None (unknown), never 0, when a server sent none."""
        if not self.known:
            return {"prompt_tokens": None, "completion_tokens": None}
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    task TEXT NOT NULL,
    model TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    latency_ms INTEGER NOT NULL DEFAULT 0,
    cost REAL,
    cache_key TEXT,
    cached INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    error TEXT,
    mode TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    prompt_version TEXT,
    redacted INTEGER
);
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY,
    time REAL NOT NULL,
    task TEXT NOT NULL,
    model TEXT NOT NULL,
    value TEXT NOT NULL
);
"""

CALL_FIELDS = ("time", "task", "model", "endpoint", "prompt_tokens", "completion_tokens", "latency_ms",
               "cost", "cache_key", "cached", "status", "error", "mode", "attempts", "prompt_version", "redacted",
               "tokens_known", "requests")
# Columns added after the first release: (name, SQL type), added to an older log on open.
# tokens_known: 0 when the server sent no token counts (the counts then read as unknown, never 0);
# requests: HTTP requests the call made (re-asks, format fallbacks and the SDK's retries included).
_ADDED_COLUMNS = (("redacted", "INTEGER"), ("tokens_known", "INTEGER"), ("requests", "INTEGER"))


def cache_key(**parts: Any) -> str:
    """sha256 of the parts as canonical JSON: model, endpoint, template name+version, schema,
    rendered messages, parameters. Any difference in any of them is a different key."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# SQLite's result codes (and, for errors built without one, its message) as the errno whose advice
# fits (errors.os_error_advice is the one place that words the advice).
_SQLITE_ERRNO = (("SQLITE_FULL", "disk is full", errno.ENOSPC), ("SQLITE_READONLY", "readonly database", errno.EROFS),
                 ("SQLITE_PERM", "access permission denied", errno.EACCES),
                 ("SQLITE_CANTOPEN", "unable to open database file", errno.EACCES),
                 ("SQLITE_IOERR", "disk i/o error", errno.EIO))


def storage_error(path: Path | str, exc: sqlite3.Error) -> StorageError:
    """The StorageError for a failing SQLite call on `path`: one line naming it and what to do."""
    name = getattr(exc, "sqlite_errorname", None) or ""
    text = str(exc).lower()
    for code_name, words, code in _SQLITE_ERRNO:
        if name.startswith(code_name) or words in text:
            return StorageError(path, OSError(code, os.strerror(code)))
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in text:
        return StorageError(path, OSError(None, "not a SQLite database: move it away (the log and cache then "
                                                "start afresh), then run the command again"))
    return StorageError(path, OSError(None, f"SQLite failed: {str(exc) or type(exc).__name__}"))


def _create(path: Path) -> bool:
    """Create the database file when absent (True); here rather than in SQLite so that a read-only
    or full disk is a plain OSError with its errno (SQLite only says "unable to open")."""
    if path.exists():
        return False
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644))
    except FileExistsError:  # another process made it just now
        return False
    except OSError as exc:
        raise StorageError(path, exc) from None
    return True


class Store:
    """Log and cache; `Store(None)` keeps both in memory (no workspace)."""

    def __init__(self, path: Path | None):
        self.path = path
        self._lock = threading.Lock()
        if path is not None:
            make_dirs(path.parent)
        created = path is not None and _create(path)
        try:
            with self._guard():
                self._db = sqlite3.connect(str(path) if path else ":memory:", timeout=30,
                                           check_same_thread=False, isolation_level=None)
                try:
                    if path is not None:
                        self._db.execute("PRAGMA journal_mode=WAL")
                    self._db.executescript(_SCHEMA)
                    self._migrate()
                except BaseException:
                    self._db.close()
                    raise
        except BaseException:
            if created:  # nothing half-made stays behind: no 0-byte log.sqlite
                for leftover in (path, *(Path(f"{path}{s}") for s in SIDECARS)):
                    with contextlib.suppress(OSError):
                        leftover.unlink()
            raise

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """sqlite3 errors as StorageError naming the log file."""
        try:
            yield
        except sqlite3.Error as exc:
            raise storage_error(self.path or ":memory:", exc) from None

    def _migrate(self) -> None:
        have = {row[1] for row in self._db.execute("PRAGMA table_info(calls)")}
        for name, sql_type in _ADDED_COLUMNS:
            if name not in have:
                with self._lock:
                    self._db.execute(f"ALTER TABLE calls ADD COLUMN {name} {sql_type}")

    @staticmethod
    def _path(ws) -> Path:
        """The workspace's log file, refused (InputError) when it or a file SQLite keeps beside it
        leads outside the workspace."""
        path = ws.checked(ws.state_dir / LOG_NAME)
        for suffix in SIDECARS:
            ws.checked(Path(f"{path}{suffix}"))
        return path

    @classmethod
    def for_workspace(cls, ws) -> "Store":
        return cls(cls._path(ws) if ws is not None else None)

    @classmethod
    def existing(cls, ws) -> "Store | None":
        """The workspace's store if one was ever written (read commands do not create it)."""
        path = cls._path(ws)
        return cls(path) if path.is_file() else None

    def close(self) -> None:
        self._db.close()

    # ------------------------------------------------------------------ log
    def record(self, **row: Any) -> None:
        unknown = set(row) - set(CALL_FIELDS)
        if unknown:
            raise TypeError(f"unknown log fields: {sorted(unknown)}")
        row.setdefault("time", time.time())
        cols = ", ".join(row)
        with self._lock, self._guard():
            self._db.execute(f"INSERT INTO calls ({cols}) VALUES ({', '.join('?' * len(row))})",
                             tuple(row.values()))

    def recent(self, n: int = 20) -> list[dict[str, Any]]:
        """The last `n` calls, newest first."""
        rows = self._rows(f"SELECT id, {', '.join(CALL_FIELDS)} FROM calls ORDER BY id DESC LIMIT ?", (n,))
        for row in rows:
            if row["tokens_known"] == 0:  # the server sent no counts: unknown, never 0
                row["prompt_tokens"] = row["completion_tokens"] = None
        return rows

    def usage(self) -> list[dict[str, Any]]:
        """Totals per model and task. Tokens are None when any call of the group had no counts from
        its server; cost is None when any call that reached the model had no price or no counts."""
        return self._rows(
            "SELECT model, task, COUNT(*) AS calls, SUM(cached) AS cached, "
            "SUM(status != 'ok') AS errors, "
            "CASE WHEN SUM(tokens_known = 0) > 0 THEN NULL ELSE SUM(prompt_tokens) END AS prompt_tokens, "
            "CASE WHEN SUM(tokens_known = 0) > 0 THEN NULL ELSE SUM(completion_tokens) END AS completion_tokens, "
            "CASE WHEN SUM(cached = 0 AND (cost IS NULL AND (prompt_tokens + completion_tokens > 0 "
            "OR tokens_known = 0 OR requests > 0) OR tokens_known = 0)) > 0 "
            "THEN NULL ELSE COALESCE(SUM(cost), 0) END AS cost, "
            "SUM(requests) AS requests "
            "FROM calls GROUP BY model, task ORDER BY model, task")

    def _rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        with self._guard():
            cur = self._db.execute(sql, params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

    # ------------------------------------------------------------------ cache
    def cache_get(self, key: str) -> str | None:
        with self._guard():
            row = self._db.execute("SELECT value FROM cache WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def cache_put(self, key: str, value: str, *, task: str, model: str) -> None:
        with self._lock, self._guard():
            self._db.execute("INSERT OR REPLACE INTO cache (key, time, task, model, value) VALUES (?,?,?,?,?)",
                             (key, time.time(), task, model, value))
