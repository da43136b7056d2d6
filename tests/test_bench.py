"""The benchmarks (benchmarks/): their measurement, their command line, and that each still runs end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from benchmarks import sync as sync_bench
from benchmarks.measure import run_measured
from benchmarks.pipeline import run_bench
from benchmarks.synthetic_marts import make_warehouse, mart_relation
from onboard.core.paths import PROJECT_DIR
from sync.enumerations import column_values

# a parent that starts a child holding ~300 MB and kills it, never waiting for it: what
# Spark's JVM does to its Python parent (os.wait4's high-water mark never includes it)
UNWAITED_CHILD = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "x = bytearray(300_000_000); import time; time.sleep(30)"])
time.sleep(2.5)
child.kill()
"""


def test_peak_memory_counts_a_child_that_is_never_waited_for():
    seconds, peak_mb = run_measured([sys.executable, "-c", UNWAITED_CHILD], dict(os.environ))
    assert 2.5 <= seconds < 20
    assert peak_mb >= 300


def test_a_failing_command_raises_with_its_exit_code():
    try:
        run_measured([sys.executable, "-c", "raise SystemExit(3)"], dict(os.environ))
    except RuntimeError as error:
        assert "exited with 3" in str(error)
    else:
        raise AssertionError("no error")


@pytest.mark.parametrize("command", [None, "pipeline", "sync", "features", "moments"])
def test_the_benchmarks_command_line_has_help(command: str | None):
    args = [sys.executable, "-m", "benchmarks", *filter(None, [command]), "--help"]
    result = subprocess.run(args, cwd=PROJECT_DIR, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m benchmarks {command or ''}".rstrip())


def test_the_shipped_packages_hold_no_benchmark_code():
    for package in ("onboard", "sync"):
        for path in (PROJECT_DIR / package).rglob("*.py"):
            assert "bench" not in path.name, path
            assert "import benchmarks" not in path.read_text() and "from benchmarks" not in path.read_text()


@pytest.mark.slow
def test_the_bench_measures_every_step_and_writes_each_as_it_goes(tmp_path: Path):
    output = tmp_path / "benchmarks.md"
    output.write_text("# Benchmarks\n\n<!-- bench:start -->\nold table\n<!-- bench:end -->\n\nafter\n")
    work = tmp_path / "work"
    # the harness is under test, not dbt's tests (they run in test_pipeline.py): models only
    results = run_bench(
        [300], work, output, build_args=("--exclude", "resource_type:test resource_type:unit_test")
    )
    assert [r.step for r in results] == [
        "generate",
        "load",
        "validate",
        "full build",
        "load one day (append)",
        "validate one day",
        "one-day incremental build",
        "sync plan (dry run)",
    ]
    text = output.read_text()
    assert "old table" not in text
    assert text.endswith("<!-- bench:end -->\n\nafter\n")
    assert [line.split(" | ")[1] for line in text.splitlines() if line.startswith("| 300 |")] == [
        r.step for r in results
    ]
    # the generated files are gone once loaded; the warehouse and run logs stay
    assert sorted(path.name for path in work.iterdir()) == ["bench_300.duckdb", "sync_300", "validation_300"]


@pytest.mark.slow
def test_the_synthetic_marts_are_built_by_dbt_with_drawn_values(tmp_path: Path):
    path = str(tmp_path / "marts.duckdb")
    as_of = datetime(2026, 3, 16, 12, tzinfo=UTC)
    marts = sync_bench.sync_marts()
    assert make_warehouse(path, 400, as_of.isoformat(), marts) == 400
    values = column_values()
    with duckdb.connect(path, read_only=True) as connection:
        for mart in marts:
            relation = mart_relation(path, mart)
            assert connection.execute(f"select count(*) from {relation}").fetchone() == (400,)
            columns = {str(row[0]) for row in connection.execute(f"describe {relation}").fetchall()}
            for column in columns & set(values):
                drawn = connection.execute(f"select distinct {column} from {relation}").fetchall()
                assert {v for (v,) in drawn if v is not None} <= set(values[column]), column
            # the suppression rule's model decided these: both outcomes occur
            flags = connection.execute(f"select distinct global_suppression from {relation}").fetchall()
            assert sorted(flags) == [(False,), (True,)]


@pytest.mark.slow
def test_the_sync_bench_runs_end_to_end_against_the_fake_hubspot(tmp_path: Path):
    output = tmp_path / "benchmarks.md"
    body = sync_bench.run(200, 300, tmp_path / "work", output)
    assert "**Incomplete" not in body
    assert "200 of 200 contacts landed" in body
    assert body.count("| 300 |") == 4  # two destinations, first plan and 1 % changed
    assert "<!-- sync-bench:start -->" in output.read_text()
