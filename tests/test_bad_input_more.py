"""More input that must not silently change a figure, fed through the CLI as a user would.

Event_ids re-sent with different content (docs/definitions.md#conflicting-duplicates), a
malformed `arr` on a tenth of the accounts (docs/definitions.md#validation-tolerances), a
build as of a time before every event (docs/definitions.md#as-of-before-data) and the sync
after it (docs/definitions.md#build-as-of), and read-only commands beside another reader.
One load, validation and build for the module; every check reads what they left.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from onboard.core.targets import Target
from onboard.validate.config import ValidationConfig
from onboard.validate.runner import floor_rows

from .conftest import SMALL_RAW, query, run_onboard, write_csv_table

pytestmark = pytest.mark.slow

AS_OF = "2026-03-05T00:00:00Z"


def _event(event_id: str, occurred_at: str, received_at: str, properties: str, **fields: str) -> dict:
    return {
        "event_id": event_id,
        "event_name": fields.get("event_name", "query_run"),
        "customer_id": fields.get("customer_id", "c1"),
        "user_id": "u1",
        "occurred_at": occurred_at,
        "received_at": received_at,
        "properties": properties,
    }


EVENTS = [
    # e1 (SMALL_RAW's signup of c1) re-sent exactly, a day later: not a conflict
    {**SMALL_RAW["events"][0], "received_at": "2026-03-02T10:00:00Z"},
    # e3: the later copy has other properties; e4: the later copy another occurred_at
    _event("e3", "2026-03-02T10:00:00Z", "2026-03-02T10:00:01Z", '{"n": 1}'),
    _event("e3", "2026-03-02T10:00:00Z", "2026-03-02T10:05:00Z", '{"n": 2}'),
    _event("e4", "2026-03-02T11:00:00Z", "2026-03-02T11:00:01Z", "{}"),
    _event("e4", "2026-03-02T12:00:00Z", "2026-03-02T12:00:01Z", "{}"),
    # c2 signs up; its account's arr is malformed
    _event(
        "e5",
        "2026-03-03T09:00:00Z",
        "2026-03-03T09:00:01Z",
        '{"email": "bea@beta.io", "plan_tier": "pro"}',
        event_name="signup_completed",
        customer_id="c2",
    ),
]

MALFORMED_ARR = ["1,200", "$500", "12k", "-10", "n/a", "1.2.3", "12 000", "1e3", "€90", "0x10"]


def _accounts() -> list[dict[str, str | None]]:
    """c1 of SMALL_RAW plus c2..c100; c2..c11 (a tenth of 100 accounts) with a malformed arr."""
    rows = copy.deepcopy(SMALL_RAW["accounts"])
    for number in range(2, 101):
        arr = MALFORMED_ARR[number - 2] if number <= 11 else "1000"
        rows.append(
            {
                "customer_id": f"c{number}",
                "company_name": f"Company {number}",
                "arr": arr,
                "csm_owner": "bo",
                "updated_at": "2026-03-01T00:00:00Z",
            }
        )
    return rows


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Load, validate and build (as of AS_OF) the small raw folder plus the rows above, once."""
    root = tmp_path_factory.mktemp("bad_input_more")
    folder = root / "raw"
    folder.mkdir()
    raw = copy.deepcopy(SMALL_RAW)
    raw["events"].extend(EVENTS)
    raw["accounts"] = _accounts()
    for table, rows in raw.items():
        write_csv_table(folder / f"{table}.csv", table, rows)
    warehouse = root / "warehouse.duckdb"
    env = {"ONBOARD_DUCKDB_PATH": str(warehouse), "ONBOARD_VALIDATION_RESULTS_DIR": str(root / "validation")}
    loaded = run_onboard("load", str(folder), env=env)
    assert loaded.returncode == 0, loaded.stderr
    validated = run_onboard("validate", env=env)
    built = run_onboard("build", "--as-of", AS_OF, "--exclude", "test_type:unit", env=env)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    target = Target("duckdb", "duckdb", {"type": "duckdb", "path": str(warehouse), "schema": "main"})
    return {"root": root, "env": env, "validated": validated, "built": built, "target": target}


def _report(done) -> list[str]:
    return [line.strip() for line in (done.stdout + done.stderr).splitlines()]


def test_conflicting_duplicates_are_counted_with_examples_and_kept_aside(pipeline: dict):
    validated = pipeline["validated"]
    assert "Traceback" not in validated.stdout + validated.stderr
    prefix = (
        "WARNING  events / event_id conflicting_duplicates: 2 of 5 rows "
        "(40.00%, tolerated 1.00%, warning); e.g. "
    )
    lines = [line for line in _report(validated) if line.startswith(prefix)]
    assert len(lines) == 1, "\n".join(_report(validated))
    # e1's exact re-send is not a conflict
    assert sorted(lines[0].removeprefix(prefix).split(", ")) == ["e3", "e4"]

    conflicts = query(
        pipeline["target"],
        "select event_id, copy_number, differing_columns, occurred_at, properties "
        "from main_staging.stg_product__events_conflicts order by event_id",
    )
    assert [(e, n, d, str(o), p) for e, n, d, o, p in conflicts] == [
        ("e3", 2, "properties", "2026-03-02 10:00:00", '{"n": 2}'),
        ("e4", 2, "occurred_at", "2026-03-02 12:00:00", "{}"),
    ]
    # the kept copies are the earliest received
    kept = query(
        pipeline["target"],
        "select event_id, occurred_at, properties, copies_received from main_staging.base_product__events "
        "where event_id in ('e1', 'e3', 'e4') order by event_id",
    )
    assert [(e, str(o), p, c) for e, o, p, c in kept] == [
        ("e1", "2026-03-01 10:00:00", '{"email": "ann@acme.io", "plan_tier": "pro"}', 2),
        ("e3", "2026-03-02 10:00:00", '{"n": 1}', 2),
        ("e4", "2026-03-02 11:00:00", "{}", 2),
    ]


