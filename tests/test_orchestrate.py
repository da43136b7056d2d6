"""The two jobs of onboard/orchestrate.py as a user runs them: `onboard demo` and `onboard run`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from .conftest import ONBOARD


def onboard(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ONBOARD, *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def scalar(warehouse: Path, sql: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return int(connection.execute(sql).fetchone()[0])


@pytest.mark.slow
def test_demo_then_the_daily_run(tmp_path: Path):
    warehouse = tmp_path / "demo.duckdb"
    env = {
        "ONBOARD_DUCKDB_PATH": str(warehouse),
        "ONBOARD_SYNC_RESULTS_DIR": str(tmp_path / "sync"),
        "ONBOARD_VALIDATION_RESULTS_DIR": str(tmp_path / "validation"),
    }
    demo = onboard("demo", "--customers", "300", "--seed", "5", "--data-dir", "demo", cwd=tmp_path, env=env)
    assert demo.returncode == 0, demo.stderr[-3000:]
    lines = demo.stdout.splitlines()  # the summary goes to stdout, dbt's and the steps' logs to stderr
    customers = scalar(warehouse, "select count(*) from main.onboarding_customers")
    assert 0 < customers <= 300
    assert f"customers        {customers:,}" in lines
    usable = scalar(warehouse, "select count(*) from main_staging.stg_product__events")
    assert f"usable events    {usable:,}" in lines
    assert (tmp_path / "results" / "dashboard.html").is_file()
    assert "dashboard        results/dashboard.html (open it in a browser; works offline)" in lines
    # the demo ends with a dry run of every destination: a plan file each (and Customer.io's
    # moments), nothing recorded as sent
    assert sorted(
        path.name.split("-", 1)[1].split("-", 1)[0] + path.name.rsplit("-", 1)[1]
        for path in (tmp_path / "sync").glob("*.jsonl")
    ) == [
        "customeriomoments.jsonl",
        "customerioplan.jsonl",
        "hubspotplan.jsonl",
    ]
    assert scalar(warehouse, "select count(*) from sync.moment_deliveries") == 0
    assert scalar(warehouse, "select count(*) from sync.sync_state") == 0

    # the daily run on the same warehouse: nothing new loaded, so validation passes an empty
    # window, the build runs, and the dry-run syncs plan the same records again
    run = onboard("run", "--dry-run", cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "passed: 0 blocking, 0 warnings" in run.stderr
    assert len(list((tmp_path / "sync").glob("*.jsonl"))) == 6
