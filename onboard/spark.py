"""The Spark target: one local SparkSession per process, and raw tables as Parquet.

`method: session` (profiles.yml) runs Spark inside the process, with an embedded Derby
metastore that only one JVM may open at a time. So everything onboard does on Spark —
load and dbt — shares this process's one session: dbt runs in-process
(onboard/dbt_runner.py) and its adapter's `SparkSession.builder.getOrCreate()` finds the
session made here, with the same settings (the profile's server_side_parameters).

Raw tables are external Parquet tables under `$ONBOARD_SPARK_DIR/raw/<table>/`: DuckDB
writes each load as one Parquet file (every column text, `_loaded_at` a UTC timestamp),
the files go in place only after every table was written, and `refresh table` makes Spark
see them. A full load replaces a table's files; `--append` adds one.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from onboard.raw_tables import LOADED_AT_COLUMN, RAW_TABLES
from onboard.warehouse import Target

#: Spark's driver binds here unless the user says otherwise (no network interface needed).
LOCAL_IP = "127.0.0.1"


def session(target: Target) -> Any:
    """This process's SparkSession for the target (created on first use)."""
    os.environ.setdefault("SPARK_LOCAL_IP", LOCAL_IP)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        from onboard.errors import UsageError

        raise UsageError(
            "the spark target needs pyspark: run `make spark-install` and use .venv-spark/bin/onboard"
        ) from None
    target.spark_dir.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for name, value in (target.settings.get("server_side_parameters") or {}).items():
        builder = builder.config(str(name), str(value))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


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
