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


def os_error_advice(exc: OSError) -> str:
    """What an OSError means for the user and what to do about it, in a few words. The one place
    that turns errno values into advice (StorageError and the CLI's last-resort handler use it)."""
    import errno

    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return "no space left on the disk (or the quota is used up): free some space, then run the command again"
    if code == errno.EROFS:
        return "the file system is read-only: copy the workspace to a writable folder, then run the command again"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied: check the owner and mode of the file and its folder, or work on a copy you own"
    if code in (errno.EMFILE, errno.ENFILE):
        return "too many open files: close other programs or raise the limit (ulimit -n)"
    if code == errno.EIO:
        return "input/output error from the disk: check the drive, then run the command again"
    return exc.strerror or str(exc) or type(exc).__name__


class StorageError(PersonaError):
    """A file or folder could not be written or created: the message names it and says what to do."""

    exit_code = 1

    def __init__(self, path: object, exc: OSError):
        super().__init__(f"{path}: {os_error_advice(exc)}")
        self.path = path
        self.errno = exc.errno


class WorkspaceBusy(PersonaError):
    """Another run holds the workspace's writer lock (see workspace_lock)."""

    exit_code = 1
