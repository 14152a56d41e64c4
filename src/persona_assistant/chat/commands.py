"""Slash commands: the chat's deterministic half, which works with no model at all.

Each command that does work is a thin call into the same service its CLI command
calls (persona_assistant.services: drafting, scoring, export; the engine for one
asset), shown in the conversation. Unknown commands get a difflib suggestion. `offline_intent` maps plain requests ("write a cold email for Maya")
to a command when no model is configured.
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass
from typing import Any, Callable

from persona_assistant.draft.markdown import asset_markdown, icp_markdown, persona_markdown
from persona_assistant.errors import PersonaError, UsageError


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    help: str
    run: Callable[[Any, list[str]], bool | None]  # (chat, args) -> False to leave


ALIASES = {"quit": "exit", "q": "exit", "?": "help"}


def command(usage: str, help: str) -> Callable[[Callable], Command]:
    """A slash command's usage and help beside its function; listed in COMMANDS (after the last one)."""
    def make(fn: Callable) -> Command:
        return Command(usage.split()[0].lstrip("/"), usage, help, fn)
    return make


def suggest(name: str) -> str | None:
    close = difflib.get_close_matches(name, list(COMMANDS) + list(ALIASES), n=1, cutoff=0.5)
    return ALIASES.get(close[0], close[0]) if close else None


def dispatch(chat, line: str) -> bool:
    """Run one slash command line; False means leave the chat. Errors are shown, never raised."""
    try:
        words = shlex.split(line.strip()[1:])
    except ValueError as exc:
        chat.error(f"{line.split()[0]}: {exc}")
        return True
    if not words:
        chat.error("empty command; /help lists them")
        return True
    name, args = words[0].lower(), words[1:]
    name = ALIASES.get(name, name)
    cmd = COMMANDS.get(name)
    if cmd is None:
        near = suggest(name)
        chat.error(f"unknown command /{name}" + (f"; did you mean /{near}?" if near else "; /help lists them"))
        return True
    try:
        return cmd.run(chat, args) is not False
    except PersonaError as exc:
        chat.error(exc.message)
    return True


def _need(args: list[str], n: int, usage: str) -> None:
    if len(args) < n:
        raise UsageError(f"usage: {usage}")


# --------------------------------------------------------------------------- basics


@command("/help", "list the commands")
def _help(chat, args):
    width = max(len(c.usage) for c in COMMANDS.values())
    lines = [f"{c.usage.ljust(width)}  {c.help}" for c in COMMANDS.values()]
    lines.append("Anything else is a question for the model (with the workspace as context).")
    chat.text("\n".join(lines))


@command("/exit", "leave the chat (Ctrl-D too); the conversation is saved")
def _exit(chat, args):
    return False


@command("/history", "what was said in this conversation, and the edits applied")
def _history(chat, args):
    n = int(args[0]) if args and args[0].isdigit() else 20
    turns = chat.session.turns()[-n:]
    if not turns and not chat.session.edits:
        chat.text("nothing said yet")
        return
    for role, text in turns:
        first = " ".join(text.split())
        chat.text(f"{role:>9}: {first[:160]}{'…' if len(first) > 160 else ''}")
    for e in chat.session.edits:
        undone = f", undone by v{e.undone_by:04d}" if e.undone_by else ""
        chat.text(f"     edit: {e.persona_id} {e.path} -> personas v{e.version:04d}{undone}")


@command("/undo", "revert the last edit applied in this chat (saved as a new version)")
def _undo(chat, args):
    edit, number = chat.session.undo()
    chat.text(f"undid {edit.persona_id} {edit.path}: personas v{number:04d} restores v{edit.before:04d}")


@command("/model NAME", "use another model for the next answers")
def _model(chat, args):
    _need(args, 1, "/model NAME")
    chat.set_model(args[0])


