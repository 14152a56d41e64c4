"""Entry point: runs the app (commands registered in cli/app.py) and turns errors into one line and an exit code.

PersonaError: its message (exit 1 or 2). OSError that no code wrapped in a StorageError: the file
it names and `errors.os_error_advice` (disk full, read-only, permission), exit 1. Anything else:
"unexpected ..." with a hint to --debug."""

from __future__ import annotations

import sys

from persona_assistant.cli.app import app


def debug_requested(argv: list[str]) -> bool:
    """`--debug` among the global options (before the command name): show tracebacks."""
    for arg in argv:
        if arg == "--debug":
            return True
        if not arg.startswith("-"):
            return False
    return False


def run() -> None:
    from persona_assistant.errors import PersonaError

    debug = debug_requested(sys.argv[1:])
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except PersonaError as exc:
        if debug:
            raise
        from persona_assistant.safe_text import clean

        sys.stderr.write(f"error: {clean(exc.message, keep_newlines=False)}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except OSError as exc:  # a read or write the code did not wrap: still one line naming the file
        if debug:
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
        if debug:
            raise
        sys.stderr.write(f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for a traceback)\n")
        sys.exit(1)

if __name__ == "__main__":
    run()
