"""Product events whose numbers look fine but are not: they must not silently change a figure.

A default date (1900-01-01) once made a customer stalled for a century; a customer_id that is
the text `NULL` became a customer named NULL; an event stamped in the future by a clock that
also stamped received_at in the future passed validation unnoticed. Each goes through the CLI
as a user runs it (load, validate, build) and must end up set aside with its reason, or
reported by validation, never in a figure (docs/definitions.md#unusable-rows).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from onboard.core.targets import Target

from .conftest import SMALL_RAW, query, run_onboard, write_csv_table

pytestmark = pytest.mark.slow

AS_OF = "2026-03-05T00:00:00Z"

IMPLAUSIBLE_EVENTS: list[dict[str, str | None]] = [
    # a signup dated by a default date: without the floor, customer c9 stalls since 1900
    {
        "event_id": "old",
        "event_name": "signup_completed",
        "customer_id": "c9",
        "user_id": "u9",
        "occurred_at": "1900-01-01T00:00:00Z",
        "received_at": "2026-03-01T10:00:01Z",
        "properties": '{"email": "old@acme.io", "plan_tier": "pro"}',
    },
    # an export's missing customer written as the text NULL
    {
        "event_id": "nul",
        "event_name": "signup_completed",
        "customer_id": "NULL",
        "user_id": "u8",
        "occurred_at": "2026-03-01T10:00:00Z",
        "received_at": "2026-03-01T10:00:01Z",
        "properties": '{"email": "nul@acme.io", "plan_tier": "pro"}',
    },
    # a clock far ahead: received_at is in the future too, only the load time tells
    {
        "event_id": "ahead",
        "event_name": "query_run",
        "customer_id": "c1",
        "user_id": "u1",
        "occurred_at": "2099-01-01T00:00:00Z",
        "received_at": "2099-01-01T00:00:01Z",
        "properties": None,
    },
]


@pytest.fixture
def implausible_raw_dir(tmp_path: Path) -> Path:
    """The small raw folder plus the three implausible events."""
    folder = tmp_path / "raw"
    folder.mkdir()
    raw = copy.deepcopy(SMALL_RAW)
    raw["events"].extend(IMPLAUSIBLE_EVENTS)
    for table, rows in raw.items():
        write_csv_table(folder / f"{table}.csv", table, rows)
    return folder


def test_implausible_events_are_set_aside_or_reported_never_counted(
    implausible_raw_dir: Path, tmp_path: Path
):
    warehouse = tmp_path / "warehouse.duckdb"
    env = {
        "ONBOARD_DUCKDB_PATH": str(warehouse),
        "ONBOARD_VALIDATION_RESULTS_DIR": str(tmp_path / "validation"),
    }

    loaded = run_onboard("load", str(implausible_raw_dir), env=env)
    assert loaded.returncode == 0, loaded.stderr

    validated = run_onboard("validate", env=env)
    assert "Traceback" not in validated.stderr
    assert validated.returncode == 0, validated.stdout + validated.stderr
    report = [line.strip() for line in (validated.stdout + validated.stderr).splitlines()]
    for line in (
        "WARNING  events / null_customer_id unusable: 1 of 5 rows (20.00%, tolerated 1.00%, critical); e.g. nul",
        "WARNING  events / implausible_occurred_at unusable: 1 of 5 rows "
        "(20.00%, tolerated 1.00%, critical); e.g. old",
        "WARNING  events / occurred_at future_dated: 1 of 5 rows (20.00%, tolerated 1.00%, warning); e.g. ahead",
    ):
        assert line in report, "\n".join(report)

    built = run_onboard("build", "--as-of", AS_OF, "--exclude", "test_type:unit", env=env)
    assert "Traceback" not in built.stderr
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr

    target = Target("duckdb", "duckdb", {"type": "duckdb", "path": str(warehouse), "schema": "main"})
    unusable = query(
        target,
        "select event_id, customer_id, occurred_at, reason from main_staging.stg_product__events_unusable "
        "where event_id in ('old', 'nul') order by event_id",
    )
    assert unusable == [
        ("nul", None, "2026-03-01T10:00:00Z", "null_customer_id"),
        ("old", "c9", "1900-01-01T00:00:00Z", "implausible_occurred_at"),
    ]
    assert query(target, "select customer_id from main.onboarding_customers order by 1") == [("c1",)]
    stalls = query(target, "select customer_id, last_progress_at, stall_hours from main.stall_alerts")
    assert [(customer, str(progress), hours) for customer, progress, hours in stalls] == [
        ("c1", "2026-03-01 10:00:00", 86.0)
    ]
