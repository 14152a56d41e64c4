"""What every command module shares: options, strict JSON output, notices on stderr.

Commands stay thin: parse options, call one service (persona_assistant.services), print. Heavy imports
(openai, duckdb, jinja2) happen inside command bodies so `--help` stays fast.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from persona_assistant.strict_json import json_text

WorkspaceOpt = Annotated[
    Path,
    typer.Option("--workspace", "-w", help="Workspace folder (default: the current directory).",
                 show_default=False),
]
MaxTokensOpt = Annotated[Optional[int], typer.Option(
    "--max-tokens", metavar="N", show_default=False,
    help="Output token limit per model call (default: sized per task; [llm] max_tokens).")]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON on stdout and nothing else there.")
]


def emit_json(data: Any) -> None:
    """Write JSON to stdout. pydantic models are dumped by their own serializer."""
    # Indented for a person at a terminal; compact (and ~3x faster to encode) when piped.
    sys.stdout.write(json_text(data, indent=2 if sys.stdout.isatty() else None) + "\n")
    sys.stdout.flush()


def notice(message: str) -> None:
    """A progress line or notice: always stderr, so --json output stays clean."""
    from persona_assistant.safe_text import write_notice

    write_notice(message)


class _NoticeHandler(logging.Handler):
    """Log records of the package (progress of long reads) as `notice` lines."""

    def emit(self, record: logging.LogRecord) -> None:
        notice(record.getMessage())


def show_progress() -> None:
    """Print the package's INFO log records (e.g. `ingest.xlsx` progress) on stderr; idempotent."""
    logger = logging.getLogger("persona_assistant")
    if not any(isinstance(h, _NoticeHandler) for h in logger.handlers):
        logger.addHandler(_NoticeHandler())
    logger.setLevel(logging.INFO)


def notices(lines: list[str], prefix: str = "") -> None:
    """A service's notices, each as one stderr line."""
    for line in lines:
        notice(prefix + line)
