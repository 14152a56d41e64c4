"""The analysis' SQL, written once in DuckDB's dialect, run on another engine: `WarehouseCon`.

Why SQLGlot and not Ibis: the analysis, the dimension plan and scoring are already expressed as DuckDB SQL
(grouping sets, FILTER, medians) that the CSV path runs as it is; SQLGlot (pure Python, no dependencies,
~8 MB installed) parses that text and writes it for Postgres, BigQuery, Snowflake or Spark, so the CSV path
keeps its speed and the SQL stays in one place. Ibis would mean rewriting every query as expressions and
pulling pandas and pyarrow into the install (measured in the commit that added this module).

`WarehouseCon` quacks like the DuckDB connection the analysis is handed: `execute(sql).fetchone()/fetchall()`
and `DESCRIBE <relation>`. The canonical relations (`deals`, `leads`) are SELECTs over the user's table,
defined here (`define`) and substituted for the table name in every query, so nothing is created in the
warehouse and only aggregates travel. The rows each query fetched are logged (DEBUG: shown by --debug) and
kept in `fetched`. A few DuckDB-only forms are rewritten per target: TRY_CAST (a guarded CAST),
approx_count_distinct (an exact count), unnamed subqueries (named).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from persona_assistant.errors import InputError
from persona_assistant.warehouse.source import Source, first_line

log = logging.getLogger("persona_assistant.warehouse")

# What a TRY_CAST to a number or a date accepts on engines without TRY_CAST (checked on the text).
_NUMBER_TEXT = r"^\s*[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?\s*$"
_DATE_TEXT = r"^\s*[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}\s*$"
_DESCRIBE = re.compile(r"^\s*DESCRIBE\s+(\w+)\s*$", re.IGNORECASE)


class Result:
    """Fetched rows with the cursor methods the analysis uses."""

    def __init__(self, rows: list[tuple]):
        self._rows = rows
        self._at = 0

    def fetchone(self):
        row = self._rows[self._at] if self._at < len(self._rows) else None
        self._at += 1
        return row

    def fetchall(self) -> list[tuple]:
        rows, self._at = self._rows[self._at:], len(self._rows)
        return rows

    def fetchmany(self, n: int) -> list[tuple]:
        rows = self._rows[self._at:self._at + n]
        self._at += len(rows)
        return rows


@dataclass
class Relation:
    select: str  # DuckDB dialect, over the user's table
    columns: list[tuple[str, str]]  # (name, SQL type)


@dataclass
class WarehouseCon:
    """A DB-API connection that runs DuckDB-dialect SQL on `dialect`, relations substituted by name."""

    source: Source
    conn: Any
    dialect: str
    relations: dict[str, Relation] = field(default_factory=dict)
    fetched: list[tuple[str, int]] = field(default_factory=list)  # (what, rows) per query

    def define(self, name: str, select: str, columns: Sequence[tuple[str, str]]) -> None:
        self.relations[name] = Relation(select, list(columns))

    def sql(self, duck_sql: str) -> str:
        """`duck_sql` for the target engine, the defined relations in place of their names."""
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(duck_sql, read="duckdb")
        for table in list(tree.find_all(exp.Table)):
            rel = self.relations.get(table.name) if not table.args.get("db") else None
            if rel is not None:
                sub = sqlglot.parse_one(rel.select, read="duckdb").subquery(table.alias_or_name)
                table.replace(sub)
        names = iter(range(1_000_000))
        tree = tree.transform(lambda node: self._portable(node, names))
        return tree.sql(dialect=self.dialect)

    def _portable(self, node, names):
        from sqlglot import exp

        if self.dialect == "duckdb":
            return node
        if isinstance(node, exp.ApproxDistinct):
            return exp.Count(this=exp.Distinct(expressions=[node.this]))
        if isinstance(node, exp.TryCast):
            pattern = _DATE_TEXT if node.to.is_type(*exp.DataType.TEMPORAL_TYPES) else _NUMBER_TEXT
            text = exp.cast(node.this.copy(), "text")
            test = exp.RegexpLike(this=text, expression=exp.Literal.string(pattern))
            return exp.Case(ifs=[exp.If(this=test, true=exp.Cast(this=node.this, to=node.to))])
        if isinstance(node, exp.Subquery) and not node.alias and isinstance(node.parent, (exp.From, exp.Join)):
            node.set("alias", exp.TableAlias(this=exp.to_identifier(f"_q{next(names)}")))
        return node

    def execute(self, duck_sql: str, params: Sequence | None = None) -> Result:
        if params:
            raise NotImplementedError("parameters are not passed to a warehouse")
        described = _DESCRIBE.match(duck_sql)
        if described and described.group(1) in self.relations:
            return Result([(name, typ) for name, typ in self.relations[described.group(1)].columns])
        return self.run(self.sql(duck_sql), what=" ".join(duck_sql.split())[:70])

    def run(self, target_sql: str, *, what: str = "") -> Result:
        """Target-dialect SQL as it is; its rows counted and logged; a failure as one line naming the source."""
        import time

        cur = self.conn.cursor()
        start = time.perf_counter()
        try:
            cur.execute(target_sql)
            rows = [tuple(r) for r in cur.fetchall()] if cur.description is not None else []
        except Exception as exc:
            raise InputError(f"{self.source.where()}: the query failed: {first_line(self.source, exc)}") from None
        finally:
            cur.close()
        self.fetched.append((what, len(rows)))
        log.debug("%s: %d row(s) fetched in %.1f s for %s", self.source.shown, len(rows),
                  time.perf_counter() - start, what or target_sql[:70])
        return Result(rows)

    def close(self) -> None:
        self.conn.close()
