"""Raw tables on the Spark target: external Parquet tables, one file per load.

Raw tables are external Parquet tables under `$ONBOARD_SPARK_DIR/raw/<table>/`: DuckDB
writes each load as one Parquet file (every column text, `_loaded_at` a UTC timestamp),
the files go in place only after every table was written, and `refresh table` makes Spark
see them. A full load replaces a table's files; `--append` adds one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from onboard.core.raw_tables import LOADED_AT_COLUMN, RAW_TABLES
from onboard.core.spark_session import session
from onboard.core.targets import Target


def raw_dir(target: Target, schema: str, table: str) -> Path:
    """The folder of a raw table's Parquet files."""
    return target.spark_dir / schema / table


def publish_raw_tables(target: Target, schema: str, written: dict[str, Path], append: bool) -> None:
    """Move each table's new Parquet file into its folder and (re)register the table."""
    spark = session(target)
    spark.sql(f"create database if not exists {schema}")
    for table, file in written.items():
        folder = raw_dir(target, schema, table)
        folder.mkdir(parents=True, exist_ok=True)
        if not append:
            for old in folder.glob("*.parquet"):
                old.unlink()
        shutil.move(str(file), folder / file.name)
        column_list = ", ".join(f"{name} string" for name in RAW_TABLES[table])
        spark.sql(
            f"create table if not exists {schema}.{table} ({column_list}, {LOADED_AT_COLUMN} timestamp) "
            f"using parquet location '{folder}'"
        )
        spark.sql(f"refresh table {schema}.{table}")
