"""`init` (create a workspace) and `schema` (print the contracts' JSON Schema)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from persona_assistant.cli.common import emit_json, notice


def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create (or fill) as a workspace.")],
) -> None:
    """Create a workspace: folders for CRM exports and notes, a commented brief, settings."""
    from persona_assistant.workspace_init import init_workspace

    created = init_workspace(directory)
    for path in created:
        notice(f"created {path}")
    notice(
        f"workspace ready at {directory}. Next: put CRM exports in {directory}/crm, interview notes in "
        f"{directory}/notes, fill in {directory}/brief.yaml, then run "
        f"`persona-assistant analyze -w {directory}`."
    )


def schema(
    name: Annotated[Optional[str], typer.Argument(help="Contract name; omit to list them all.")] = None,
) -> None:
    """Print the JSON Schema of a contract (icp, persona, asset, campaign, analysis, ...)."""
    from persona_assistant.errors import UsageError
    from persona_assistant.schemas import CONTRACTS

    if name is None:
        emit_json({key: model.model_json_schema() for key, model in CONTRACTS.items()})
        return
    if name not in CONTRACTS:
        import difflib

        close = difflib.get_close_matches(name, CONTRACTS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UsageError(f"schema: unknown contract {name!r}{hint}; known: {', '.join(CONTRACTS)}")
    emit_json(CONTRACTS[name].model_json_schema())
