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
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from persona_assistant.errors import InputError, UsageError

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


def atomic_write(path: Path, data: str | bytes, *, mode: int | None = None) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over `path`.

    `mode` defaults to what a plain open() would give (0666 less the umask); secrets pass 0o600.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _default_mode() if mode is None else mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Version:
    kind: str
    number: int
    path: Path  # the .json file

    @property
    def label(self) -> str:
        return f"v{self.number:04d}"


@dataclass(frozen=True)
class Workspace:
    root: Path

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
        return self.root / STATE_DIR

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def brief_path(self) -> Path:
        return self.root / BRIEF_NAME

    @property
    def mapping_path(self) -> Path:
        return self.root / MAPPING_NAME

    # ------------------------------------------------------------------ discovery
    def crm_files(self) -> list[Path]:
        if not self.crm_dir.is_dir():
            return []
        return sorted(p for p in self.crm_dir.iterdir()
                      if p.is_file() and p.suffix.lower() in {".csv", ".tsv", ".txt", ".xlsx"})

    def note_files(self) -> list[Path]:
        if not self.notes_dir.is_dir():
            return []
        return sorted(p for p in self.notes_dir.rglob("*")
                      if p.is_file() and p.suffix.lower() in {".md", ".txt", ".vtt", ".srt"})

    # ------------------------------------------------------------------ settings
    def config(self) -> dict[str, Any]:
        """The workspace's TOML settings; {} when absent. A broken file is an error naming it."""
        if not self.config_path.is_file():
            return {}
        try:
            return tomllib.loads(self.config_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{self.config_path}: not valid TOML ({exc})") from None

    # ------------------------------------------------------------------ versioned drafts
    def versions(self, kind: str) -> list[Version]:
        folder = self.drafts_dir / kind
        if not folder.is_dir():
            return []
        found = []
        for p in folder.iterdir():
            m = VERSION_RE.match(p.name)
            if m:
                found.append(Version(kind, int(m.group(1)), p))
        return sorted(found, key=lambda v: v.number)

    def save_version(self, kind: str, model: BaseModel, markdown: str | None = None) -> Version:
        """Save a new version; never overwrites an older one."""
        existing = self.versions(kind)
        number = existing[-1].number + 1 if existing else 1
        version = Version(kind, number, self.drafts_dir / kind / f"v{number:04d}.json")
        if markdown is not None:
            atomic_write(version.path.with_suffix(".md"), markdown)
        # JSON last: a version exists once its JSON exists.
        atomic_write(version.path, model.model_dump_json(indent=2) + "\n")
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

    def save_json(self, relative: str, data: Any) -> Path:
        path = self.root / relative
        atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return path


def open_workspace(root: str | Path | None, *, must_exist: bool = True) -> Workspace:
    ws = Workspace(Path(root or ".").expanduser().resolve())
    if must_exist and not ws.root.is_dir():
        raise UsageError(f"--workspace: {ws.root} is not a folder (create one with `persona-assistant init DIR`)")
    return ws


def load_brief(ws: Workspace) -> "Brief":
    """The product brief, validated; an empty Brief when the file is absent."""
    import yaml

    from persona_assistant.schemas import Brief, first_error

    if not ws.brief_path.is_file():
        return Brief()
    try:
        data = yaml.safe_load(ws.brief_path.read_text(encoding="utf-8")) or {}
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
