"""Typed errors that the CLI turns into one line on stderr and an exit code.

Code raises these with a message that already names the file, row, column or
option at fault; the CLI adds nothing but the prefix `error:`.
"""

from __future__ import annotations


class PersonaError(Exception):
    """Base: a problem the user can fix. Never shown with a traceback (unless --debug)."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InputError(PersonaError):
    """Bad input data: a malformed file, an unreadable encoding, an empty note."""

    exit_code = 1


class UsageError(PersonaError):
    """Bad usage: a wrong option value, a missing workspace, an unknown name."""

    exit_code = 2


class ModelError(PersonaError):
    """The model endpoint failed or answered something unusable, after retries and re-asks."""

    exit_code = 1