def test_a_tenth_of_accounts_with_malformed_arr_blocks_and_reads_as_null(pipeline: dict):
    validated = pipeline["validated"]
    assert "Traceback" not in validated.stdout + validated.stderr
    assert validated.returncode == 1, "\n".join(_report(validated))
    prefix = "BLOCKING accounts / arr malformed: 10 of 100 rows (10.00%, tolerated 1.00%, critical); e.g. "
    lines = [line for line in _report(validated) if line.startswith(prefix)]
    assert len(lines) == 1, "\n".join(_report(validated))
    # five examples, each a customer and the value as received
    examples = lines[0].removeprefix(prefix).split(", ")
    every = {f"c{number} [{arr}]" for number, arr in enumerate(MALFORMED_ARR, start=2)}
    assert len(examples) == 5 and set(examples) <= every, examples
    # the build is never blocked; c2's arr reads as null, c1's stays
    customers = query(pipeline["target"], "select customer_id, arr from main.onboarding_customers order by 1")
    assert [(c, None if a is None else float(a)) for c, a in customers] == [("c1", 12000.0), ("c2", None)]


def test_the_share_floor_is_for_windows_of_events_not_snapshot_tables():
    config = ValidationConfig(share_floor_rows=1000)
    assert [floor_rows(name, config) for name in ("events", "query_run", "email_events")] == [1000] * 3
    assert [floor_rows(name, config) for name in ("accounts", "subscriptions", "routing_audits")] == [0] * 3


def test_build_prints_its_own_summary_on_stdout(pipeline: dict):
    built = pipeline["built"]
    assert "Traceback" not in built.stdout + built.stderr
    lines = [line.rstrip() for line in built.stdout.splitlines()]
    for expected in (
        "as of            2026-03-05 00:00 UTC",
        "customers        2",
        "usable events    4",
        "unusable events  1 (null_occurred_at 1) -> stg_product__events_unusable",
    ):
        assert expected in lines, built.stdout
    assert not any(line.startswith("warning") for line in lines), built.stdout
    # dbt runs quietly: no line per node
    assert "START sql" not in built.stdout + built.stderr


def test_as_of_before_every_event_warns_and_the_sync_refuses_it_as_a_replay(pipeline: dict, tmp_path: Path):
    warehouse = tmp_path / "copy.duckdb"
    shutil.copy(pipeline["target"].duckdb_path, warehouse)
    env = {**pipeline["env"], "ONBOARD_DUCKDB_PATH": str(warehouse)}
    early = run_onboard("build", "--as-of", "2020-01-01T00:00:00Z", "--select", "build_as_of", env=env)
    assert early.returncode == 0, early.stdout + early.stderr
    assert "Traceback" not in early.stdout + early.stderr
    warnings = [line.rstrip() for line in early.stdout.splitlines() if line.startswith("warning")]
    assert warnings == [
        "warning          as_of 2020-01-01 00:00 UTC is before the first usable event (2026-03-01 10:00 UTC): "
        "no event counts and every mart is empty; build with a later --as-of"
    ]

    # what a full build as of 2020 leaves: empty marts, whose only as_of is the build's
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("delete from main.crm_contacts")
        connection.execute("delete from main.esp_people")
    synced = run_onboard("sync", "hubspot", "--dry-run", env=env)
    assert synced.returncode == 2, synced.stdout + synced.stderr
    assert "Traceback" not in synced.stdout + synced.stderr
    errors = [line for line in synced.stderr.splitlines() if line.startswith("onboard: error:")]
    assert len(errors) == 1, synced.stderr
    assert re.fullmatch(
        r"onboard: error: main\.crm_contacts was built as of 2020-01-01 00:00 UTC, \d+ h ago "
        r"\(max_as_of_age_hours is 24\): a replay is not today's state; run `onboard build` first",
        errors[0],
    ), errors[0]


def test_alerts_dry_run_reads_beside_another_reader(pipeline: dict, tmp_path: Path):
    warehouse = tmp_path / "copy.duckdb"
    shutil.copy(pipeline["target"].duckdb_path, warehouse)
    env = {**pipeline["env"], "ONBOARD_DUCKDB_PATH": str(warehouse)}
    # another process (this one) reads the file: a writer could not open it
    with duckdb.connect(str(warehouse), read_only=True):
        done = run_onboard("alerts", "--dry-run", env=env)
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 0, done.stdout + done.stderr
