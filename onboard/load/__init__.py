"""`onboard load`: raw files (CSV or Parquet, named after the table) into schema `raw`.

Raw is raw (docs/definitions.md#raw-tables): every value is stored as text exactly as it came, and each row
is stamped with `_loaded_at`. Only what cannot be read is refused (a missing file or column,
an unreadable or empty file, a CSV that is not UTF-8 text: csv_text.py), before anything is
written; all tables load in one transaction, so a refused load leaves the warehouse as it was.
Bad values inside a readable file are kept and counted in the report; staging sets their rows
aside with a reason. An append of a file already loaded into its table is refused unless
`allow_duplicate` (ledger.py): raw keeps every row it is given, so a repeat is a mistake to catch.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pyarrow.csv as pa_csv

from onboard.core.errors import InputError, UsageError
from onboard.core.raw_tables import (
    FILE_FORMATS,
    KEY_COLUMNS,
    LOADED_AT_COLUMN,
    RAW_TABLES,
    TIMESTAMP_COLUMNS,
)
from onboard.core.sql_literal import quote_literal
from onboard.core.targets import Target
from onboard.core.warehouse import connect
from onboard.load import ledger
from onboard.load.csv_text import check_utf8_and_hash, csv_header, delimiter_problem
from onboard.load.ledger import LoadedFile

COPY_BATCH_ROWS = 200_000


@dataclass(frozen=True)
class SourceFile:
    """One raw file found in the load folder."""

    table: str
    path: Path
    fmt: str

    @property
    def reader(self) -> str:
        """A DuckDB table function reading the file, every column as text.

        CSV is read with a fixed dialect (comma, double quotes, header row) and the header's
        own names: no sniffing, so a ragged row or an open quote is an error, not a guess.
        """
        if self.fmt == "parquet":
            return f"read_parquet({quote_literal(str(self.path))})"
        columns = ", ".join(f"{quote_literal(name)}: 'VARCHAR'" for name in csv_header(self.path))
        return (
            f"read_csv({quote_literal(str(self.path))}, auto_detect = false, header = true, "
            f"delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
            f"null_padding = false, columns = {{{columns}}})"
        )


@dataclass
class TableLoad:
    """What one table received."""

    table: str
    file: str
    rows: int
    bad_values: dict[str, int] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)
    sha256: str = ""


@dataclass
class LoadReport:
    """The outcome of one `onboard load`."""

    target: str
    mode: str
    loaded_at: datetime
    tables: list[TableLoad]
    ignored_files: list[str]

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


def find_source_files(directory: Path, append: bool) -> tuple[list[SourceFile], list[str]]:
    """The raw files in directory, and the names of the files it ignores."""
    if not directory.is_dir():
        raise UsageError(f"{directory}: not a folder")
    found: list[SourceFile] = []
    for table in RAW_TABLES:
        candidates = [directory / f"{table}.{fmt}" for fmt in FILE_FORMATS]
        present = [path for path in candidates if path.is_file()]
        if len(present) > 1:
            raise InputError(f"{directory}: both {present[0].name} and {present[1].name}; keep one per table")
        if present:
            found.append(SourceFile(table, present[0], present[0].suffix.lstrip(".")))
        elif not append:
            raise InputError(
                f"{directory / (table + '.parquet')}: missing file (or {table}.csv); a full load "
                "needs every raw table (use --append to load only some)"
            )
    if not found:
        raise InputError(f"{directory}: no raw files (expected {', '.join(RAW_TABLES)} as .csv or .parquet)")
    known = {source.path.name for source in found}
    ignored = sorted(p.name for p in directory.iterdir() if p.is_file() and p.name not in known)
    return found, ignored


def _first_line(error: Exception) -> str:
    """DuckDB's reason in one line: the error and, for CSV, the line and what was expected."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    kept = [lines[0].removeprefix("Invalid Input Error: ")]
    kept += [line for line in lines[1:4] if line.startswith(("Expected", "Original Line"))]
    return "; ".join(kept)


