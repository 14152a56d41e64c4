"""The typer app and what every command shares: options, JSON output, notices.

Commands stay thin: parse options, call a core function, print. Heavy imports
(openai, duckdb, jinja2) happen inside command bodies so `--help` stays fast.
"""

from __future__ import annotations

import json
import logging
import re
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


def json_text(data: Any, *, indent: int | None = None) -> str:
    """Strict JSON (RFC 8259) of `data`, what every `--json` and JSON file the CLI writes goes through.

    json.dumps would write NaN and +-inf as the bare tokens NaN/Infinity, which JSON parsers refuse.
    Ingestion keeps them out of the data (`ingest.numbers`); any that still arrive are written as null,
    with a notice naming the first place.

    Untrusted strings are data, never terminal control: json.dumps escapes C0 controls but, with
    ensure_ascii=False, writes DEL, the C1 controls (U+0080-U+009F, which some terminals obey like
    ESC sequences), the line/paragraph separators and the bidirectional overrides raw. They are
    written as \\uXXXX escapes instead, so they reach no terminal raw and parse back unchanged.
    """
    if hasattr(data, "model_dump"):
        data = data.model_dump(mode="json")
    try:
        text = json.dumps(data, indent=indent, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:
        found: list[str] = []
        data = _finite(data, "$", found)
        if found:
            notice(f"JSON output: {len(found)} number(s) that were not finite (NaN or infinity) written as null "
                   f"(first at {found[0]})")
        text = json.dumps(data, indent=indent, ensure_ascii=False, default=str, allow_nan=False)
    return _RAW_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# What json.dumps(ensure_ascii=False) leaves raw that a terminal may act on (only ever inside strings).
_RAW_CONTROLS = re.compile("[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _finite(value: Any, path: str, found: list[str]) -> Any:
    """`value` with every non-finite float replaced by None; the JSON paths of the replaced go to `found`."""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            found.append(path)
            return None
        return value
    if isinstance(value, dict):
        return {(str(k) if isinstance(k, float) else k): _finite(v, f"{path}.{k}", found) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value


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
    show_progress()
    if debug:  # e.g. the rows each warehouse query fetched (warehouse/query.py)
        logging.getLogger("persona_assistant").setLevel(logging.DEBUG)


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
