"""The ingestion report: what each CRM file was read as, what was mapped, what did not join or parse."""

from __future__ import annotations

from pydantic import Field

from persona_assistant.schemas.base import Contract


class FileReport(Contract):
    path: str
    kind: str = "unknown"  # deals | accounts | products | teams | leads | unknown
    encoding: str = "utf-8"
    delimiter: str = ","
    rows: int = 0
    columns: int = 0
    notices: list[str] = Field(default_factory=list)


class UnmatchedKeys(Contract):
    """Join keys that found no partner (reported, never dropped silently)."""

    join: str  # e.g. "deals.account -> accounts.account"
    count: int
    distinct: int
    examples: list[str] = Field(default_factory=list)


class IngestReport(Contract):
    files: list[FileReport] = Field(default_factory=list)
    mapping: dict[str, str] = Field(default_factory=dict)  # canonical field -> "file:column"
    mapping_source: dict[str, str] = Field(default_factory=dict)  # canonical -> inferred|mapping file
    unmapped_columns: list[str] = Field(default_factory=list)
    unmapped_stages: dict[str, int] = Field(default_factory=dict)
    unmatched: list[UnmatchedKeys] = Field(default_factory=list)
    value_notices: list[str] = Field(default_factory=list)  # blanks, unparseable money/dates, near-duplicate values
