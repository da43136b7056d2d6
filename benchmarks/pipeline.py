"""The pipeline at scale: generate, load, validate, build and plan a sync; time and peak memory of each step.

Every step is the `onboard` CLI in its own process, measured by benchmarks/measure.py; the
data split between the two loads runs in a child too, so this process stays small. Results
go to docs/benchmarks.md (make bench, bench-10m, bench-spark).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from benchmarks.measure import ONBOARD, run_measured, write_section
from onboard.core.as_of import dbt_as_of
from onboard.core.logs import log
from onboard.core.paths import PROJECT_DIR

DEFAULT_SIZES = (100_000, 1_000_000)
WORK_DIR = PROJECT_DIR / "data" / "bench"
TARGETS = ("duckdb", "spark")


@dataclass(frozen=True)
class StepResult:
    """One measured step."""

    customers: int
    step: str
    seconds: float
    peak_rss_mb: float
    detail: str = ""


def split_last_day(data_dir: Path, day0: Path, day1: Path, cut: datetime) -> int:
    """Events received after cut go to day1 (the next day's load); the rest and other tables to day0."""
    for folder in (day0, day1):
        folder.mkdir(parents=True, exist_ok=True)
    stamp = cut.strftime("%Y-%m-%dT%H:%M:%SZ")
    source = data_dir / "events.parquet"
    with duckdb.connect() as connection:
        connection.execute("set enable_progress_bar = false")
        connection.execute(
            f"copy (select * from read_parquet('{source}') where received_at is null "
            f"or received_at <= '{stamp}') to '{day0 / 'events.parquet'}' (format parquet)"
        )
        connection.execute(
            f"copy (select * from read_parquet('{source}') where received_at > '{stamp}') "
            f"to '{day1 / 'events.parquet'}' (format parquet)"
        )
        row = connection.execute(f"select count(*) from read_parquet('{day1 / 'events.parquet'}')").fetchone()
    for table in ("accounts", "subscriptions", "email_events", "routing_audits"):
        shutil.copy(data_dir / f"{table}.parquet", day0 / f"{table}.parquet")
    return int(row[0]) if row else 0


def bench_size(
    customers: int,
    work_dir: Path,
    as_of: datetime,
    target: str = "duckdb",
    on_step: Callable[[StepResult], None] = lambda result: None,
    build_args: tuple[str, ...] = (),
) -> list[StepResult]:
    """Generate, load, validate, full build, a one-day incremental build and the sync plan at one size.

    On Spark the same steps: validate and the sync plan read Spark's files through the
    state store (onboard/core/spark_state_store.py). on_step sees each result as soon as it is
    measured. The generated Parquet files are removed once loaded: the warehouse holds the
    data, and at the largest sizes the disk would not hold both. build_args go to both builds
    (the harness's own test builds the models only: `--exclude`, the tests' selectors).
    """
    data_dir = work_dir / f"data_{customers}"
    warehouse = work_dir / f"bench_{customers}.duckdb"
    spark_dir = work_dir / f"spark_{customers}"
    for path in (data_dir, work_dir / f"day0_{customers}", work_dir / f"day1_{customers}", spark_dir):
        shutil.rmtree(path, ignore_errors=True)
    warehouse.unlink(missing_ok=True)
    env = {
        **os.environ,
        "ONBOARD_TARGET": target,
        "ONBOARD_DUCKDB_PATH": str(warehouse),
        "ONBOARD_SPARK_DIR": str(spark_dir),
        "ONBOARD_VALIDATION_RESULTS_DIR": str(work_dir / f"validation_{customers}"),
        "ONBOARD_SYNC_RESULTS_DIR": str(work_dir / f"sync_{customers}"),
    }
    results: list[StepResult] = []

    seconds, rss = run_measured(
        [
            ONBOARD,
            "generate",
            str(data_dir),
            "--customers",
            str(customers),
            "--as-of",
            as_of.isoformat(),
        ],
        env,
    )
    events = json.loads((data_dir / "manifest.json").read_text())["events"]["rows"]
    results.append(StepResult(customers, "generate", seconds, rss, f"{events:,} event rows"))
    on_step(results[-1])

    day0, day1 = work_dir / f"day0_{customers}", work_dir / f"day1_{customers}"
    previous_day = as_of - timedelta(days=1)
    split = (
        "from datetime import datetime; from pathlib import Path; "
        "from benchmarks.pipeline import split_last_day; "
        f"print(split_last_day(Path({str(data_dir)!r}), Path({str(day0)!r}), Path({str(day1)!r}), "
        f"datetime.fromisoformat({previous_day.isoformat()!r})))"
    )
    output = subprocess.run(
        [sys.executable, "-c", split], cwd=PROJECT_DIR, check=True, capture_output=True, text=True
    ).stdout
    new_rows = int(output.strip().splitlines()[-1])
    shutil.rmtree(data_dir)

    def measure(step: str, args: list[str], detail: str) -> None:
        seconds, rss = run_measured([ONBOARD, *args], env)
        results.append(StepResult(customers, step, seconds, rss, detail))
        on_step(results[-1])

    measure("load", ["load", str(day0)], f"{events - new_rows:,} event rows")
    shutil.rmtree(day0)
    measure("validate", ["validate"], f"{events - new_rows:,} event rows, GX")
    measure(
        "full build",
        ["build", "--as-of", dbt_as_of(previous_day), "--full-refresh", *build_args],
        "dbt build incl. tests",
    )
    measure("load one day (append)", ["load", str(day1), "--append"], f"{new_rows:,} event rows")
    shutil.rmtree(day1)
    measure("validate one day", ["validate"], f"{new_rows:,} new event rows")
    measure(
        "one-day incremental build",
        ["build", "--as-of", dbt_as_of(as_of), *build_args],
        "dbt build incl. tests",
    )
    measure("sync plan (dry run)", ["sync", "all", "--dry-run"], "hubspot + customerio")
    return results


def render_markdown(results: list[StepResult], target: str = "duckdb") -> str:
    """The benchmark table as Markdown, with the machine it ran on."""
    lines = [
        "| customers | step | time (s) | peak RSS (MB) | notes |",
        "|---:|---|---:|---:|---|",
    ]
    lines += [
        f"| {r.customers:,} | {r.step} | {r.seconds:.1f} | {r.peak_rss_mb:,.0f} | {r.detail} |"
        for r in results
    ]
    engine = f"DuckDB {duckdb.__version__}"
    if target == "spark":
        from importlib.metadata import version

        engine = f"Spark {version('pyspark')} (local[2], dbt-spark session)"
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {engine}"
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    return f"Measured {when} on {machine}.\n\n" + "\n".join(lines) + "\n"


def run_bench(
    sizes: list[int],
    work_dir: Path,
    output: Path | None,
    section: str = "bench",
    target: str = "duckdb",
    build_args: tuple[str, ...] = (),
) -> list[StepResult]:
    """Run every size; write the table into output between the section's markers.

    The table is rewritten after every step, so a long run that stops (disk, time) keeps
    the steps it measured; each step is logged as it ends.
    """
    if target not in TARGETS:
        raise ValueError(f"target {target!r}: expected one of {', '.join(TARGETS)}")
    work_dir.mkdir(parents=True, exist_ok=True)
    as_of = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    results: list[StepResult] = []

    def record(result: StepResult) -> None:
        results.append(result)
        log(
            "bench.step",
            customers=result.customers,
            step=result.step,
            seconds=round(result.seconds, 1),
            peak_rss_mb=round(result.peak_rss_mb),
        )
        if output is not None:
            write_section(output, render_markdown(results, target), section)

    for customers in sizes:
        bench_size(customers, work_dir, as_of, target, on_step=record, build_args=build_args)
    return results
