"""Where things live on disk: the workspace layout, versioned drafts, atomic writes.

A workspace is a plain folder a user can read and put under version control:

    persona-assistant.toml   settings (model, base URL, min support, prompt budget, prices)
    brief.yaml               the product brief (commented template written by `init`)
    mapping.toml             optional: explicit CRM column and stage mapping (wins over inference)
    crm/                     CRM exports (CSV, XLSX)
    notes/                   interview notes and transcripts (.md, .txt, .vtt, .srt)
    prompts/                 optional: prompt templates that override the bundled ones
    drafts/<kind>/vNNNN.json versioned drafts (icp, personas), each with a .md beside it
    output/                  exports
    .persona-assistant/      the tool's own state: log.sqlite (log and cache), campaign items, chat

Only this module decides those paths. Every write goes through `atomic_write`, so
an interrupted run never leaves a half-written file behind.

The workspace is closed, and `outside_of` is the one rule deciding what that means: a
path belongs to the workspace when it resolves (every link followed, `..` collapsed)
to the workspace root or below it.

* Reading: the listings (`crm_files`, `note_files`) and the fixed inputs (`input_file`:
  brief.yaml, mapping.toml, persona-assistant.toml, prompt overrides) skip a path that
  leads outside, with a notice naming it (once per path and Workspace). What the user
  names on the command line (`analyze FILES`, `--map`, `score FILE`) is read as given.
* Writing: `Workspace.write` and `Workspace.make_dir` (atomic_write and make_dirs with
  `within=`) refuse a path whose file or any parent folder leads outside: InputError
  naming it, nothing written. `state_dir` is checked when asked for, so the log, the
  cache, campaign items and chat never land outside. `--out` and the user's keys file
  are the user's explicit choice and are written unchecked.
* A failing write (disk full, read-only file system, no permission) is a StorageError
  naming the file; the temporary file is removed, the old file stays.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from persona_assistant.errors import InputError, StorageError, UsageError

CONFIG_NAME = "persona-assistant.toml"
BRIEF_NAME = "brief.yaml"
MAPPING_NAME = "mapping.toml"
STATE_DIR = ".persona-assistant"
VERSION_RE = re.compile(r"^v(\d{4,})\.json$")

M = TypeVar("M", bound=BaseModel)


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def outside_of(path: Path, root: Path) -> Path | None:
    """Where `path` really leads (links followed, `..` collapsed) when that is outside `root`;
    None when it stays inside. The one containment rule of the tool."""
    real = Path(os.path.realpath(path))
    return None if real.is_relative_to(os.path.realpath(root)) else real


def _check_write(path: Path, within: Path) -> None:
    real = outside_of(path, within)
    if real is not None:
        raise InputError(f"{path}: leads to {real}, outside the workspace {within}; nothing was written "
                         "through it (remove the link; an explicit --out may point anywhere)")


def make_dirs(folder: Path, *, within: Path | None = None) -> Path:
    """mkdir -p; with `within`, refused (InputError) when the folder or a parent leads outside it."""
    if within is not None:
        _check_write(folder, within)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(f"{folder}: exists and is not a folder") from None
    except OSError as exc:
        raise StorageError(folder, exc) from None
    return folder


def atomic_write(path: Path, data: str | bytes, *, mode: int | None = None, within: Path | None = None) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over `path`.

    `mode` defaults to what a plain open() would give (0666 less the umask); secrets pass 0o600.
    With `within` (a workspace root) the write is refused when `path` or a parent leads outside it.
    Any OSError becomes a StorageError naming `path`; the temporary file never stays behind.
    """
    if within is not None:
        _check_write(path, within)
    make_dirs(path.parent)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.fchmod(fd, _default_mode() if mode is None else mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            raise StorageError(path, exc) from None
        raise


@dataclass(frozen=True)
class Version:
    kind: str
    number: int
    path: Path  # the .json file
    unchanged: bool = False  # save_version found the same content as this (latest) version

    @property
    def label(self) -> str:
        return f"v{self.number:04d}"


def _stderr_notice(message: str) -> None:
    from persona_assistant.safe_text import write_notice

    write_notice(message)


_KINDS = {".docx": "Word files", ".doc": "Word files", ".pdf": "PDF files", ".xls": "old Excel .xls files",
          ".pages": "Pages files", ".rtf": "RTF files", ".odt": "OpenDocument files", ".numbers": "Numbers files"}


def _kind(path: Path) -> str:
    """What a file nobody reads is called in its notice ('Word files', '.json files')."""
    suffix = path.suffix.lower()
    return _KINDS.get(suffix) or (f"{suffix} files" if suffix else "files without an extension")


@dataclass(frozen=True)
class Workspace:
    root: Path
    # Where notices go (skipped inputs, lock waits); stderr unless a caller wants them elsewhere.
    notify: Callable[[str], None] = field(default=_stderr_notice, compare=False, repr=False)
    # Paths already reported as skipped, so a listing repeated within a run says it once.
    _told: set[str] = field(default_factory=set, compare=False, repr=False, hash=False)

    # ------------------------------------------------------------------ layout
    @property
    def crm_dir(self) -> Path:
        return self.root / "crm"

    @property
    def notes_dir(self) -> Path:
        return self.root / "notes"

    @property
    def prompts_dir(self) -> Path:
        return self.root / "prompts"

    @property
    def drafts_dir(self) -> Path:
        return self.root / "drafts"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def state_dir(self) -> Path:
        """The tool's own folder (log, cache, campaign items, chat, lock); InputError when it is a
        link leading outside the workspace, so nothing of the tool's state is read or written there."""
        path = self.root / STATE_DIR
        _check_write(path, self.root)
        return path

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def brief_path(self) -> Path:
        return self.root / BRIEF_NAME

    @property
    def mapping_path(self) -> Path:
        return self.root / MAPPING_NAME

    # ------------------------------------------------------------------ containment
    def inside(self, path: Path) -> bool:
        """True when `path` resolves into the workspace (see outside_of)."""
        return outside_of(path, self.root) is None

    def _skip(self, path: Path, real: Path) -> None:
        self._unread(path, f"it leads to {real}, outside the workspace; copy it into {self.root} to use it")

    def input_file(self, path: Path) -> Path | None:
        """`path` when it is a file inside the workspace; None when absent or not a file, and None
        with a notice when it leads outside (a link, `..`)."""
        if not path.is_file():
            return None
        real = outside_of(path, self.root)
        if real is not None:
            self._skip(path, real)
            return None
        return path

    def _unread(self, path: Path, why: str) -> None:
        """Notice for a file or folder a listing does not read: nothing is skipped silently."""
        if str(path) not in self._told:
            self._told.add(str(path))
            self.notify(f"skipped {path.relative_to(self.root) if path.is_relative_to(self.root) else path}: {why}")

    def _listing(self, folder: Path, suffixes: frozenset[str] | set[str], *, recursive: bool,
                 save_as: str | None = None) -> list[Path]:
        """Files under `folder` with one of `suffixes` that stay inside the workspace, sorted;
        links leading outside (files or folders) are skipped with a notice, folder loops ignored,
        and, given `save_as`, any other file or subfolder is named in a notice saying what to save
        it as (hidden files such as .DS_Store excepted)."""
        if not folder.is_dir():
            return []
        found: list[Path] = []
        seen: set[str] = set()
        stack = [folder]
        while stack:
            current = stack.pop()
            real = outside_of(current, self.root)
            if real is not None:
                self._skip(current, real)
                continue
            key = os.path.realpath(current)
            if key in seen:
                continue
            seen.add(key)
            for entry in sorted(os.scandir(current), key=lambda e: e.name):
                path = Path(entry.path)
                if recursive and entry.is_dir():
                    stack.append(path)
                elif entry.is_dir() and path.suffix.lower() in suffixes:  # never skip data silently
                    raise InputError(f"{path}: is a folder, not a {path.suffix.lstrip('.').upper()} file; "
                                     "move its files up a level or rename it")
                elif entry.is_file() and path.suffix.lower() in suffixes:
                    real = outside_of(path, self.root)
                    if real is None:
                        found.append(path)
                    else:
                        self._skip(path, real)
                elif save_as and not entry.name.startswith("."):
                    self._unread(path, f"subfolders of {folder.name}/ are not read; move its files up a level"
                                 if entry.is_dir() else f"{_kind(path)} are not read; save it as {save_as}")
        return sorted(found)

    def crm_files(self) -> list[Path]:
        """CSV/TSV/TXT/XLSX/XLSM exports in crm/ (not its subfolders) that stay inside the workspace."""
        from persona_assistant.ingest.csvfile import CRM_SUFFIXES

        return self._listing(self.crm_dir, CRM_SUFFIXES, recursive=False, save_as=".csv or .xlsx")

    def note_files(self) -> list[Path]:
        """Interview notes anywhere under notes/ that stay inside the workspace."""
        from persona_assistant.ingest.notes import NOTE_SUFFIXES

        return self._listing(self.notes_dir, NOTE_SUFFIXES, recursive=True, save_as=".txt or .md")

    def mapping_file(self) -> Path | None:
        """The workspace's mapping.toml when present (and inside); what `--map` stands in for."""
        return self.input_file(self.mapping_path)

    # ------------------------------------------------------------------ writing
    def checked(self, path: Path) -> Path:
        """`path`, or InputError naming it when it (or a parent) leads outside the workspace: for
        writers that open files themselves (prompt_toolkit's history)."""
        _check_write(path, self.root)
        return path

    def write(self, path: Path, data: str | bytes) -> Path:
        """atomic_write refusing any path that leads outside the workspace."""
        atomic_write(path, data, within=self.root)
        return path

    def make_dir(self, folder: Path) -> Path:
        """mkdir -p refusing any folder that leads outside the workspace."""
        return make_dirs(folder, within=self.root)

    # ------------------------------------------------------------------ settings
    def config(self) -> dict[str, Any]:
        """The workspace's TOML settings; {} when absent. A broken file is an error naming it."""
        path = self.input_file(self.config_path)
        if path is None:
            return {}
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not valid TOML ({exc})") from None

    # ------------------------------------------------------------------ versioned drafts
    def versions(self, kind: str) -> list[Version]:
        """Saved versions of `kind`, oldest first (files leading outside the workspace skipped)."""
        found = []
        for p in self._listing(self.drafts_dir / kind, {".json"}, recursive=False):
            m = VERSION_RE.match(p.name)
            if m:
                found.append(Version(kind, int(m.group(1)), p))
        return sorted(found, key=lambda v: v.number)

    def save_version(self, kind: str, model: BaseModel, markdown: str | None = None) -> Version:
        """Save a new version; never overwrites an older one. When the content is byte-identical to
        the latest version nothing is written and that version comes back with `unchanged` set."""
        existing = self.versions(kind)
        text = model.model_dump_json(indent=2) + "\n"
        if existing:
            latest = existing[-1]
            try:
                same = latest.path.read_bytes() == text.encode("utf-8")
            except OSError:
                same = False
            if same:
                return Version(kind, latest.number, latest.path, unchanged=True)
        number = existing[-1].number + 1 if existing else 1
        version = Version(kind, number, self.drafts_dir / kind / f"v{number:04d}.json")
        md = version.path.with_suffix(".md")
        if markdown is not None:
            self.write(md, markdown)
        try:  # JSON last: a version exists once its JSON exists; no .md is left without it.
            self.write(version.path, text)
        except BaseException:
            if markdown is not None:
                with contextlib.suppress(OSError):
                    md.unlink()
            raise
        return version

    def load_version(self, kind: str, model: type[M], number: int | None = None) -> M | None:
        """The given (default: latest) version of a draft, validated; None when there is none."""
        versions = self.versions(kind)
        if number is not None:
            versions = [v for v in versions if v.number == number]
            if not versions:
                raise UsageError(f"no version {number} of {kind} in {self.drafts_dir / kind}")
        if not versions:
            return None
        path = versions[-1].path
        try:
            return model.model_validate_json(path.read_text(encoding="utf-8"))
        except ValidationError as exc:
            from persona_assistant.schemas import first_error

            raise InputError(f"{path}: field {first_error(exc)}") from None


def open_workspace(root: str | Path | None, *, must_exist: bool = True) -> Workspace:
    ws = Workspace(Path(root or ".").expanduser().resolve())
    if must_exist and not ws.root.is_dir():
        raise UsageError(f"--workspace: {ws.root} is not a folder (create one with `persona-assistant init DIR`)")
    return ws


def load_brief(ws: Workspace) -> "Brief":
    """The product brief, validated; an empty Brief when the file is absent."""
    import yaml

    from persona_assistant.schemas import Brief, first_error

    path = ws.input_file(ws.brief_path)
    if path is None:
        return Brief()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"{ws.brief_path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise InputError(f"{ws.brief_path}: expected a mapping of fields (product, value_propositions, ...)")
    # Allow proof points written as plain strings.
    data["proof_points"] = [p if isinstance(p, dict) else {"claim": str(p)} for p in data.get("proof_points") or []]
    data = {k: v for k, v in data.items() if v is not None}
    try:
        return Brief.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{ws.brief_path}: field {first_error(exc)}") from None
