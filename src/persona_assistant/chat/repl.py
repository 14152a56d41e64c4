"""The chat loop: read a line, run a slash command or ask the model, show the answer.

Input: prompt_toolkit (line editing, history in the workspace, a status toolbar)
when stdin is a terminal; plain `readline()` when it is piped, so a session can be
scripted one line a turn, with no prompts and no colours.

A model turn streams: text deltas are rendered as they arrive, tool calls are run
(workspace lookups and edit proposals, see chat/tools.py) and their results sent
back, at most MAX_TOOL_ROUNDS times. Ctrl-C (SIGINT, or KeyboardInterrupt inside
the stream) stops the answer, keeps what was said and returns to the prompt;
Ctrl-D or /exit leaves. Every turn is saved (chat/session.py).

A model fault (an endpoint error, a body that is not an event stream, a stream that
ends without a finish reason) is not an answer: what streamed is closed with a note,
the error is one line, and nothing of the failed reply is saved; when no reply of the
turn was complete, the question is not saved either (the turn never happened).

Exit status: the chat always goes on to the next line, at a terminal and piped alike. At a
terminal it exits 0 (the person saw every error). Piped, it is a script, and a script must
know that an answer is missing: the exit status is 1 when any question of it got no complete
answer (a model fault, shown as one error line), else 0. A mistyped slash command is shown
and does not change the status (it asked the model nothing).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import IO, Any, AsyncIterator, Callable

from persona_assistant.chat import commands
from persona_assistant.chat.render import (
    MarkdownRenderer, PlainRenderer, make_console, show_diff, show_markdown, show_text,
)
from persona_assistant.chat.session import Session, chat_dir, conversation_path, history_path
from persona_assistant.chat.tools import TOOLS, Context, Edit, run_tool
from persona_assistant.errors import ModelError
from persona_assistant.llm.faults import INTERRUPTED, SecretMask, StreamInterrupted
from persona_assistant.llm.settings import DEFAULT_PROMPT_BUDGET_TOKENS
from persona_assistant.prompts import CHARS_PER_TOKEN
from persona_assistant.safe_text import clean
from persona_assistant.workspace import Workspace

MAX_TOOL_ROUNDS = 5
OFFLINE_HINT = ("no model configured: set OPENAI_API_KEY (or `persona-assistant keys set`), or base_url "
                "under [llm] in persona-assistant.toml, or pass --base-url; slash commands work offline (/help)")


# --------------------------------------------------------------------------- the model stream


def stream_events(llm: Any, messages: list[dict], tools: list[dict] | None) -> AsyncIterator[tuple[str, Any]]:
    """The one place that knows the streaming API (llm.client.LLM.stream_chat): an async iterator of
    ("text", delta), ("tool_call", {"id", "name", "arguments"}) and ("usage", {...}) events."""
    return llm.stream_chat(messages, tools=tools, task="chat")


# --------------------------------------------------------------------------- input


class PlainInput:
    """Piped input: one line a turn, no prompt shown."""

    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream or sys.stdin

    def read(self, prompt: str = "") -> str | None:
        line = self.stream.readline()
        return None if line == "" else line.rstrip("\r\n")


class TerminalInput:
    """prompt_toolkit line editing with history kept in the workspace and a status toolbar."""

    def __init__(self, history_file: Path, toolbar: Callable[[], str], runner: asyncio.Runner):
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory

        history_file.parent.mkdir(parents=True, exist_ok=True)
        self.session = PromptSession(history=FileHistory(str(history_file)))
        self.toolbar = toolbar
        self.runner = runner

    def read(self, prompt: str = "> ") -> str | None:
        try:
            return self.runner.run(self.session.prompt_async(prompt, bottom_toolbar=lambda: clean(self.toolbar())))
        except EOFError:
            return None


# --------------------------------------------------------------------------- the chat


class Chat:
    """One chat session over a workspace. The engine (engine.engine_for: offline or model) decides
    whether free text goes to a model and gives the model client."""

    def __init__(self, ws: Workspace, settings: Any, *, resume: bool = False, out: IO[str] | None = None,
                 stdin: IO[str] | None = None, terminal: bool | None = None, model_given: bool = False):
        from persona_assistant.engine import engine_for

        self.ws = ws
        self.settings = settings
        self.engine = engine_for(settings)
        self.ctx = Context(ws)
        self.session = Session.open(ws, resume=resume)
        stdin = stdin or sys.stdin
        out = out or sys.stdout
        self.terminal = (stdin.isatty() and out.isatty()) if terminal is None else terminal
        self.console = make_console(out, terminal=self.terminal)
        self.out = out
        self.runner = asyncio.Runner()
        self._llm = None
        self.failed = False  # a question got no complete answer (the exit status of a piped chat)
        if self.session.model and not model_given:  # --resume keeps /model unless --model
            self.set_model(self.session.model, quiet=True, required=False)
        self.input = (TerminalInput(history_path(ws), self.status, self.runner) if self.terminal
                      else PlainInput(stdin))

    # ------------------------------------------------------------------ output helpers used by commands
    def text(self, message: str) -> None:
        show_text(self.console, message)

    def markdown(self, text: str) -> None:
        show_markdown(self.console, text)

    def error(self, message: str) -> None:
        secret = getattr(self.settings, "api_key", None)  # the LLM masks its own errors; this covers any other
        message = SecretMask(secret.get_secret_value() if secret is not None else None)(message)
        show_text(self.console, f"error: {clean(message, keep_newlines=False)}", style="red")

    def dim(self, message: str) -> None:
        show_text(self.console, message, style="dim")

    # ------------------------------------------------------------------ model
    def model_label(self) -> str:
        return self.engine.label or "?"

    def status(self) -> str:
        u = self.session.usage
        if u.get("unknown_answers") and not (u.get("prompt_tokens") or u.get("completion_tokens")):
            tokens = "tokens unknown"  # the server sends no counts: never shown as 0
        else:
            more = f" (+{u['unknown_answers']} answers uncounted)" if u.get("unknown_answers") else ""
            tokens = f"tokens {u.get('prompt_tokens', 0)} in, {u.get('completion_tokens', 0)} out{more}"
        return f"{self.model_label()} | {tokens} | /help"

    def set_model(self, name: str, *, quiet: bool = False, required: bool = True) -> None:
        """Use model `name` from the next answer on; with no endpoint a UsageError (when `required`)."""
        engine = self.engine.with_model(name)
        if engine is None:
            if not required:
                return
            from persona_assistant.errors import UsageError

            raise UsageError(f"/model: no endpoint configured, so no model to switch to; {OFFLINE_HINT}")
        self.engine, self.settings = engine, engine.settings
        self._close_llm()
        self.session.model = name
        if not quiet:
            self.text(f"model: {name}")

    def _close_llm(self) -> None:
        llm, self._llm = self._llm, None
        if llm is not None and hasattr(llm, "aclose"):
            try:
                self.runner.run(llm.aclose())
            except Exception:  # closing a pool must not end the session
                pass

    def llm(self) -> Any:
        """The engine's model client for this chat (logs each call in the workspace log, redacts)."""
        if self._llm is None:
            self._llm = self.engine.client(self.ws)
        return self._llm

    def log_totals(self) -> list[str]:
        """Token totals per model and task from the workspace's model log (all commands)."""
        from persona_assistant.llm.store import Store

        store = Store.existing(self.ws)
        if store is None:
            return []
        try:
            rows = store.usage()
        finally:
            store.close()
        known = (lambda n: "unknown" if n is None else n)  # noqa: E731
        return [f"{r['model']} {r['task']}: {r['calls']} calls, {known(r['prompt_tokens'])} prompt + "
                f"{known(r['completion_tokens'])} completion tokens, cost "
                + ("unknown" if r["cost"] is None else f"${r['cost']:.4f}") for r in rows]

    def resolve_path(self, name: str) -> Path:
        """A file named in a command: relative to the workspace, and never outside it."""
        from persona_assistant.errors import UsageError

        path = (self.ws.root / name).resolve()
        if not path.is_relative_to(self.ws.root):
            raise UsageError(f"{name}: outside the workspace {self.ws.root}")
        if not path.is_file():
            raise UsageError(f"{name}: no such file in the workspace")
        return path

    # ------------------------------------------------------------------ edits
    def confirm(self, edit: Edit) -> bool:
        self.text(f"proposed edit of {edit.persona_id} {edit.path}" + (f": {edit.reason}" if edit.reason else ""))
        show_diff(self.console, edit.diff)
        answer = self.input.read("apply this edit? [y/N] ") if self.terminal else self.input.read()
        return (answer or "").strip().lower() in ("y", "yes")

    def apply(self, edit: Edit) -> int:
        from persona_assistant.errors import WorkspaceBusy

        try:
            applied = self.session.apply(edit.persona_set, edit.persona_id, edit.path)
        except WorkspaceBusy as exc:  # the user sees the lock's line; the model gets it as the tool's error
            self.error(exc.message)
            raise
        self.text(f"applied: personas v{applied.version:04d} (/undo reverts it)")
        return applied.version

    # ------------------------------------------------------------------ the loop
    def run(self) -> int:
        if self.terminal:
            self.dim(f"persona-assistant chat in {self.ws.root} ({self.model_label()}); /help, Ctrl-D to leave")
            if self.session.messages:
                self.dim(f"resumed: {len(self.session.turns())} messages")
        try:
            while True:
                try:
                    line = self.input.read("> ")
                except KeyboardInterrupt:
                    continue
                if line is None:
                    break
                if not self.handle(line):
                    break
        finally:
            self.session.save()
            self._close_llm()
            self.runner.close()
        return 1 if self.failed and not self.terminal else 0  # see "Exit status" above

    def handle(self, line: str) -> bool:
        """One input line; False means leave."""
        line = line.strip()
        if not line:
            return True
        if line.startswith("/"):
            keep = commands.dispatch(self, line)
            self.session.save()
            return keep
        if not self.engine.converses:
            mapped = commands.offline_intent(line, self.ctx)
            if mapped is None:
                self.answer_offline(line)
                return True
            self.dim(f"(offline) {mapped}")
            return commands.dispatch(self, mapped)
        self.ask(line)
        return True

    def answer_offline(self, text: str) -> None:
        """No model: the workspace's evidence (chat/retrieve.py), saved marked as retrieved, not a model's."""
        from persona_assistant.chat import retrieve

        answer = retrieve.retrieve(self.ctx, text)
        self.text(shown := retrieve.render(answer))
        if answer.empty:
            self.dim(OFFLINE_HINT)
        self.session.add({"role": "user", "content": text})
        self.session.add({"role": "assistant", "content": f"{retrieve.SAVED_MARK}\n{shown}", "retrieved": True})
        self.session.save()

    def ask(self, text: str) -> None:
        """One model turn, run to completion or until interrupted; the session always survives."""
        try:
            self.runner.run(self.answer(text))
        except KeyboardInterrupt:
            self.dim("[interrupted]")
        except Exception as exc:  # a failing endpoint ends the turn, not the session
            from persona_assistant.errors import PersonaError

            self.failed = True
            self.error(exc.message if isinstance(exc, PersonaError) else f"model call failed: {type(exc).__name__}: {exc}")
        finally:
            self.session.save()

    async def answer(self, text: str) -> None:
        start = len(self.session.messages)
        self.session.add({"role": "user", "content": text})
        for _ in range(MAX_TOOL_ROUNDS + 1):
            try:
                calls = await self._one_round()
            except ModelError:
                if len(self.session.messages) == start + 1:  # nothing of the turn was answered
                    self.session.truncate(start)
                raise
            if calls is None or not calls:
                return
            for call in calls:
                self.dim(f"[tool] {call['name']} {clean(call['arguments'], keep_newlines=False)[:120]}")
                result = run_tool(self.ctx, call["name"], call["arguments"], confirm=self.confirm, apply=self.apply)
                self.session.add({"role": "tool", "tool_call_id": call["id"], "content": result})
        self.dim(f"stopped after {MAX_TOOL_ROUNDS} rounds of tool calls")

    async def _one_round(self) -> list[dict] | None:
        """Stream one model reply. Returns its tool calls, or None when interrupted."""
        renderer = MarkdownRenderer(self.console) if self.terminal else PlainRenderer(self.out)
        renderer.start()
        parts: list[str] = []
        calls: list[dict] = []
        interrupted = False
        fault: ModelError | None = None
        events = stream_events(self.llm(), self.messages(), TOOLS)
        try:
            async for kind, value in events:
                if kind == "text":
                    parts.append(value)
                    renderer.feed(value)
                elif kind == "cut":  # stopped at the output limit: said so, visibly
                    parts.append(f"\n{value}")
                    renderer.feed(f"\n{value}")
                elif kind == "tool_call":
                    calls.append(value)
                elif kind == "usage":
                    self.session.add_usage(value)
        except (KeyboardInterrupt, asyncio.CancelledError):
            interrupted = True
        except ModelError as exc:  # no complete answer: shown as such, never saved
            fault = exc
        finally:
            cut_off = isinstance(fault, StreamInterrupted)
            renderer.end(interrupted=interrupted or cut_off, note=f"({INTERRUPTED})" if cut_off else None)
            try:
                await events.aclose()
            except (Exception, KeyboardInterrupt, asyncio.CancelledError):
                pass
        if fault is not None:
            raise fault
        message: dict[str, Any] = {"role": "assistant", "content": "".join(parts), "model": self.model_label()}
        if interrupted:
            message["interrupted"] = True
            calls = []
        if calls:
            message["tool_calls"] = [{"id": c["id"], "type": "function",
                                      "function": {"name": c["name"], "arguments": c["arguments"] or "{}"}}
                                     for c in calls]
        if message["content"] or calls:
            self.session.add(message)
        if self.terminal and not interrupted:
            self.dim(self.status())
        return None if interrupted else calls

    # ------------------------------------------------------------------ prompt
    def messages(self) -> list[dict]:
        """System prompt (workspace context) plus as much recent conversation as fits the budget."""
        from persona_assistant.chat.tools import system_prompt

        budget = int(getattr(self.settings, "prompt_budget_tokens", None) or DEFAULT_PROMPT_BUDGET_TOKENS)
        system = system_prompt(self.ctx, budget_tokens=budget // 2)
        history = [_for_model(m) for m in self.session.messages]
        room = budget * CHARS_PER_TOKEN - len(system)
        kept: list[dict] = []
        used = 0
        for m in reversed(history):
            size = len(json.dumps(m, ensure_ascii=False))
            if kept and used + size > room:
                break
            kept.append(m)
            used += size
        kept.reverse()
        while len(kept) > 1 and kept[0]["role"] != "user":  # never start with an orphaned tool result
            kept.pop(0)
        return [{"role": "system", "content": system}, *kept]


def _for_model(message: dict) -> dict:
    return {k: v for k, v in message.items() if k in ("role", "content", "tool_calls", "tool_call_id")}


def run_chat(ws: Workspace, settings: Any, *, resume: bool = False, model_given: bool = False) -> int:
    """Entry point for `persona-assistant chat`."""
    ws.make_dir(chat_dir(ws))  # refused when it (or the history file) leads outside the workspace
    ws.checked(history_path(ws))
    ws.checked(conversation_path(ws))  # saved every turn: a link leading outside is refused up front
    return Chat(ws, settings, resume=resume, model_given=model_given).run()

