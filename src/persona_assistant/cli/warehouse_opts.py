"""`--source URL --table NAME`: the options every command reading the CRM history shares."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

SourceOpt = Annotated[Optional[str], typer.Option(
    "--source", metavar="URL", show_default=False,
    help="Read the CRM history from a warehouse table instead of exports: postgresql://user@host/db, "
         "duckdb:///file.db, bigquery://project/dataset, snowflake://user@account/db/schema "
         "(password: in the URL or PERSONA_ASSISTANT_SOURCE_PASSWORD; default: [source] url).")]
TableOpt = Annotated[Optional[str], typer.Option(
    "--table", metavar="NAME", show_default=False,
    help="The table (or view) with --source: [schema.]name (default: [source] table).")]


def cli_source(ws: Any, url: str | None, table: str | None) -> Any:
    """The Source named on the command line (a table alone takes the URL from [source]); None without options."""
    if url is None and table is None:
        return None
    from persona_assistant.warehouse.source import source_from

    return source_from(url, table, ws.config(), what="--table")