def inspect_source(scratch: duckdb.DuckDBPyConnection, source: SourceFile) -> TableLoad:
    """Read a file's columns and count its rows and unparseable values; refuse the unreadable."""
    name = source.path.name
    if source.path.stat().st_size == 0:
        raise InputError(f"{source.path}: empty file (expected a header and rows)")
    # CSV bytes are checked before DuckDB reads them (csv_text.py), header first; one pass hashes them
    if source.fmt == "csv":
        csv_header(source.path)
        sha256 = check_utf8_and_hash(source.path)
    else:
        sha256 = ledger.file_sha256(source.path)
    try:
        columns = [row[0] for row in scratch.execute(f"describe select * from {source.reader}").fetchall()]
    except duckdb.Error as error:
        raise InputError(f"{source.path}: unreadable {source.fmt.upper()}: {_first_line(error)}") from None
    expected = RAW_TABLES[source.table]
    missing = [column for column in expected if column not in columns]
    if missing:
        raise InputError(_missing_column(source, columns, missing[0]))
    checks = [
        f"count(*) filter (where coalesce({c}, '') = '') as \"{c} missing\""
        for c in KEY_COLUMNS[source.table]
    ]
    checks += [
        f"count(*) filter (where {c} is not null and {c} <> '' "
        f'and try_cast({c} as timestamptz) is null) as "{c} not a timestamp"'
        for c in TIMESTAMP_COLUMNS[source.table]
    ]
    # every column is read, as the load will: a Parquet string that is not UTF-8 is refused here
    checks.append(f"max(length(concat({', '.join(expected)}))) as read_every_column")
    text_columns = ", ".join(f"cast({c} as varchar) as {c}" for c in expected)
    sql = f"select count(*) as rows, {', '.join(checks)} from (select {text_columns} from {source.reader})"
    try:
        cursor = scratch.execute(sql)
        values = cursor.fetchone()
        labels = [d[0] for d in cursor.description]
    except duckdb.Error as error:
        raise InputError(f"{source.path}: unreadable {source.fmt.upper()}: {_first_line(error)}") from None
    assert values is not None
    if values[0] == 0:
        raise InputError(f"{source.path}: empty file (a header but no rows)")
    bad = {label: int(count) for label, count in zip(labels[1:-1], values[1:-1], strict=True) if count}
    extra = [column for column in columns if column not in expected]
    return TableLoad(source.table, name, int(values[0]), bad, extra, sha256)


def _missing_column(source: SourceFile, columns: list[str], missing: str) -> str:
    """Why a column is missing, when it can be told: another delimiter, or spaces or case in a name."""
    expected = RAW_TABLES[source.table]
    if source.fmt == "csv" and (problem := delimiter_problem(source.path, missing, expected)):
        return problem
    near = [column for column in columns if column.strip().lower() == missing]
    found = f"the header has {near[0]!r}; " if near else ""
    return f"{source.path}: missing column {missing} ({found}expected: {', '.join(expected)})"


def _select_sql(source: SourceFile, loaded_at: datetime, stamp_type: str = "timestamp") -> str:
    columns = ", ".join(f"cast({c} as varchar) as {c}" for c in RAW_TABLES[source.table])
    stamp = loaded_at.strftime("%Y-%m-%d %H:%M:%S.%f")
    return f"select {columns}, cast('{stamp}' as {stamp_type}) as {LOADED_AT_COLUMN} from {source.reader}"


def _next_loaded_at(latest: datetime | None) -> datetime:
    """Now (UTC, naive), strictly after the latest existing _loaded_at so a watermark moves on."""
    now = datetime.now(UTC).replace(tzinfo=None)
    if latest is not None and latest >= now:
        return latest + timedelta(microseconds=1)
    return now


def _create_sql(schema: str, table: str) -> str:
    columns = ", ".join(f"{c} text" for c in RAW_TABLES[table])
    return f"create table if not exists {schema}.{table} ({columns}, {LOADED_AT_COLUMN} timestamp not null)"


def _load_duckdb(
    target: Target, schema: str, sources: list[SourceFile], append: bool, files: list[LoadedFile], allow: bool
) -> datetime:
    with connect(target) as connection:
        connection.execute("begin transaction")
        try:
            connection.execute(f"create schema if not exists {schema}")
            loaded_at = _next_loaded_at(_latest_loaded_at(connection, schema, sources))
            ledger.check_and_record(connection, schema, files, loaded_at, append, allow)
            for source in sources:
                table = f"{schema}.{source.table}"
                connection.execute(_create_sql(schema, source.table))
                if not append:
                    # emptied, not dropped: views built on the raw tables stay valid
                    connection.execute(f"delete from {table}")
                connection.execute(f"insert into {table} " + _select_sql(source, loaded_at))
            connection.execute("commit")
        except Exception:
            connection.execute("rollback")
            raise
    return loaded_at


def _latest_loaded_at(connection: Any, schema: str, sources: list[SourceFile]) -> datetime | None:
    """The latest _loaded_at already in the tables about to be loaded, if any."""
    cursor = connection.cursor()
    stamps: list[datetime] = []
    for source in sources:
        cursor.execute(
            "select count(*) from information_schema.tables "
            f"where table_schema = '{schema}' and table_name = '{source.table}'"
        )
        if cursor.fetchone()[0]:
            cursor.execute(f"select max({LOADED_AT_COLUMN}) from {schema}.{source.table}")
            value = cursor.fetchone()[0]
            if value is not None:
                stamps.append(value)
    return max(stamps, default=None)


