"""Onboard's own tables beside a local Spark: a DuckDB file that reads Spark's Parquet files.

Validation runs, sync state and the alert log need small transactional writes, which plain
Parquet tables on Spark do not offer. On the Spark target they live in a DuckDB file,
`$ONBOARD_SPARK_DIR/onboard.duckdb` (the state store), and what onboard reads from Spark
comes straight from the files Spark wrote, as views the store re-creates each time it is
opened:

- `raw.<table>`: the raw tables' Parquet files (`$ONBOARD_SPARK_DIR/raw/<table>/`), with
  `_loaded_at` as the naive UTC timestamp the DuckDB target has;
- `<schema>.<table>`: every table dbt built (`$ONBOARD_SPARK_DIR/warehouse/<schema>.db/<table>/`,
  partition folders included).

So `onboard validate`, `sync`, `alerts` and `report` run against Spark's data without a
JVM, and the SQL they send is the DuckDB target's. Views in the store are all mirrors:
onboard's own relations are tables, and a mirror whose folder is gone is dropped.
Spark views (dbt `view` models) have no files; the models onboard reads are tables on Spark.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from onboard.core.errors import UsageError
from onboard.core.raw_tables import LOADED_AT_COLUMN
from onboard.core.sql_literal import quote_literal
from onboard.core.targets import Target

STATE_FILE = "onboard.duckdb"
MEMORY_LIMIT_VARIABLE = "ONBOARD_DUCKDB_MEMORY_LIMIT"


def state_path(target: Target) -> Path:
    """The state store of a local Spark."""
    return target.spark_dir / STATE_FILE


def spark_tables(spark_dir: Path) -> dict[tuple[str, str], str]:
    """(schema, table) -> the select that reads it, for every raw and dbt table on disk."""
    tables: dict[tuple[str, str], str] = {}
    raw = spark_dir / "raw"
    for folder in sorted(raw.iterdir() if raw.is_dir() else []):
        if folder.is_dir() and any(folder.glob("*.parquet")):
            files = quote_literal(f"{folder}/*.parquet")
            tables[("raw", folder.name)] = (
                f"select * replace (cast({LOADED_AT_COLUMN} as timestamp) as {LOADED_AT_COLUMN}) "
                f"from read_parquet({files})"
            )
    warehouse = spark_dir / "warehouse"
    for database in sorted(warehouse.glob("*.db") if warehouse.is_dir() else []):
        for folder in sorted(database.iterdir()):
            if folder.is_dir() and any(folder.rglob("*.parquet")):
                files = quote_literal(f"{folder}/**/*.parquet")
                tables[(database.name.removesuffix(".db"), folder.name)] = (
                    f"select * from read_parquet({files}, hive_partitioning = true)"
                )
    return tables


def mirror_spark_tables(connection: Any, spark_dir: Path) -> None:
    """(Re)create a view per Spark table in the store; drop the mirrors of tables gone."""
    tables = spark_tables(spark_dir)
    views = connection.execute(
        "select schema_name, view_name from duckdb_views() "
        "where not internal and database_name = current_database()"
    ).fetchall()
    connection.execute("begin transaction")
    try:
        for schema, view in views:
            if (schema, view) not in tables:
                connection.execute(f'drop view "{schema}"."{view}"')
        for (schema, table), select in tables.items():
            connection.execute(f'create schema if not exists "{schema}"')
            connection.execute(f'create or replace view "{schema}"."{table}" as {select}')
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise


def open_state_store(target: Target) -> Any:
    """A DuckDB connection to the Spark target's state store, its mirrors up to date."""
    import duckdb

    if target.settings.get("method") != "session":
        raise UsageError(
            f"--target {target.name}: onboard validate, sync, alerts and report read a local Spark's "
            "files (method: session); on a cluster run them against a copy of the marts (docs/spark.md)"
        )
    target.spark_dir.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(state_path(target)))
    connection.execute("set TimeZone = 'UTC'")
    # the same cap as the duckdb target's (profiles.yml): validation reads every raw row
    connection.execute(f"set memory_limit = {quote_literal(os.environ.get(MEMORY_LIMIT_VARIABLE) or '4GB')}")
    mirror_spark_tables(connection, target.spark_dir)
    return connection
