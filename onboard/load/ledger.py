"""The files each raw table was loaded from: `<schema>._loaded_files`, so a re-load is noticed.

Raw tables keep every row they are given (staging de-duplicates), so appending the same file
twice would silently count its rows twice wherever staging cannot tell them apart (a routing
audit has no id). Each load records, per table, the SHA-256 of the file's bytes; an append of
a file whose content is already recorded for that table is refused unless the user says
`--allow-duplicate`. A full load replaces a table, so it replaces the table's records too.

On DuckDB and PostgreSQL the ledger is a table in the raw schema, written in the load's own
transaction. On Spark it is one Parquet file under `$ONBOARD_SPARK_DIR/<schema>/_loaded_files/`
(the state store mirrors it as `raw._loaded_files`), replaced once the tables are published.
Loads made before the ledger existed are not known to it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from onboard.core.errors import InputError
from onboard.core.raw_tables import LOADED_AT_COLUMN
from onboard.core.sql_literal import quote_literal

LEDGER_TABLE = "_loaded_files"
COLUMNS = ("table_name", "file_name", "file_sha256", "file_rows", LOADED_AT_COLUMN)


class Cursor(Protocol):
    """A DuckDB connection or a psycopg2 cursor: execute, then fetch."""

    def execute(self, sql: str, /) -> Any: ...

    def fetchall(self) -> list[Any]: ...


@dataclass(frozen=True)
class LoadedFile:
    """One file loaded into one raw table."""

    table: str
    file: str
    sha256: str
    rows: int
    loaded_at: datetime | None = None


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes: the same content under any name is the same file."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as error:
        raise InputError(f"{path}: cannot read the file ({error.strerror})") from None


def create_sql(schema: str) -> str:
    return (
        f"create table if not exists {schema}.{LEDGER_TABLE} (table_name text not null, "
        f"file_name text not null, file_sha256 text not null, file_rows bigint not null, "
        f"{LOADED_AT_COLUMN} timestamp not null)"
    )


def select_sql(relation: str, tables: list[str]) -> str:
    """The recorded files of the given tables, oldest first, from a table or a read_parquet()."""
    names = ", ".join(quote_literal(table) for table in tables)
    return (
        f"select {', '.join(COLUMNS)} from {relation} where table_name in ({names}) "
        f"order by {LOADED_AT_COLUMN}, table_name"
    )


def _stamp(value: datetime) -> str:
    return f"cast({quote_literal(value.strftime('%Y-%m-%d %H:%M:%S.%f'))} as timestamp)"


def values_sql(files: list[LoadedFile], loaded_at: datetime) -> str:
    """The rows recording files, as a select (a load's files all carry its _loaded_at)."""
    return " union all ".join(
        f"select {quote_literal(f.table)} as table_name, {quote_literal(f.file)} as file_name, "
        f"{quote_literal(f.sha256)} as file_sha256, cast({int(f.rows)} as bigint) as file_rows, "
        f"{_stamp(f.loaded_at or loaded_at)} as {LOADED_AT_COLUMN}"
        for f in files
    )


def rows_to_files(rows: list[Any]) -> list[LoadedFile]:
    return [LoadedFile(str(t), str(f), str(s), int(r), a) for t, f, s, r, a in rows]


def refuse_repeats(schema: str, recorded: list[LoadedFile], incoming: list[LoadedFile]) -> None:
    """Refuse the first incoming file whose content was loaded into its table before."""
    seen = {(f.table, f.sha256): f for f in recorded}
    for file in incoming:
        before = seen.get((file.table, file.sha256))
        if before is None:
            continue
        when = f"{before.loaded_at:%Y-%m-%d %H:%M:%S} UTC" if before.loaded_at else "earlier"
        same = "" if before.file == file.file else f" (same content as {before.file})"
        raise InputError(
            f"{file.file}: already loaded into {schema}.{file.table} at {when}{same}; loading it again "
            f"would count its {file.rows:,} rows twice (use --allow-duplicate to load it anyway)"
        )


def check_and_record(
    cursor: Cursor,
    schema: str,
    incoming: list[LoadedFile],
    loaded_at: datetime,
    append: bool,
    allow_duplicate: bool,
) -> None:
    """In the load's transaction: refuse a repeated append, then record the incoming files."""
    tables = [file.table for file in incoming]
    cursor.execute(create_sql(schema))
    if append and not allow_duplicate:
        cursor.execute(select_sql(f"{schema}.{LEDGER_TABLE}", tables))
        refuse_repeats(schema, rows_to_files(cursor.fetchall()), incoming)
    if not append:
        names = ", ".join(quote_literal(table) for table in tables)
        cursor.execute(f"delete from {schema}.{LEDGER_TABLE} where table_name in ({names})")
    cursor.execute(
        f"insert into {schema}.{LEDGER_TABLE} ({', '.join(COLUMNS)}) {values_sql(incoming, loaded_at)}"
    )


def parquet_ledger(folder: Path) -> Path:
    """The Spark target's ledger file, in its own folder beside the raw tables' folders."""
    return folder / LEDGER_TABLE / "loaded_files.parquet"


def read_parquet_ledger(scratch: Any, path: Path, tables: list[str]) -> list[LoadedFile]:
    """The recorded files of the given tables in a Parquet ledger (none if it does not exist)."""
    if not path.is_file():
        return []
    relation = f"read_parquet({quote_literal(str(path))})"
    return rows_to_files(scratch.execute(select_sql(relation, tables)).fetchall())


def write_parquet_ledger(
    scratch: Any, current: Path, new: Path, incoming: list[LoadedFile], loaded_at: datetime, append: bool
) -> None:
    """Write to `new` the ledger `current` would become once the incoming files are published."""
    select = values_sql(incoming, loaded_at)
    if current.is_file():
        kept = f"select {', '.join(COLUMNS)} from read_parquet({quote_literal(str(current))})"
        if not append:
            names = ", ".join(quote_literal(file.table) for file in incoming)
            kept += f" where table_name not in ({names})"
        select = f"{kept} union all {select}"
    scratch.execute(f"copy ({select}) to {quote_literal(str(new))} (format parquet)")
