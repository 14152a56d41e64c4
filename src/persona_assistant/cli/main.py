"""Entry point: registers the command modules and turns errors into one line and an exit code.

PersonaError: its message (exit 1 or 2). OSError that no code wrapped in a StorageError: the file
it names and `errors.os_error_advice` (disk full, read-only, permission), exit 1. Anything else:
"unexpected ..." with a hint to --debug."""

from __future__ import annotations

import sys

from persona_assistant.cli.app import STATE, app

# Each module registers its commands on `app` when imported.
from persona_assistant.cli import cmd_workspace  # noqa: F401,E402  init, schema
from persona_assistant.cli import cmd_analyze  # noqa: F401,E402  analyze
from persona_assistant.cli import cmd_draft  # noqa: F401,E402  draft icp|personas, history, diff
from persona_assistant.cli import cmd_campaign  # noqa: F401,E402  campaign
from persona_assistant.cli import cmd_score  # noqa: F401,E402  score, backtest
from persona_assistant.cli import cmd_export  # noqa: F401,E402  export
from persona_assistant.cli import cmd_chat  # noqa: F401,E402  chat
from persona_assistant.cli import cmd_demo  # noqa: F401,E402  demo
from persona_assistant.cli import cmd_llm  # noqa: F401,E402  keys, log, usage


def run() -> None:
    from persona_assistant.errors import PersonaError

    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except PersonaError as exc:
        if STATE.get("debug"):
            raise
        from persona_assistant.safe_text import clean

        sys.stderr.write(f"error: {clean(exc.message, keep_newlines=False)}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except OSError as exc:  # a read or write the code did not wrap: still one line naming the file
        if STATE.get("debug"):
            raise
        from persona_assistant.errors import os_error_advice
        from persona_assistant.safe_text import clean

        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"error: {clean(where + os_error_advice(exc), keep_newlines=False)}\n")
        sys.exit(1)
    except Exception as exc:  # click usage errors and the unexpected
        # typer bundles its own click in newer releases, so match by shape, not by import.
        import typer

        if isinstance(exc, typer.Exit):
            sys.exit(exc.exit_code)
        if type(exc).__name__ == "Abort":
            sys.stderr.write("aborted\n")
            sys.exit(130)
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()  # usage error: one line plus a hint, exit code 2
            sys.exit(exc.exit_code)
        if STATE.get("debug"):
            raise
        sys.stderr.write(f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for a traceback)\n")
        sys.exit(1)

if __name__ == "__main__":
    run()
