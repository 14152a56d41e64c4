"""What a CRM load returns (`CrmData`) and the DuckDB connection it lives in.

Design: one in-memory connection per load, with a memory limit sized to the input and a private spill
directory; the canonical table (`deals` or `leads`) stays in it for analysis and scoring to query.
`present_dimensions` is the one rule for which dimensions a loaded table reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from persona_assistant.dimensions import BASE_DIMENSIONS
from persona_assistant.ingest.sqlnames import quote_ident as qi
from persona_assistant.schemas import IngestReport

if TYPE_CHECKING:
    import duckdb


@dataclass
class CrmData:
    """The canonical table in an in-memory DuckDB connection, and how it was built."""

    con: "duckdb.DuckDBPyConnection"
    report: IngestReport
    dimensions: list[str]
    plan: Any = None  # analysis.columns.DimensionPlan once the columns are planned (and the table adjusted)


# DuckDB's default memory limit is 80% of RAM, and it keeps freed buffers cached up to it: on a million
# deals (bench/bench_analyze.py) that showed as ~440 MB peak RSS, ~365 MB with this cap. The cap grows
# with the input (floor MEMORY_FLOOR); above it DuckDB spills to a private temp directory, which it
# removes on close (never the default `.tmp` in the user's working directory).
MEMORY_FLOOR = 300 * 2**20
MEMORY_PER_INPUT_BYTE = 4


def connect(paths: Sequence[Path]) -> "duckdb.DuckDBPyConnection":
    """An in-memory connection with a memory limit sized to the input files."""
    import os
    import tempfile
    import uuid

    import duckdb

    size = sum(Path(p).stat().st_size for p in paths if Path(p).is_file())
    limit = max(MEMORY_FLOOR, MEMORY_PER_INPUT_BYTE * size)
    spill = Path(tempfile.gettempdir()) / f"pa-duckdb-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    return duckdb.connect(config={"memory_limit": f"{limit // 2**20}MB", "temp_directory": str(spill)})


def present_dimensions(con, table: str, extras: Sequence[str]) -> list[str]:
    """BASE_DIMENSIONS then extras, only those with at least one value."""
    names = list(BASE_DIMENSIONS) + list(extras)
    counts = con.execute(f"SELECT {', '.join(f'count({qi(n)})' for n in names)} FROM {table}").fetchone()
    return [n for n, c in zip(names, counts) if c]
