"""One small query interface over DuckDB and PostgreSQL connections, for onboard's own tables.

SQL is written once with DuckDB's placeholders: `?` for positional and `$name` for named
parameters (a dict may hold more names than a statement uses; each gets the ones it
names). On PostgreSQL they become psycopg2's `%s` / `%(name)s` (and a literal `%`
becomes `%%`), statements run in autocommit unless inside `transaction()`, and `stream()`
reads through a server-side cursor so a large result never sits in memory at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd

from onboard.core.targets import Target
from onboard.core.warehouse import connect

Params = Sequence[Any] | dict[str, Any] | None
_NAMED = re.compile(r"\$([a-z_][a-z0-9_]*)")


class Database:
    """A connection to the target with `execute`, `rows`, `stream` and `transaction`."""

    def __init__(self, target: Target, connection: Any) -> None:
        self.target = target
        self.kind = target.type
        self.connection = connection
        self._in_transaction = False
        if self.kind == "postgres":
            connection.autocommit = True

    @staticmethod
    def _used(sql: str, params: Params) -> Params:
        """Named parameters the statement names (DuckDB refuses the others)."""
        if isinstance(params, dict):
            named = set(_NAMED.findall(sql))
            return {name: value for name, value in params.items() if name in named}
        return params

    def _sql(self, sql: str, params: Params) -> str:
        if self.kind != "postgres" or params is None:
            return sql
        sql = sql.replace("%", "%%")
        if isinstance(params, dict):
            return _NAMED.sub(r"%(\1)s", sql)
        return sql.replace("?", "%s")

    def execute(self, sql: str, params: Params = None) -> None:
        """Run one statement."""
        params = self._used(sql, params)
        if self.kind == "postgres":
            with self.connection.cursor() as cursor:
                cursor.execute(self._sql(sql, params), params)
        else:
            self.connection.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement per row of parameters."""
        if not rows:
            return
        if self.kind == "postgres":
            from psycopg2.extras import execute_batch

            with self.connection.cursor() as cursor:
                execute_batch(cursor, self._sql(sql, rows[0]), rows, page_size=500)
        else:
            self.connection.executemany(sql, rows)

    def upsert(self, table: str, values: dict[str, Any], key: tuple[str, ...]) -> None:
        """Insert one row, or update the row with the same key columns."""
        columns = list(values)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
        self.execute(
            f"insert into {table} ({', '.join(columns)}) values ({', '.join('?' for _ in columns)}) "
            f"on conflict ({', '.join(key)}) do update set {updates}",
            list(values.values()),
        )

    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        """Every row of a query."""
        params = self._used(sql, params)
        if self.kind == "postgres":
            with self.connection.cursor() as cursor:
                cursor.execute(self._sql(sql, params), params)
                return [tuple(row) for row in cursor.fetchall()]
        return [tuple(row) for row in self.connection.execute(sql, params).fetchall()]

    def value(self, sql: str, params: Params = None) -> Any:
        """The first column of the first row (None when there is no row)."""
        found = self.rows(sql, params)
        return found[0][0] if found else None

    def stream(self, sql: str, params: Params = None, rows: int = 100_000) -> Iterator[pd.DataFrame]:
        """The result as pandas frames of at most `rows` rows, read in bounded memory."""
        params = self._used(sql, params)
        if self.kind == "postgres":
            # a server-side (named) cursor lives in a transaction
            self.connection.autocommit = False
            try:
                with self.connection.cursor(name="onboard_stream") as cursor:
                    cursor.itersize = rows
                    cursor.execute(self._sql(sql, params), params)
                    while True:
                        batch = cursor.fetchmany(rows)
                        if not batch:
                            break
                        yield pd.DataFrame(batch, columns=[d[0] for d in cursor.description])
                self.connection.commit()
            finally:
                if self.connection.status != 1:  # not ready: the generator was abandoned mid-read
                    self.connection.rollback()
                self.connection.autocommit = True
            return
        reader = self.connection.execute(sql, params).fetch_record_batch(rows)
        for record_batch in reader:
            if record_batch.num_rows:
                yield record_batch.to_pandas()

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """Hold the lock called `name` in the block: True, or False when another session holds it.

        On PostgreSQL a session-level advisory lock, freed by the server if the process dies.
        A DuckDB file (and the Spark state store, one) has one writing process at a time
        already, so there the lock is always this session's.
        """
        if self.kind != "postgres":
            yield True
            return
        if not self.value("select pg_try_advisory_lock(hashtext(?))", [name]):
            yield False
            return
        try:
            yield True
        finally:
            self.execute("select pg_advisory_unlock(hashtext(?))", [name])

    def table_exists(self, schema: str, table: str) -> bool:
        """Whether schema.table exists."""
        return bool(
            self.value(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                [schema, table],
            )
        )

    def columns(self, schema: str, table: str) -> list[str]:
        """The column names of schema.table in column order (none when it does not exist)."""
        return [
            str(name)
            for (name,) in self.rows(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            )
        ]

    def tables(self, schema: str) -> set[str]:
        """The tables and views of a schema."""
        return {
            str(row[0])
            for row in self.rows(
                "select table_name from information_schema.tables where table_schema = ?", [schema]
            )
        }

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Statements inside commit together or not at all."""
        if self.kind == "postgres":
            self.connection.autocommit = False
            try:
                yield
                self.connection.commit()
            except BaseException:
                self.connection.rollback()
                raise
            finally:
                self.connection.autocommit = True
            return
        self.connection.execute("begin transaction")
        try:
            yield
            self.connection.execute("commit")
        except BaseException:
            self.connection.execute("rollback")
            raise


@contextmanager
def database(target: Target, *, read_only: bool = False) -> Iterator[Database]:
    """A Database on the target, closed on exit; read_only for commands that only read (see connect)."""
    with connect(target, read_only=read_only) as connection:
        yield Database(target, connection)
