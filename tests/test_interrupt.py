"""Ctrl-C: one line saying what state things are in, exit 130 (docs/definitions.md#interrupted)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import duckdb
import pytest

from onboard import cli, orchestrate
from onboard import load as loader
from onboard.core.targets import Target

from .conftest import query

SNAPSHOT = """
    select 'events', count(*), max(_loaded_at) from raw.events
    union all select 'accounts', count(*), max(_loaded_at) from raw.accounts
    union all select 'routing_audits', count(*), max(_loaded_at) from raw.routing_audits
    union all select 'ledger', count(*), max(_loaded_at) from raw._loaded_files
    order by 1
"""


def _main(*args: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """onboard.cli.main() for `onboard args`: (exit code, stderr)."""
    monkeypatch.setattr(sys, "argv", ["onboard", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    return int(exited.value.code or 0), capsys.readouterr().err


def test_ctrl_c_during_a_load_rolls_it_back_and_says_so(
    small_raw_dir: Path,
    duckdb_target: Target,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    loader.load(small_raw_dir, duckdb_target)
    before = query(duckdb_target, SNAPSHOT)
    assert [row[:2] for row in before] == [
        ("accounts", 1),
        ("events", 2),
        ("ledger", 5),
        ("routing_audits", 1),
    ]
    select_sql = loader._select_sql
    calls: list[str] = []

    def interrupted_at_the_third_table(source: loader.SourceFile, *args: object) -> str:
        calls.append(source.table)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return select_sql(source, *args)

    monkeypatch.setattr(loader, "_select_sql", interrupted_at_the_third_table)
    monkeypatch.setenv("ONBOARD_DUCKDB_PATH", str(duckdb_target.duckdb_path))
    code, stderr = _main("load", str(small_raw_dir), monkeypatch=monkeypatch, capsys=capsys)
    assert len(calls) == 3, "two tables were replaced before the interrupt"
    assert code == 130
    assert stderr == (
        "onboard: interrupted; the load was rolled back (one transaction): the warehouse is as it was; "
        "it is safe to re-run the same command\n"
    )
    assert query(duckdb_target, SNAPSHOT) == before


def test_duckdb_interrupted_mid_query_is_the_same_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    def long_query(*_: object, **__: object) -> None:
        connection = duckdb.connect()
        # what DuckDB does on Ctrl-C during a query, without sending this test process a signal
        threading.Timer(0.2, connection.interrupt).start()
        connection.execute("select count(*) from range(1000000000000) as a(i) where i % 7 = 3").fetchall()

    monkeypatch.setattr(orchestrate, "dashboard", long_query)
    code, stderr = _main("report", monkeypatch=monkeypatch, capsys=capsys)
    assert (code, stderr) == (
        130,
        "onboard: interrupted; re-run the same command to finish\n",
    )


def test_duckdb_query_interrupted_by_sigint_is_the_build_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    def interrupted(*_: object, **__: object) -> None:
        # DuckDB's Python client turns a SIGINT during a query into this RuntimeError
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(orchestrate, "build", interrupted)
    code, stderr = _main("build", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 130
    assert stderr == (
        "onboard: interrupted; models dbt had finished are replaced whole, the others are as they were; "
        "re-run the same command to finish\n"
    )


def test_another_runtime_error_is_still_a_bug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("Query interrupted by a bug of ours, say")

    monkeypatch.setattr(orchestrate, "build", broken)
    code, stderr = _main("build", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1 and "this is a bug in onboard" in stderr