@command("/usage", "tokens used by this conversation (and by the workspace's model log)")
def _usage(chat, args):
    u = chat.session.usage
    chat.text(f"this conversation: {u.get('prompt_tokens', 0)} prompt + {u.get('completion_tokens', 0)} "
              f"completion tokens (model {chat.model_label()})")
    for line in chat.log_totals():
        chat.text(f"workspace log: {line}")


# --------------------------------------------------------------------------- drafts


@command("/icp", "show the current ICP")
def _icp(chat, args):
    icp = chat.ctx.icp()
    if icp is None:
        chat.text("no ICP draft yet: /draft icp")
        return
    chat.markdown(_version_markdown(chat, "icp") or icp_markdown(icp))


@command("/personas", "list the personas of the current draft")
def _personas(chat, args):
    ps = chat.ctx.personas()
    if ps is None or not ps.personas:
        chat.text("no personas draft yet: /draft personas")
        return
    for p in ps.personas:
        chat.text(f"{p.id}: {p.name} - {p.role} ({p.buying_role}, {p.seniority}); "
                  f"{len(p.pains)} pains, {len(p.goals)} goals, {len(p.quotes)} quotes")


@command("/show NAME", "show one persona in full")
def _show(chat, args):
    _need(args, 1, "/show NAME")
    name = " ".join(args)
    p = chat.ctx.find_persona(name)
    if p is None:
        near = difflib.get_close_matches(name, chat.ctx.persona_names(), n=1, cutoff=0.4)
        raise UsageError(f"/show: no persona {name!r}" + (f"; did you mean {near[0]}?" if near else
                                                         "; /personas lists them"))
    chat.markdown(persona_markdown(p))


@command("/draft icp|personas", "draft the ICP or the personas again (a new version)")
def _draft(chat, args):
    _need(args, 1, "/draft icp|personas")
    what = args[0].lower()
    if what not in ("icp", "personas"):
        raise UsageError(f"/draft: expected icp or personas, got {what!r}")
    from persona_assistant.services.drafting import draft

    result = draft(chat.ctx.ws, what, chat.settings, progress=chat.dim)
    for line in result.notes:
        chat.dim(f"note: {line}")
    chat.text(result.summary())


CHANNEL_ALIASES = {"email": "cold_email", "linkedin": "linkedin_post", "ads": "google_rsa", "ad": "google_rsa",
                   "landing": "landing_hero", "call": "call_opener", "objections": "objection_handling",
                   "follow_up": "follow_up_email"}


@command("/message PERSONA CHANNEL [STAGE]", "write copy for a persona on a channel (email, linkedin, "
         "ads, landing, call, or a channel name); stage awareness|consideration|decision")
def _message(chat, args):
    _need(args, 2, "/message PERSONA CHANNEL [STAGE]")
    ws = chat.ctx.ws
    p = chat.ctx.find_persona(args[0])
    if p is None:
        raise UsageError(f"/message: no persona {args[0]!r}; /personas lists them")
    from persona_assistant.messaging.campaign import Context as CopyContext
    from persona_assistant.messaging.campaign import ItemSpec
    from persona_assistant.messaging.channels import lint_config, workspace_channels
    from persona_assistant.messaging.claims import known_text

    channels = workspace_channels(ws)
    name = CHANNEL_ALIASES.get(args[1].lower(), args[1].lower())
    if name not in channels:
        near = difflib.get_close_matches(name, list(channels) + list(CHANNEL_ALIASES), n=1)
        raise UsageError(f"/message: unknown channel {args[1]!r}" + (f"; did you mean {near[0]}?" if near else "")
                         + f" (known: {', '.join(channels)})")
    stage = args[2].lower() if len(args) > 2 else "awareness"
    if stage not in ("awareness", "consideration", "decision"):
        raise UsageError(f"/message: stage {stage!r}: expected awareness, consideration or decision")
    ps, icp, brief = chat.ctx.personas(), chat.ctx.icp(), chat.ctx.brief()
    ctx = CopyContext(personas={x.id: x for x in ps.personas}, brief=brief, channels=channels,
                      config=lint_config(ws.config(), str(ws.config_path)),
                      known=known_text(brief, ps.personas, icp), icp=icp)
    generate = chat.engine.copy_generator(ctx, ws, chat.llm())
    asset = chat.runner.run(generate(ItemSpec(p.id, name, stage, 1)))
    chat.markdown(asset_markdown(asset, p.name))


