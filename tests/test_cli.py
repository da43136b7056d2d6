"""The `onboard` command line as a user meets it: help everywhere, honest exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import run_onboard

COMMANDS = ["generate", "load", "build", "demo", "validate", "report", "sync", "run", "alerts"]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_has_help(command: str | None):
    result = run_onboard(*filter(None, [command]), "--help")
    assert result.returncode == 0
    assert "Usage: onboard" in result.stdout


def test_build_exits_non_zero_when_dbt_fails(tmp_path: Path):
    # an empty warehouse has no raw tables: dbt cannot build staging
    result = run_onboard(
        "build",
        "--select",
        "stg_billing__accounts",
        env={"ONBOARD_DUCKDB_PATH": str(tmp_path / "empty.duckdb")},
    )
    assert result.returncode == 1


def test_unknown_command_is_a_usage_error():
    result = run_onboard("frobnicate")
    assert result.returncode == 2
    assert "No such command" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_as_of_is_one_line_and_exit_code_2():
    result = run_onboard("build", "--as-of", "yesterday-ish")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "onboard: error: --as-of 'yesterday-ish': expected an ISO-8601 time such as 2026-03-16T12:00:00Z"
    )


def test_onboard_alerts_without_slack_webhook_url_is_one_line_and_exit_2(monkeypatch):
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    result = run_onboard("alerts")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "onboard: error: environment variable SLACK_WEBHOOK_URL is not set (the Slack incoming-webhook URL)"
    )


def test_validate_on_spark_keeps_its_run_log_in_the_state_store_beside_spark(tmp_path):
    # no pyspark needed: validation reads Spark's files (none loaded yet) through DuckDB
    result = run_onboard(
        "validate",
        "--target",
        "spark",
        env={"ONBOARD_SPARK_DIR": str(tmp_path), "ONBOARD_VALIDATION_RESULTS_DIR": str(tmp_path / "results")},
    )
    assert result.returncode == 0, result.stderr
    assert "passed: 0 blocking, 0 warnings" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["onboard.duckdb", "results"]


def test_build_on_spark_without_pyspark_names_the_spark_venv(tmp_path):
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("this venv has pyspark: the Spark tests cover the build")
    result = run_onboard("build", "--target", "spark", env={"ONBOARD_SPARK_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "onboard: error: the spark target needs pyspark: run `make spark-install` and use .venv-spark/bin/onboard"
    ]
