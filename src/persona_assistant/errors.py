"""Typed errors that the CLI turns into one line on stderr and an exit code.

Code raises these with a message that already names the file, row, column or
option at fault; the CLI adds nothing but the prefix `error:`.
"""

from __future__ import annotations

import difflib
from pathlib import Path


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


def missing_file_hint(path: Path) -> str:
    """'; did you mean leads.csv?' for a path that is not a file when its folder holds a file of a
    close name (a typo such as leads.cvs), else ''. The one place such a suggestion is made."""
    path = Path(path)
    try:
        names = [p.name for p in path.parent.iterdir() if p.is_file()] if path.parent.is_dir() else []
    except OSError:
        return ""
    near = difflib.get_close_matches(path.name, names, n=1, cutoff=0.6)
    return f"; did you mean {near[0]}?" if near else ""


def stray_crm_hint(crm_dir: Path, suffixes: frozenset[str] | set[str]) -> str:
    """'; found deals.csv in <workspace>: move it into crm/' when the folder above an empty crm/ holds
    CRM exports (a CSV dropped in the workspace root), else ''."""
    try:
        found = sorted(p.name for p in crm_dir.parent.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
    except OSError:
        return ""
    if not found:
        return ""
    shown = ", ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")
    return f"; found {shown} in {crm_dir.parent}: move {'it' if len(found) == 1 else 'them'} into {crm_dir.name}/"


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