def _load_postgres(
    target: Target,
    schema: str,
    sources: list[SourceFile],
    append: bool,
    scratch: duckdb.DuckDBPyConnection,
    progress: Callable[[int], None] | None,
    files: list[LoadedFile],
    allow: bool,
) -> datetime:
    with connect(target) as connection:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"create schema if not exists {schema}")
                loaded_at = _next_loaded_at(_latest_loaded_at(connection, schema, sources))
                ledger.check_and_record(cursor, schema, files, loaded_at, append, allow)
                for source in sources:
                    cursor.execute(_create_sql(schema, source.table))
                    if not append:
                        # truncated, not dropped: the staging views depend on the raw tables
                        cursor.execute(f"truncate table {schema}.{source.table}")
                    columns = ", ".join((*RAW_TABLES[source.table], LOADED_AT_COLUMN))
                    copy_sql = f"copy {schema}.{source.table} ({columns}) from stdin with (format csv)"
                    reader = scratch.execute(_select_sql(source, loaded_at)).fetch_record_batch(
                        COPY_BATCH_ROWS
                    )
                    options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
                    for batch in reader:
                        buffer = io.BytesIO()
                        pa_csv.write_csv(batch, buffer, write_options=options)
                        buffer.seek(0)
                        try:
                            cursor.copy_expert(copy_sql, buffer)
                        except psycopg2.DataError as error:
                            raise InputError(
                                f"{source.path}: PostgreSQL refused a value: {_first_line(error)}"
                            ) from None
                        if progress:
                            progress(batch.num_rows)
            connection.commit()
        except Exception:
            connection.rollback()
            raise
    return loaded_at


def _load_spark(
    target: Target,
    schema: str,
    sources: list[SourceFile],
    append: bool,
    scratch: duckdb.DuckDBPyConnection,
    files: list[LoadedFile],
    allow: bool,
) -> datetime:
    """Each table as one Parquet file written by DuckDB, published to Spark once all are written.

    The ledger (ledger.py) is checked before anything is written and replaced after the tables
    are published, so a refused append leaves every file as it was.
    """
    from onboard.load import spark_raw

    ledger_file = ledger.parquet_ledger(target.spark_dir / schema)
    if append and not allow:
        recorded = ledger.read_parquet_ledger(scratch, ledger_file, [file.table for file in files])
        ledger.refuse_repeats(schema, recorded, files)
    stamps = []
    for source in sources:
        folder = spark_raw.raw_dir(target, schema, source.table)
        if any(folder.glob("*.parquet")):
            found = scratch.execute(
                f"select cast(max({LOADED_AT_COLUMN}) as timestamp) from read_parquet('{folder}/*.parquet')"
            ).fetchone()
            if found and found[0] is not None:
                stamps.append(found[0])
    loaded_at = _next_loaded_at(max(stamps, default=None))
    incoming = target.spark_dir / ".incoming"
    shutil.rmtree(incoming, ignore_errors=True)
    incoming.mkdir(parents=True)
    written: dict[str, Path] = {}
    for source in sources:
        path = incoming / f"{source.table}-{loaded_at:%Y%m%dT%H%M%S%f}.parquet"
        # timestamptz: Parquet's UTC-adjusted timestamp, which Spark reads as its own `timestamp`
        select = _select_sql(source, loaded_at, "timestamptz")
        scratch.execute(f"copy ({select}) to {quote_literal(str(path))} (format parquet)")
        written[source.table] = path
    new_ledger = incoming / ledger_file.name
    ledger.write_parquet_ledger(scratch, ledger_file, new_ledger, files, loaded_at, append)
    spark_raw.publish_raw_tables(target, schema, written, append)
    ledger_file.parent.mkdir(parents=True, exist_ok=True)
    new_ledger.replace(ledger_file)
    shutil.rmtree(incoming, ignore_errors=True)
    return loaded_at


def load(
    directory: Path,
    target: Target,
    append: bool = False,
    schema: str = "raw",
    progress: Callable[[int], None] | None = None,
    allow_duplicate: bool = False,
) -> LoadReport:
    """Load the raw files of directory into target's raw schema; all or nothing.

    An append of a file whose content was loaded into its table before is refused unless
    allow_duplicate (ledger.py): raw keeps every row it is given, so a repeat is a mistake to catch.
    """
    sources, ignored = find_source_files(directory, append)
    scratch = duckdb.connect()
    scratch.execute("set TimeZone = 'UTC'")
    try:
        tables = [inspect_source(scratch, source) for source in sources]
        files = [
            LoadedFile(table.table, str(source.path.resolve()), table.sha256, table.rows)
            for source, table in zip(sources, tables, strict=True)
        ]
        if target.type == "duckdb":
            loaded_at = _load_duckdb(target, schema, sources, append, files, allow_duplicate)
            if progress:
                progress(sum(t.rows for t in tables))
        elif target.type == "spark":
            loaded_at = _load_spark(target, schema, sources, append, scratch, files, allow_duplicate)
            if progress:
                progress(sum(t.rows for t in tables))
        else:
            loaded_at = _load_postgres(
                target, schema, sources, append, scratch, progress, files, allow_duplicate
            )
    finally:
        scratch.close()
    return LoadReport(target.name, "append" if append else "replace", loaded_at, tables, ignored)
