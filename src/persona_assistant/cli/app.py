"""The typer app and what every command shares: options, JSON output, notices.

Commands stay thin: parse options, call a core function, print. Heavy imports
(openai, duckdb, jinja2) happen inside command bodies so `--help` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from persona_assistant import __version__

app = typer.Typer(
    name="persona-assistant",
    help=(
        "Evidence-backed ICPs, buyer personas, campaign copy and lead scores from your own "
        "CRM exports and interview notes. Every claim cites its source; where the data is "
        "silent the tool says 'unknown'.\n\n"
        "Start with `persona-assistant demo`, or `persona-assistant init DIR` for your own data."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# Global state set by the main callback.
STATE: dict[str, Any] = {"debug": False}

WorkspaceOpt = Annotated[
    Path,
    typer.Option("--workspace", "-w", help="Workspace folder (default: the current directory).",
                 show_default=False),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON on stdout and nothing else there.")
]


def emit_json(data: Any) -> None:
    """Write JSON to stdout. pydantic models are dumped by their own serializer."""
    if hasattr(data, "model_dump"):
        data = data.model_dump(mode="json")
    # Indented for a person at a terminal; compact (and ~3x faster to encode) when piped.
    indent = 2 if sys.stdout.isatty() else None
    sys.stdout.write(json.dumps(data, indent=indent, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def notice(message: str) -> None:
    """A progress line or notice: always stderr, so --json output stays clean."""
    from persona_assistant.safe_text import write_notice

    write_notice(message)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"persona-assistant {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")] = False,
) -> None:
    STATE["debug"] = debug
