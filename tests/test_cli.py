"""The `onboard` command line as a user meets it: help everywhere, honest exit codes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .conftest import run_onboard

COMMANDS = ["generate", "load", "build", "demo", "validate", "report", "sync", "run", "alerts", "experiments"]


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


def test_a_selection_that_matches_nothing_fails_instead_of_doing_nothing(tmp_path: Path):
    result = run_onboard(
        "build", "--select", "nosuchmodel", env={"ONBOARD_DUCKDB_PATH": str(tmp_path / "empty.duckdb")}
    )
    assert result.returncode == 2
    assert "The selection criterion 'nosuchmodel' does not match any enabled nodes" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


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


def test_a_malformed_memory_limit_is_one_line_naming_the_variable(tmp_path: Path):
    result = run_onboard(
        "sync",
        "status",
        env={"ONBOARD_DUCKDB_PATH": str(tmp_path / "w.duckdb"), "ONBOARD_DUCKDB_MEMORY_LIMIT": "lots"},
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "onboard: error: environment variable ONBOARD_DUCKDB_MEMORY_LIMIT='lots': expected a memory size of "
        "at least 64MB such as 4GB (units KB, MB, GB, TB or KiB, MiB, GiB, TiB)"
    )
    assert not (tmp_path / "w.duckdb").exists()


def test_a_folder_under_a_regular_file_is_one_line_and_exit_2(tmp_path: Path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep me")
    result = run_onboard("generate", str(blocker / "raw"), "--customers", "5")
    assert result.returncode == 2
    assert result.stderr.strip() == f"onboard: error: cannot access {blocker / 'raw'}: Not a directory"
    assert blocker.read_text() == "keep me"


def test_a_config_file_that_is_not_utf8_is_one_line_and_exit_2(tmp_path: Path):
    config = tmp_path / "sync.yml"
    config.write_bytes(b"destinations:\n  hubspot: caf\xe9\n")
    result = run_onboard(
        "sync",
        "hubspot",
        "--dry-run",
        env={"ONBOARD_SYNC_CONFIG": str(config), "ONBOARD_DUCKDB_PATH": str(tmp_path / "w.duckdb")},
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.strip() == (
        f"onboard: error: {config}:2: expected UTF-8 text, found byte 0xE9 (save it as UTF-8)"
    )


def _main_raising(error: Exception, *args: str, monkeypatch, capsys) -> tuple[int, str]:
    """onboard.cli.main() for `onboard [args] sync status` whose step raises error: (exit code, stderr)."""
    from onboard import cli, orchestrate

    def broken(*_: object, **__: object) -> None:
        raise error

    monkeypatch.setattr(orchestrate, "sync_status", broken)
    monkeypatch.setattr(sys, "argv", ["onboard", *args, "sync", "status"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    return int(exited.value.code or 0), capsys.readouterr().err


def test_a_bug_is_one_line_asking_for_a_report_and_exit_1(monkeypatch, capsys):
    code, stderr = _main_raising(KeyError("customer_id"), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1
    assert stderr.strip() == (
        "onboard: error: unexpected KeyError: 'customer_id'; this is a bug in onboard: please report it "
        "with the output of the same command run as `onboard --debug <command>`"
    )


def test_debug_shows_the_traceback_then_the_line(monkeypatch, capsys):
    code, stderr = _main_raising(KeyError("customer_id"), "--debug", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1
    assert stderr.startswith("Traceback") and "KeyError: 'customer_id'" in stderr
    assert stderr.strip().splitlines()[-1].startswith("onboard: error: unexpected KeyError")


def test_bytes_that_are_not_utf8_are_one_line_and_exit_2(monkeypatch, capsys):
    error = UnicodeDecodeError("utf-8", b"caf\xe9", 3, 4, "invalid continuation byte")
    code, stderr = _main_raising(error, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2
    assert stderr.strip() == (
        "onboard: error: an input is not valid utf-8: byte 0xe9 at offset 3 (invalid continuation byte); "
        "save it as UTF-8"
    )


def test_duckdb_out_of_memory_is_one_line_naming_the_variable(monkeypatch, capsys):
    import duckdb

    error = duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate data of size 2.0 GiB\nhints")
    code, stderr = _main_raising(error, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2
    assert stderr.strip() == (
        "onboard: error: Out of Memory Error: failed to allocate data of size 2.0 GiB: give DuckDB more "
        "memory with ONBOARD_DUCKDB_MEMORY_LIMIT (e.g. 8GB; default 4GB) and re-run"
    )
