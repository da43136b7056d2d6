"""Run dbt for a target with the project's vars, as a child process of the venv's dbt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from onboard.core.paths import PROJECT_DIR
from onboard.core.warehouse import Target

#: Environment that keeps dbt (and Great Expectations) from phoning home.
NO_TRACKING_ENV = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_VERSION_CHECK": "false",
    "GX_ANALYTICS_ENABLED": "false",
}


def dbt_executable() -> str:
    """The dbt of the running interpreter's environment."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def dbt_environment(target: Target) -> dict[str, str]:
    """The process environment for dbt: no tracking, profiles and project from the repo."""
    environment = {**os.environ, **NO_TRACKING_ENV}
    environment["DBT_PROFILES_DIR"] = str(PROJECT_DIR)
    environment["DBT_PROJECT_DIR"] = str(PROJECT_DIR)
    if target.type == "duckdb":
        environment["ONBOARD_DUCKDB_PATH"] = str(target.duckdb_path)
    if target.type == "spark":
        environment["ONBOARD_SPARK_DIR"] = str(target.spark_dir)
    return environment


def run_dbt(
    command: str,
    target: Target,
    variables: dict[str, object] | None = None,
    extra_args: list[str] | None = None,
    quiet: bool = False,
) -> int:
    """Run `dbt COMMAND` for target; returns dbt's exit code (0 ok, 1 failures, 2 errors)."""
    args = [dbt_executable(), command, "--target", target.name]
    if variables:
        args += ["--vars", json.dumps(variables)]
    if quiet:
        args += ["--quiet"]
    args += extra_args or []
    if target.type == "spark":
        return _run_in_process(args[1:], target)
    completed = subprocess.run(args, cwd=PROJECT_DIR, env=dbt_environment(target), check=False)
    return completed.returncode


def _run_in_process(args: list[str], target: Target) -> int:
    """dbt in this process: its Spark session is this process's one (onboard/core/spark_session.py)."""
    from dbt.cli.main import dbtRunner

    from onboard.core import spark_session

    os.environ.update(dbt_environment(target))
    spark_session.session(target)
    previous = Path.cwd()
    os.chdir(PROJECT_DIR)
    try:
        result = dbtRunner().invoke(args)
    finally:
        os.chdir(previous)
    if result.exception is not None:
        return 2
    return 0 if result.success else 1
