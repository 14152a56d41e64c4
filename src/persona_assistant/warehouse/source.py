"""Where a warehouse table is: the connection URL, its credentials, and the one-line errors of connecting.

`--source URL --table NAME` (or `[source] url / table` in persona-assistant.toml). Credentials come from the
URL, else the environment (PERSONA_ASSISTANT_SOURCE_PASSWORD, or the driver's own: PGPASSWORD, PGUSER ...),
else `source_password` in the user's keys file (outside any workspace, mode 0600), never from the workspace
settings file, and they are never shown: every message names the source by
`Source.shown` (the URL with the password replaced) and any text a driver returns is masked again.

Schemes: postgresql:// (psycopg), duckdb:///path/to.db (a DuckDB database file), bigquery://project/dataset
and snowflake://user@account/database/schema?warehouse=WH (their DB-API drivers, installed separately).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from persona_assistant.errors import InputError, UsageError

PASSWORD_ENV = "PERSONA_ASSISTANT_SOURCE_PASSWORD"
DIALECTS = {"postgresql": "postgres", "postgres": "postgres", "duckdb": "duckdb", "bigquery": "bigquery",
            "snowflake": "snowflake"}
DRIVERS = {"postgres": "psycopg (pip install 'persona-assistant[warehouse]')",
           "bigquery": "google-cloud-bigquery", "snowflake": "snowflake-connector-python"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")


@dataclass(frozen=True)
class Source:
    url: str
    table: str

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme.split("+")[0].lower()

    @property
    def dialect(self) -> str:
        return DIALECTS[self.scheme]

    @property
    def _url_password(self) -> str | None:
        """The password written in the URL: user:password@host, or ?password=... (libpq reads both)."""
        parts = urlsplit(self.url)
        if parts.password:
            return unquote(parts.password)
        return (parse_qs(parts.query).get("password") or [None])[0]

    @property
    def password(self) -> str | None:
        """From the URL, else PASSWORD_ENV, else the user's keys file (`source_password`), as for the model."""
        if self._url_password:
            return self._url_password
        if os.environ.get(PASSWORD_ENV):
            return os.environ[PASSWORD_ENV]
        from persona_assistant.llm.settings import read_keys_file

        return read_keys_file().get("source_password") or None

    @property
    def shown(self) -> str:
        """The URL without its password (what messages, logs and saved analyses may carry)."""
        parts = urlsplit(self.url)
        if parts.password is not None:
            parts = parts._replace(netloc=f"{parts.username}:***@{parts.netloc.rsplit('@', 1)[1]}")
        if "password=" in parts.query:
            parts = parts._replace(query=re.sub(r"(^|&)password=[^&]*", r"\1password=***", parts.query))
        return urlunsplit(parts)

    def mask(self, text: str) -> str:
        """`text` with the password (as written and decoded) replaced, for anything a driver says."""
        for secret in {urlsplit(self.url).password, self._url_password, self.password} - {None, ""}:
            text = text.replace(secret, "***")
        return text.replace(self.url, self.shown)

    def where(self, column: str | None = None) -> str:
        """'postgresql://pa@host/crm table deals column "Amount"': how every error names the place."""
        return f"{self.shown} table {self.table}" + (f" column {column!r}" if column else "")


def source_from(url: str | None, table: str | None, config: dict | None = None, *, what: str = "--table"
                ) -> Source | None:
    """The source from options, else the workspace's [source] section; None when neither names a URL."""
    section = (config or {}).get("source", {})
    url = url or section.get("url")
    if not url:
        if table:
            raise UsageError(f"{what} {table}: name the warehouse with --source URL (or [source] url)")
        return None
    table = table or section.get("table")
    if not table:
        raise UsageError(f"--source {Source(url, '').shown}: name the table with {what} NAME (or [source] table)")
    source = Source(url, table)
    if source.scheme not in DIALECTS:
        raise UsageError(f"--source {source.shown}: unknown scheme {source.scheme!r} "
                         f"(postgresql://, duckdb:///file.db, bigquery://, snowflake://)")
    if not _NAME.match(table):
        raise UsageError(f"{what} {table}: a table name is [schema.]name of letters, digits and _")
    if section.get("password") or Source(section.get("url", "") or "", "")._url_password:
        raise InputError("[source] in persona-assistant.toml holds a password: keep credentials out of the "
                         f"workspace (the URL on the command line or {PASSWORD_ENV})")
    return source


def connect(source: Source):
    """A DB-API connection (autocommit, read-only use); a one-line InputError when it cannot be made."""
    dialect = source.dialect
    try:
        if dialect == "duckdb":
            import duckdb

            path = urlsplit(source.url).path
            path = path[1:] if path.startswith("//") else path
            if not os.path.isfile(path):
                raise InputError(f"{source.shown}: no such DuckDB database file")
            return duckdb.connect(path, read_only=True)
        if dialect == "postgres":
            import psycopg

            parts = urlsplit(source.url)
            kwargs = {"password": source.password} if source.password and not source._url_password else {}
            url = urlunsplit(parts._replace(scheme="postgresql"))
            return psycopg.connect(url, autocommit=True, connect_timeout=10, **kwargs)
        if dialect == "bigquery":
            from google.cloud import bigquery
            from google.cloud.bigquery import dbapi

            return dbapi.connect(bigquery.Client(project=urlsplit(source.url).netloc))
        if dialect == "snowflake":
            import snowflake.connector

            parts = urlsplit(source.url)
            database, _, schema = parts.path.strip("/").partition("/")
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            return snowflake.connector.connect(user=parts.username, password=source.password, account=parts.hostname,
                                               database=database or None, schema=schema or None, **query)
    except ImportError:
        raise InputError(f"{source.shown}: the {dialect} driver is not installed: "
                         f"{DRIVERS.get(dialect, dialect)}") from None
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{source.shown}: cannot connect: {first_line(source, exc)}") from None
    raise AssertionError(dialect)


def first_line(source: Source, exc: BaseException) -> str:
    """A driver's error as one masked line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return source.mask(text)[:300]
