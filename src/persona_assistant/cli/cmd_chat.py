"""`chat`: a terminal conversation over a workspace (see chat/repl.py)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from persona_assistant.cli.common import MaxTokensOpt, WorkspaceOpt


def chat(
    workspace: WorkspaceOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the last saved conversation.")] = False,
    model: Annotated[Optional[str], typer.Option("--model", help="Model name (overrides the settings).")] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="OpenAI-compatible endpoint URL.")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Use no model: slash commands and the offline engine.")] = False,
    max_tokens: MaxTokensOpt = None,
) -> None:
    """Chat about the workspace: slash commands (/help), questions answered by the model with the
    ICP, personas and evidence as context, and edits you confirm. Piped input works a line a turn."""
    from persona_assistant.chat.repl import run_chat
    from persona_assistant.llm.settings import resolve_settings
    from persona_assistant.workspace import open_workspace

    ws = open_workspace(workspace)
    settings = resolve_settings(ws, model=model, base_url=base_url, offline=offline, max_tokens=max_tokens)
    raise typer.Exit(run_chat(ws, settings, resume=resume, model_given=model is not None))
