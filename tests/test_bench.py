"""The benchmark's measurement: wall time and the peak memory of a whole process tree."""

from __future__ import annotations

import os
import sys

from onboard.bench import run_measured

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
