"""File classification: which kind of CRM file each export is, and which header holds each canonical field.

Design: a file's kind follows from the canonical fields its headers map to (deals: a stage/status column;
accounts: an account plus firmographics; products: product + price; teams: sales agent + manager/office;
else unused), the mapping file first, header synonyms (`ingest.mapping`) after. The result is a
`MappedFile` that staging and the deals build read; no SQL runs here. Extra dimensions are resolved to
one header across all files (`resolve_extras`), and what was mapped from where is recorded in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from persona_assistant.errors import InputError, UsageError
from persona_assistant.ingest.csvfile import RawTable, read_table
from persona_assistant.ingest.mapping import MappingFile, infer_field
from persona_assistant.schemas import IngestReport

# Fields each kind of file contributes.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "deals": ("deal_id", "account_id", "account", "status", "stage", "amount", "created", "closed", "won_time",
              "lost_time", "industry", "employees", "revenue", "region", "country", "product", "lead_source",
              "owner", "technologies"),
    "accounts": ("account_id", "account", "industry", "employees", "revenue", "region", "country",
                 "technologies", "lead_source"),
    "products": ("product", "price"),
    "teams": ("owner", "manager", "region"),
    "leads": ("account", "industry", "employees", "revenue", "region", "country", "product", "lead_source",
              "technologies", "title", "contact_name", "first_name", "last_name", "email", "phone"),
}
FIRMOGRAPHIC = ("industry", "employees", "revenue", "region", "country", "technologies")


@dataclass
class MappedFile:
    """One export, classified and mapped; `stg` names its staged relation once `ingest.staging` made it."""

    raw: RawTable
    kind: str
    fields: dict[str, str]  # canonical -> header
    source: dict[str, str] = field(default_factory=dict)  # canonical -> inferred | mapping file
    stg: str = ""
    example: Callable[[str, int], str] | None = None  # (field, data row) -> raw text, when not in stg


def map_file(raw: RawTable, mapping: MappingFile, forced_kind: str | None = None) -> MappedFile:
    """Classify a file and map its headers to canonical fields (mapping file first)."""
    headers = raw.columns
    explicit = {c: h for c in mapping.columns if (h := mapping.column_for(c, raw.path, headers))}
    has_stage = bool({"stage", "status"} & set(explicit)) or any(
        infer_field(h, deals=True) in ("stage", "status") for h in headers)
    deals = has_stage if forced_kind is None else forced_kind == "deals"
    fields: dict[str, str] = {}
    source: dict[str, str] = {}
    notices: list[str] = []
    used = set(explicit.values())
    for h in headers:
        canon = infer_field(h, deals=deals)
        if canon is None or canon in explicit or h in used:
            continue
        if canon in fields:
            notices.append(f"column '{h}' also looks like {canon}; '{fields[canon]}' is used")
            continue
        fields[canon] = h
        source[canon] = "inferred"
    for canon, h in explicit.items():
        fields[canon] = h
        source[canon] = "mapping file"
    kind = forced_kind or _classify(fields)
    fields = {c: h for c, h in fields.items() if c in KIND_FIELDS.get(kind, ())}
    for canon, h in fields.items():
        if h in raw.duplicates and source[canon] == "inferred":
            names = ", ".join(f"'{n}'" for n in raw.duplicates[h])
            raise InputError(f"{raw.path}: header '{h}' appears more than once (now {names}); name the one "
                             f"to use in the mapping file: [columns] {canon} = \"{raw.duplicates[h][-1]}\"")
    raw.report.kind = kind
    raw.report.notices += notices
    return MappedFile(raw, kind, fields, {c: source[c] for c in fields})


def _classify(fields: dict[str, str]) -> str:
    f = set(fields)
    if f & {"stage", "status"}:
        return "deals"
    if {"product", "price"} <= f and not f & {"account", "account_id"}:
        return "products"
    if "owner" in f and f & {"manager", "region"} and not f & {"account", "account_id"}:
        return "teams"
    if f & {"account", "account_id"} and f & set(FIRMOGRAPHIC):
        return "accounts"
    return "unused"


def read_all(con, paths: Sequence[Path], mapping: MappingFile, report: IngestReport,
              forced_kind: str | None = None) -> list[MappedFile]:
    """Read every file as text (`csvfile.read_table`) and map it; each file's read report joins `report`."""
    files = []
    for i, p in enumerate(paths):
        raw = read_table(con, Path(p), f"raw_{i}")
        report.files.append(raw.report)
        files.append(map_file(raw, mapping, forced_kind))
    return files


def resolve_extras(files: list[MappedFile], extra_dimensions: Sequence[str], reserved: set[str], *,
                    missing_ok: bool = False) -> tuple[dict[int, dict[str, str]], list[str]]:
    """extra name -> header per file index (first file holding it, by kind order); names kept.

    `missing_ok`: a name no file holds is skipped (a leads file scored on the history's dimensions)."""
    per_file: dict[int, dict[str, str]] = {i: {} for i in range(len(files))}
    names: list[str] = []
    order = {"deals": 0, "leads": 0, "accounts": 1, "products": 2, "teams": 3}
    for extra in extra_dimensions:
        if extra.lower() in reserved:
            continue  # already a canonical column
        holders = [(order.get(f.kind, 9), i, h) for i, f in enumerate(files) if f.kind in order
                   for h in f.raw.columns if h.lower() == extra.lower()]
        if not holders and missing_ok:
            continue
        if not holders:
            where = ", ".join(f.raw.path.name for f in files)
            raise UsageError(f"dimension '{extra}': no column of that name in {where}")
        _, i, h = min(holders)
        per_file[i][h] = h
        if h not in names:
            names.append(h)
    return per_file, names


def record_mapping(files: list[MappedFile], report: IngestReport, per_file: dict[int, dict[str, str]]) -> None:
    """Which header fed each canonical field (and whether inferred or from the mapping file); unmapped headers."""
    for i, f in enumerate(files):
        for canon, h in f.fields.items():
            where = f"{f.raw.path.name}:{h}"
            report.mapping[canon] = f"{report.mapping[canon]}, {where}" if canon in report.mapping else where
            if report.mapping_source.get(canon) != "mapping file":
                report.mapping_source[canon] = f.source[canon]
        used = set(f.fields.values()) | set(per_file.get(i, {}))
        report.unmapped_columns += [f"{f.raw.path.name}:{h}" for h in f.raw.columns if h not in used]
