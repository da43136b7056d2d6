"""`onboard bench`: generate, load and build at scale; time and peak memory of each step.

Every step runs as its own process (the `onboard` CLI, as a user would run it) and is
measured with os.wait4, whose rusage covers the process and the children it waited for
(dbt included). A forked child starts with its parent's memory high-water mark, so the
benchmark process itself stays small: the data split runs in a child too. Results go to
docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from onboard.core.as_of import dbt_as_of
from onboard.core.logs import log
from onboard.core.paths import PROJECT_DIR

ONBOARD = str(Path(sys.executable).parent / "onboard")


@dataclass(frozen=True)
class StepResult:
    """One measured step."""

    customers: int
    step: str
    seconds: float
    peak_rss_mb: float
    detail: str = ""


def _tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants now, in MB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21])  # resident pages
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def run_measured(args: list[str], env: dict[str, str], log_file: Path | None = None) -> tuple[float, float]:
    """Run a command; its wall seconds and peak RSS in MB.

    The peak is the larger of the process's and its waited-for children's high-water mark
    (os.wait4) and the process tree's resident memory sampled every half second: a JVM
    that Spark starts is killed, not waited for, when its parent exits, so only the
    samples see it. With log_file, the command's output goes there and its tail is in the
    error on failure.
    """
    with log_file.open("w") if log_file else open(os.devnull, "w") as output:
        started = time.perf_counter()
        stderr = subprocess.STDOUT if log_file else None
        process = subprocess.Popen(args, cwd=PROJECT_DIR, env=env, stdout=output, stderr=stderr)
        sampled = 0.0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            sampled = max(sampled, _tree_rss_mb(process.pid))
            time.sleep(0.5)
        seconds = time.perf_counter() - started
    code = process.returncode = os.waitstatus_to_exitcode(status)
    if code != 0:
        tail = f":\n{log_file.read_text()[-3000:]}" if log_file else ""
        raise RuntimeError(f"{' '.join(args[:4])} exited with {code}{tail}")
    return seconds, max(usage.ru_maxrss / 1024, sampled)


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
) -> list[StepResult]:
    """Generate, load, validate, full build, a one-day incremental build and the sync plan at one size.

    On Spark the same steps: validate and the sync plan read Spark's files through the
    state store (onboard/core/spark_state_store.py). on_step sees each result as soon as it is
    measured. The generated Parquet files are removed once loaded (the warehouse holds the
    data; at 10 M customers they take ~20 GB).
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
        "from datetime import datetime; from pathlib import Path; from onboard.bench import split_last_day; "
        f"print(split_last_day(Path({str(data_dir)!r}), Path({str(day0)!r}), Path({str(day1)!r}), "
        f"datetime.fromisoformat({previous_day.isoformat()!r})))"
    )
    output = subprocess.run([sys.executable, "-c", split], check=True, capture_output=True, text=True).stdout
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
        "full build", ["build", "--as-of", dbt_as_of(previous_day), "--full-refresh"], "dbt build incl. tests"
    )
    measure("load one day (append)", ["load", str(day1), "--append"], f"{new_rows:,} event rows")
    shutil.rmtree(day1)
    measure("validate one day", ["validate"], f"{new_rows:,} new event rows")
    measure("one-day incremental build", ["build", "--as-of", dbt_as_of(as_of)], "dbt build incl. tests")
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
    sizes: list[int], work_dir: Path, output: Path | None, section: str = "bench", target: str = "duckdb"
) -> list[StepResult]:
    """Run every size; write the table into output between the section's markers.

    The table is rewritten after every step, so a long run that stops (disk, time) keeps
    the steps it measured; each step is logged as it ends.
    """
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
        bench_size(customers, work_dir, as_of, target, on_step=record)
    return results


def write_section(path: Path, table: str, section: str = "bench") -> None:
    """Replace the text between the section's markers in path (or append them) with table."""
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{start}\n{table}{end}"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)
