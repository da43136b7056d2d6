"""The same project on Spark (dbt-spark, local session): load, build, incremental, marts equal DuckDB's.

Runs in .venv-spark (`make spark-test`); skipped where pyspark is not installed. Spark work
happens in this process (one local Spark, one Derby metastore per process), DuckDB's in dbt
child processes, on the same generated data and as_of: a full build as of the day before,
then the last day appended and an incremental build. Every mart must then hold the same
rows on both, cell by cell.
"""

from __future__ import annotations

import math
import os
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from benchmarks.pipeline import split_last_day
from onboard.core import spark_session as spark_module
from onboard.core.as_of import dbt_as_of
from onboard.core.dbt import run_dbt
from onboard.core.paths import PROJECT_DIR
from onboard.core.targets import Target, resolve_target
from onboard.core.warehouse import connect
from onboard.generate import GenerateOptions, generate
from onboard.load import load
from onboard.validate.runner import ValidationOutcome, validate

from .conftest import allow_replayed_builds, sync_both_to_fakes

pytest.importorskip("pyspark")

pytestmark = [pytest.mark.slow, pytest.mark.spark]

AS_OF = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
DAY_BEFORE = AS_OF - timedelta(days=1)
MARTS = sorted(path.stem for path in (PROJECT_DIR / "models" / "marts").glob("*.sql"))


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> tuple[Target, Target]:
    """DuckDB and Spark, each loaded and built the same way: full build, one more day, incremental."""
    # pyspark turns timestamps into the Python process's local time: make that UTC
    os.environ["TZ"] = "UTC"
    time.tzset()
    folder = tmp_path_factory.mktemp("spark")
    data, day0, day1 = folder / "data", folder / "day0", folder / "day1"
    generate(data, GenerateOptions(customers=400, seed=11, as_of=AS_OF))
    split_last_day(data, day0, day1, DAY_BEFORE)

    os.environ["ONBOARD_SPARK_DIR"] = str(folder / "spark")
    spark = resolve_target("spark")
    duck = Target("duckdb", "duckdb", {"type": "duckdb", "path": str(folder / "w.duckdb"), "schema": "main"})
    for target in (duck, spark):
        load(day0, target)
        assert run_dbt("build", target, {"as_of": dbt_as_of(DAY_BEFORE)}, ["--full-refresh"]) == 0
        # the unit tests that read the built model's own table (left out of a first build)
        assert (
            run_dbt("test", target, {"as_of": dbt_as_of(DAY_BEFORE)}, ["--select", "tag:needs_built_model"])
            == 0
        )
        load(day1, target, append=True)
        assert run_dbt("build", target, {"as_of": dbt_as_of(AS_OF)}, ["--exclude", "test_type:unit"]) == 0
    return duck, spark


def _cell(value: Any) -> Any:
    """One value in a form both engines agree on (floats to 9 significant digits)."""
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return None if math.isnan(value) else float(f"{value:.9g}")
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _table(columns: list[str], rows: list[tuple[Any, ...]]) -> tuple[list[str], list[tuple[Any, ...]]]:
    cells = [tuple(_cell(value) for value in row) for row in rows]
    return [c.lower() for c in columns], sorted(cells, key=lambda row: [repr(v) for v in row])


def _duckdb_table(target: Target, relation: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    with duckdb.connect(str(target.duckdb_path), read_only=True) as connection:
        cursor = connection.execute(f"select * from {relation}")
        columns = [d[0] for d in cursor.description]
        return _table(columns, [tuple(row) for row in cursor.fetchall()])


def _spark_table(target: Target, relation: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    frame = spark_module.session(target).table(relation)
    return _table(frame.columns, [tuple(row) for row in frame.collect()])


@pytest.mark.parametrize("mart", MARTS)
def test_each_mart_on_spark_equals_duckdbs_cell_by_cell(warehouses: tuple[Target, Target], mart: str):
    duck, spark = warehouses
    duck_columns, duck_rows = _duckdb_table(duck, f"main.{mart}")
    spark_columns, spark_rows = _spark_table(spark, f"main.{mart}")
    assert spark_columns == duck_columns
    assert len(duck_rows) > 0
    assert len(spark_rows) == len(duck_rows)
    for duck_row, spark_row in zip(duck_rows, spark_rows, strict=True):
        assert spark_row == duck_row


def test_the_incremental_spark_events_equal_duckdbs(warehouses: tuple[Target, Target]):
    """Partitions overwritten by the incremental run lose and duplicate nothing."""
    duck, spark = warehouses
    relation = "main_staging.base_product__events"
    columns = "event_id, unusable_reason, copies_received, first_loaded_on"
    with duckdb.connect(str(duck.duckdb_path), read_only=True) as connection:
        expected = sorted(connection.execute(f"select {columns} from {relation}").fetchall())
    rows = spark_module.session(spark).sql(f"select {columns} from {relation}").collect()
    assert sorted(tuple(row) for row in rows) == expected
    assert len({row[0] for row in expected}) == len(expected)


def test_the_state_store_reads_each_mart_as_spark_wrote_it(warehouses: tuple[Target, Target]):
    """onboard's sync, alerts and report read Spark's marts from its Parquet files."""
    duck, spark = warehouses
    with connect(spark) as connection:
        for mart in MARTS:
            cursor = connection.execute(f"select * from main.{mart}")
            columns = [d[0] for d in cursor.description]
            assert _table(columns, [tuple(row) for row in cursor.fetchall()]) == _duckdb_table(
                duck, f"main.{mart}"
            ), mart


def _expectations(outcome: ValidationOutcome) -> list[tuple[Any, ...]]:
    return sorted(
        (e.suite, e.check, e.event, e.prop, e.rows, e.failing, e.outcome)
        for suite in outcome.suites
        for e in suite.expectations
    )


def test_validation_on_spark_judges_the_raw_rows_as_on_duckdb(
    warehouses: tuple[Target, Target], tmp_path: Path
):
    duck, spark = (validate(target, results_dir=tmp_path / target.name) for target in warehouses)
    assert spark.rows == duck.rows
    assert duck.rows > 10_000
    assert spark.status == duck.status
    assert _expectations(spark) == _expectations(duck)
    assert any(e[5] for e in _expectations(duck))  # the generated defects are found on both


def test_a_sync_from_spark_sends_what_the_duckdb_build_sends(
    warehouses: tuple[Target, Target], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Real syncs against the fake HubSpot and Customer.io: the same records land from both
    engines, and the sync state kept in Spark's state store makes the next run send nothing."""
    allow_replayed_builds(tmp_path, monkeypatch)
    monkeypatch.setenv("ONBOARD_SYNC_RESULTS_DIR", str(tmp_path / "results"))
    received = [sync_both_to_fakes(target, monkeypatch) for target in warehouses]
    duck_received, spark_received = received
    assert len(duck_received[0]) > 300
    assert len(duck_received[1]) > 300
    assert spark_received == duck_received
