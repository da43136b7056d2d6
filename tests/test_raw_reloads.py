"""A raw file loaded twice changes no figure (issue 15): routing audits have no id to de-duplicate on.

The loader's ledger refuses to append a file whose content a table already holds; a user who
forces it with --allow-duplicate, or an export that repeats a row, gives the same audit twice,
and stg_cs__routing_audits keeps it once on its natural key (docs/definitions.md#routing-audit-grain).
Before that, the copy reached routing_accuracy and counted twice.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from onboard.core.targets import Target

from .conftest import query, run_onboard

pytestmark = pytest.mark.slow

AS_OF = "2026-03-16T12:00:00+00:00"

#: Schemas dbt builds into that hold figures (staging is rebuilt from raw, raw changes by design).
FIGURE_SCHEMAS = ("main", "main_intermediate", "main_reporting")


def _onboard(warehouse: Path, *args: str) -> tuple[int, str]:
    result = run_onboard(*args, env={"ONBOARD_DUCKDB_PATH": str(warehouse)})
    assert "Traceback" not in result.stderr
    return result.returncode, result.stderr


def _build(warehouse: Path) -> None:
    """onboard build as of a fixed instant (the unit tests do not depend on the data: skipped)."""
    code, stderr = _onboard(warehouse, "build", "--as-of", AS_OF, "--exclude", "test_type:unit")
    assert code == 0, stderr[-3000:]


def _target(warehouse: Path) -> Target:
    return Target("duckdb", "duckdb", {"type": "duckdb", "path": str(warehouse), "schema": "main"})


def _figures(warehouse: Path) -> dict[str, list[tuple]]:
    """Every row of every relation in FIGURE_SCHEMAS, sorted: the marts and what feeds them."""
    target = _target(warehouse)
    names = ", ".join(f"'{schema}'" for schema in FIGURE_SCHEMAS)
    relations = query(
        target,
        f"select schema_name, table_name from duckdb_tables() where schema_name in ({names}) order by 1, 2",
    )
    return {
        f"{schema}.{table}": sorted(query(target, f'select * from "{schema}"."{table}"'), key=repr)
        for schema, table in relations
    }


def _loaded_at(warehouse: Path) -> str:
    [(stamp,)] = query(_target(warehouse), "select max(_loaded_at) from raw.routing_audits")
    assert isinstance(stamp, datetime)
    return f"{stamp:%Y-%m-%d %H:%M:%S} UTC"


def _raw_audits(warehouse: Path) -> list[tuple]:
    return sorted(query(_target(warehouse), "select * from raw.routing_audits"), key=repr)


def test_routing_audits_loaded_twice_count_once_in_routing_accuracy_and_every_mart(
    small_raw_dir: Path, tmp_path: Path
):
    warehouse = tmp_path / "w.duckdb"
    assert _onboard(warehouse, "load", str(small_raw_dir))[0] == 0
    _build(warehouse)
    before = _figures(warehouse)
    assert before["main.routing_accuracy"] == [(date(2026, 3, 1), 1, 1, 1.0, False)]

    again = tmp_path / "again"
    again.mkdir()
    shutil.copy(small_raw_dir / "routing_audits.csv", again / "routing_audits.csv")
    audits_before = _raw_audits(warehouse)

    code, stderr = _onboard(warehouse, "load", str(again), "--append")

    assert code == 2
    assert stderr.strip().splitlines() == [
        f"onboard: error: {again / 'routing_audits.csv'}: already loaded into raw.routing_audits at "
        f"{_loaded_at(warehouse)} (same content as {small_raw_dir / 'routing_audits.csv'}); "
        "loading it again would count its 1 rows twice (use --allow-duplicate to load it anyway)"
    ]
    assert _raw_audits(warehouse) == audits_before

    assert _onboard(warehouse, "load", str(again), "--append", "--allow-duplicate")[0] == 0
    assert len(_raw_audits(warehouse)) == 2
    _build(warehouse)

    after = _figures(warehouse)
    assert after["main.routing_accuracy"] == before["main.routing_accuracy"]
    assert after == before
    [(kept,)] = query(_target(warehouse), "select count(*) from main_staging.stg_cs__routing_audits")
    assert kept == 1
