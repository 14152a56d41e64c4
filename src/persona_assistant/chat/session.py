"""The chat's memory: the conversation, the edits applied in it, and undo.

Saved as `<workspace>/.persona-assistant/chat/conversation.json` (atomic writes),
so `chat --resume` continues where the last session stopped and a crash loses at
most the turn in progress.

Edits never rewrite a draft: applying one saves a NEW version of the personas
(`ws.save_version`). `/undo` also saves a new version, holding the content of the
version before the edit, so every state stays on disk and `draft diff` can show
it. Both hold the workspace's writer lock while they read the latest version and save the next
(workspace_lock: a running draft or campaign makes them refuse with its one line). Undo refuses when the personas changed after the edit (e.g. a new `draft`),
because restoring would silently throw that work away.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from persona_assistant.errors import InputError, UsageError
from persona_assistant.workspace import Workspace
from persona_assistant.workspace_lock import writer_lock

FORMAT = 1
KIND = "personas"  # the draft kind chat edits touch
RETRY = "then ask again"  # the end of the lock's refusal in chat (there is no --wait to offer)


def chat_dir(ws: Workspace) -> Path:
    return ws.state_dir / "chat"


def conversation_path(ws: Workspace) -> Path:
    return chat_dir(ws) / "conversation.json"


def history_path(ws: Workspace) -> Path:
    """prompt_toolkit's line history (what the user typed, across sessions)."""
    return chat_dir(ws) / "input-history"


@dataclass
class AppliedEdit:
    persona_id: str
    path: str
    before: int | None  # personas version the edit started from
    version: int  # version the edit created
    at: str = ""
    undone_by: int | None = None  # version /undo created


@dataclass
class Session:
    """One conversation. `messages` are OpenAI chat messages without the system prompt,
    which is rebuilt from the workspace every turn."""

    ws: Workspace
    messages: list[dict[str, Any]] = field(default_factory=list)
    edits: list[AppliedEdit] = field(default_factory=list)
    model: str | None = None
    usage: dict[str, int] = field(default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0})
    started: str = ""

    # ------------------------------------------------------------------ persistence
    @classmethod
    def open(cls, ws: Workspace, *, resume: bool) -> "Session":
        """A fresh session, or with `resume` the saved one (fresh when none is saved)."""
        path = ws.input_file(conversation_path(ws)) if resume else None
        if path is None:
            return cls(ws, started=_now())
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not a saved conversation ({exc}); move it away to start afresh") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("messages"), list):
            raise InputError(f"{path}: not a saved conversation (format {FORMAT} expected)")
        try:
            edits = [AppliedEdit(**e) for e in data.get("edits", [])]
        except TypeError as exc:
            raise InputError(f"{path}: field edits: {exc}") from None
        usage = {"prompt_tokens": 0, "completion_tokens": 0, **(data.get("usage") or {})}
        return cls(ws, messages=data["messages"], edits=edits, model=data.get("model"),
                   usage=usage, started=data.get("started") or _now())

    def save(self) -> Path:
        path = conversation_path(self.ws)
        data = {"format": FORMAT, "started": self.started, "saved": _now(), "model": self.model,
                "usage": self.usage, "edits": [asdict(e) for e in self.edits], "messages": self.messages}
        self.ws.write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return path

    # ------------------------------------------------------------------ conversation
    def add(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    def truncate(self, length: int) -> None:
        """Forget the messages after the first `length` (a turn that got no answer)."""
        del self.messages[length:]

    def add_usage(self, usage: dict[str, int | None] | None) -> None:
        """Add one answer's token counts; an answer without counts is counted in `unknown_answers`."""
        if not usage or usage.get("prompt_tokens") is None:
            self.usage["unknown_answers"] = self.usage.get("unknown_answers", 0) + 1
            return
        for key in ("prompt_tokens", "completion_tokens"):
            self.usage[key] = self.usage.get(key, 0) + int(usage.get(key) or 0)

    def turns(self) -> list[tuple[str, str]]:
        """(role, text) of what was said, without tool traffic: for /history."""
        return [(m["role"], m.get("content") or "") for m in self.messages
                if m.get("role") in ("user", "assistant") and m.get("content")]

    # ------------------------------------------------------------------ edits and undo
    def apply(self, persona_set, persona_id: str, path: str, markdown: str | None = None) -> AppliedEdit:
        """Save `persona_set` (already validated) as a new version and remember it for undo."""
        with writer_lock(self.ws, "chat edit", retry=RETRY):
            versions = self.ws.versions(KIND)
            before = versions[-1].number if versions else None
            version = self.ws.save_version(KIND, persona_set, markdown)
        edit = AppliedEdit(persona_id, path, before, version.number, at=_now())
        self.edits.append(edit)
        self.save()
        return edit

    def undo(self) -> tuple[AppliedEdit, int]:
        """Restore the personas from before the last applied edit, as a new version.

        Returns (the edit, the new version number). UsageError when there is nothing to
        undo or the personas changed since the edit."""
        pending = [e for e in self.edits if e.undone_by is None]
        if not pending:
            raise UsageError("/undo: no edit of this conversation to undo")
        with writer_lock(self.ws, "chat /undo", retry=RETRY):
            number = self._restore(pending[-1])
        self.save()
        return pending[-1], number

    def _restore(self, edit: AppliedEdit) -> int:
        from persona_assistant.schemas import PersonaSet

        versions = self.ws.versions(KIND)
        latest = versions[-1].number if versions else None
        if latest != edit.version:
            raise UsageError(f"/undo: personas changed since that edit (now v{latest:04d}, the edit made "
                             f"v{edit.version:04d}); restore an older version with `draft` instead")
        if edit.before is None:
            raise UsageError("/undo: the edit created the first version; nothing older to restore")
        old = self.ws.load_version(KIND, PersonaSet, edit.before)
        version = self.ws.save_version(KIND, old, _markdown_of(self.ws, edit.before))
        edit.undone_by = version.number
        return version.number


def _markdown_of(ws: Workspace, number: int) -> str | None:
    md = ws.input_file(ws.drafts_dir / KIND / f"v{number:04d}.md")
    return md.read_text(encoding="utf-8") if md is not None else None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