@command("/score FILE", "score the accounts or leads in a CSV/XLSX file of the workspace")
def _score(chat, args):
    _need(args, 1, "/score FILE")
    from persona_assistant.services.scoring import score

    result = score(chat.ctx.ws, chat.resolve_path(" ".join(args)))
    for line in result.notices:
        chat.dim(line)
    chat.text("\n".join(result.summary_lines()))


@command("/export FORMAT", "export the drafts: md, json, csv or html")
def _export(chat, args):
    _need(args, 1, "/export FORMAT")
    from persona_assistant.services.export import export

    chat.text(f"wrote {export(chat.ctx.ws, args[0]).path}")


# Every slash command, in the order /help lists them.
COMMANDS: dict[str, Command] = {c.name: c for c in (
    _help, _exit, _history, _undo, _model, _usage, _icp, _personas, _show, _draft, _message, _score, _export)}


# --------------------------------------------------------------------------- text of drafts


def _version_markdown(chat, kind: str) -> str | None:
    """The Markdown saved beside the latest version, when drafting wrote one."""
    versions = chat.ctx.ws.versions(kind)
    md = chat.ctx.ws.input_file(versions[-1].path.with_suffix(".md")) if versions else None
    return md.read_text(encoding="utf-8") if md is not None else None


# --------------------------------------------------------------------------- offline intents

_CHANNEL_WORDS = {  # alias (see CHANNEL_ALIASES) -> how people ask for it
    "email": r"e-?mails?|cold email|outreach",
    "linkedin": r"linked ?in",
    "ads": r"\bads?\b|advert",
    "landing": r"landing page",
    "call": r"call script|cold call|call opener",
}
_ASK_COPY = re.compile(r"\b(write|draft|create|make|give|need|compose)\b", re.I)


def offline_intent(text: str, ctx) -> str | None:
    """The slash command a plain request maps to when there is no model; None when none does."""
    low = text.lower()
    names = _persona_mentions(low, ctx)
    if re.search(r"\bundo\b", low):
        return "/undo"
    if re.search(r"\b(draft|generate|create|build|redo|regenerate)\b.*\bpersonas?\b", low):
        return "/draft personas"
    if re.search(r"\b(draft|generate|create|build|redo|regenerate)\b.*\bicp\b", low):
        return "/draft icp"
    if _ASK_COPY.search(low) and names:
        for channel, pattern in _CHANNEL_WORDS.items():
            if re.search(pattern, low):
                return f"/message {names[0]} {channel}"
    m = re.search(r"\bscore\s+(\S+\.(?:csv|xlsx|tsv|txt))\b", text, re.I)
    if m:
        return f"/score {shlex.quote(m.group(1))}"
    m = re.search(r"\bexport\b.*?\b(md|markdown|csv|xlsx|html|json|pdf)\b", low)
    if m:
        return f"/export {m.group(1)}"
    if names and re.search(r"\b(show|who is|tell me about|describe|open)\b", low):
        return f"/show {names[0]}"
    if re.search(r"\b(list|show|what are)\b.*\bpersonas\b", low):
        return "/personas"
    if re.search(r"\b(show|what is|what's)\b.*\bicp\b", low):
        return "/icp"
    return None


def _persona_mentions(low: str, ctx) -> list[str]:
    ps = ctx.personas()
    if ps is None:
        return []
    hits = []
    for p in ps.personas:
        first = p.name.split(",")[0].split()[0].lower() if p.name.strip() else ""
        if p.id.lower() in low or (first and re.search(rf"\b{re.escape(first)}\b", low)):
            hits.append(p.id)
    return hits
