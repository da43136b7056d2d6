"""The Spark target's state store: views over the Parquet files a local Spark wrote.

No JVM here: the folders are laid out as Spark and `onboard load --target spark` lay them out
(written by DuckDB). tests/test_spark.py runs the same against a real Spark.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from onboard.core.errors import UsageError
from onboard.core.spark_state_store import state_path
from onboard.core.targets import Target
from onboard.core.warehouse import connect

SPARK = {"type": "spark", "method": "session", "schema": "main"}


@pytest.fixture
def spark_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ONBOARD_SPARK_DIR", str(tmp_path))
    with duckdb.connect() as scratch:
        scratch.execute("set TimeZone = 'UTC'")

        def write(select: str, path: Path, options: str = "") -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            scratch.execute(f"copy ({select}) to '{path}' (format parquet{options})")

        # the loader: text columns and a UTC _loaded_at, one file per load
        write(
            "select 'e1' as event_id, '{}' as properties, timestamptz '2026-03-15 09:30:00+00' as _loaded_at",
            tmp_path / "raw" / "events" / "events-1.parquet",
        )
        write(
            "select 'e2' as event_id, '{}' as properties, timestamptz '2026-03-16 10:00:00+00' as _loaded_at",
            tmp_path / "raw" / "events" / "events-2.parquet",
        )
        # a dbt table: part files beside Spark's _SUCCESS and .crc files
        mart = tmp_path / "warehouse" / "main.db" / "crm_contacts"
        write("select 'c1' as customer_id, 3 as milestone_score", mart / "part-00000-a.snappy.parquet")
        (mart / "_SUCCESS").write_text("")
        (mart / ".part-00000-a.snappy.parquet.crc").write_bytes(b"\x00")
        # a partitioned incremental table: one folder per first_loaded_on
        events = tmp_path / "warehouse" / "main_staging.db" / "base_product__events"
        write(
            "select * from (values ('e1', date '2026-03-15'), ('e2', date '2026-03-16')) "
            "as t(event_id, first_loaded_on)",
            events,
            ", partition_by (first_loaded_on)",
        )
        # a Spark view or a table being written: a folder without Parquet files
        (tmp_path / "warehouse" / "main.db" / "being_written").mkdir()
    return tmp_path


def target() -> Target:
    return Target("spark", "spark", SPARK)


def test_the_store_reads_raw_tables_with_a_naive_utc_loaded_at(spark_dir: Path):
    with connect(target()) as connection:
        rows = connection.execute("select event_id, _loaded_at from raw.events order by event_id").fetchall()
        kind = connection.execute("select typeof(_loaded_at) from raw.events limit 1").fetchone()
    assert rows == [("e1", datetime(2026, 3, 15, 9, 30)), ("e2", datetime(2026, 3, 16, 10, 0))]
    assert kind == ("TIMESTAMP",)
    assert state_path(target()) == spark_dir / "onboard.duckdb"
    assert state_path(target()).exists()


def test_the_store_reads_dbt_tables_and_their_partitions(spark_dir: Path):
    with connect(target()) as connection:
        contacts = connection.execute("select * from main.crm_contacts").fetchall()
        events = connection.execute(
            "select event_id, first_loaded_on from main_staging.base_product__events order by event_id"
        ).fetchall()
        tables = connection.execute(
            "select table_schema, table_name from information_schema.tables order by all"
        ).fetchall()
    assert contacts == [("c1", 3)]
    assert events == [("e1", date(2026, 3, 15)), ("e2", date(2026, 3, 16))]
    assert tables == [
        ("main", "crm_contacts"),
        ("main_staging", "base_product__events"),
        ("raw", "events"),
    ]


def test_a_table_spark_dropped_loses_its_view_and_onboards_own_tables_stay(spark_dir: Path):
    with connect(target()) as connection:
        connection.execute("create schema validation")
        connection.execute("create table validation.validation_runs (run_id text)")
        connection.execute("insert into validation.validation_runs values ('r1')")
    for part in (spark_dir / "warehouse" / "main.db" / "crm_contacts").iterdir():
        part.unlink()
    (spark_dir / "warehouse" / "main.db" / "crm_contacts").rmdir()
    with connect(target()) as connection:
        views = connection.execute(
            "select schema_name, view_name from duckdb_views() where not internal"
        ).fetchall()
        runs = connection.execute("select run_id from validation.validation_runs").fetchall()
    assert sorted(views) == [("main_staging", "base_product__events"), ("raw", "events")]
    assert runs == [("r1",)]


def test_new_raw_files_show_without_anything_else(spark_dir: Path):
    with connect(target()) as connection:
        assert connection.execute("select count(*) from raw.events").fetchone() == (2,)
    with duckdb.connect() as scratch:
        scratch.execute(
            "copy (select 'e3' as event_id, '{}' as properties, timestamptz '2026-03-17 00:00:00+00' "
            f"as _loaded_at) to '{spark_dir / 'raw' / 'events' / 'events-3.parquet'}' (format parquet)"
        )
    with connect(target()) as connection:
        assert connection.execute("select max(event_id), count(*) from raw.events").fetchone() == ("e3", 3)


def test_a_spark_cluster_is_refused_in_one_line(spark_dir: Path):
    cluster = Target("spark_cluster", "spark", {**SPARK, "method": "thrift"})
    with pytest.raises(UsageError) as raised, connect(cluster):
        pass
    assert str(raised.value) == (
        "--target spark_cluster: onboard validate, sync, alerts and report read a local Spark's files "
        "(method: session); on a cluster run them against a copy of the marts (docs/spark.md)"
    )
    assert not state_path(cluster).exists()


def test_the_store_takes_the_duckdb_memory_limit(spark_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ONBOARD_DUCKDB_MEMORY_LIMIT", "1GB")
    with connect(target()) as connection:
        assert connection.execute("select current_setting('memory_limit')").fetchone() == ("953.6 MiB",)
