"""The benchmark's measurement: wall time and the peak memory of a whole process tree."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from onboard.bench import run_bench, run_measured

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


@pytest.mark.slow
def test_the_bench_measures_every_step_and_writes_each_as_it_goes(tmp_path: Path):
    output = tmp_path / "benchmarks.md"
    output.write_text("# Benchmarks\n\n<!-- bench:start -->\nold table\n<!-- bench:end -->\n\nafter\n")
    work = tmp_path / "work"
    results = run_bench([300], work, output)
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
