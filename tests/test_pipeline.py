"""The whole pipeline on generated data: generate -> load -> dbt build, and incremental staging."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from onboard.core.targets import Target
from onboard.generate import GenerateOptions, generate
from onboard.load import load

from .conftest import PROJECT_DIR, query, run_dbt, run_onboard

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("generated")
    manifest = generate(folder, GenerateOptions(customers=1500, seed=7, as_of=AS_OF))
    return folder, manifest


def _target(path: Path) -> Target:
    return Target("duckdb", "duckdb", {"type": "duckdb", "path": str(path), "schema": "main"})


def _build(path: Path, *extra: str, as_of: datetime = AS_OF, unit_tests: bool = False) -> None:
    """onboard build; the unit tests run in the first test only (they do not depend on the data)."""
    skip_unit_tests = () if unit_tests else ("--exclude", "test_type:unit")
    result = run_onboard(
        "build",
        "--as-of",
        as_of.isoformat(),
        *extra,
        *skip_unit_tests,
        env={"ONBOARD_DUCKDB_PATH": str(path)},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_build_of_generated_data_passes_and_sets_aside_exactly_the_manifests_unusable_rows(
    generated: tuple[Path, dict], tmp_path: Path
):
    folder, manifest = generated
    warehouse = tmp_path / "w.duckdb"
    load(folder, _target(warehouse))

    _build(warehouse, unit_tests=True)

    target = _target(warehouse)
    unusable = dict(
        query(
            target,
            "select reason, count(*) from main_staging.stg_product__events_unusable group by 1",
        )
    )
    assert unusable == {reason: n for reason, n in manifest["events"]["unusable"].items() if n}
    usable = dict(
        query(target, "select event_name, count(*) from main_staging.stg_product__events group by 1")
    )
    assert usable == {name: n for name, n in manifest["events"]["usable_by_event_name"].items() if n}
    assert sum(usable.values()) == manifest["events"]["usable"]
    duplicates = query(target, "select sum(copies_received - 1) from main_staging.base_product__events")
    assert duplicates == [(manifest["events"]["duplicate_rows"],)]
    assert _buffered_ctes(warehouse) == BUFFERED_CTES


#: The CTEs DuckDB buffers (a CTE read more than once is materialised): each is small, one
#: row per customer, re-sent event_id or seed row. A CTE of every event buffered this way
#: spilled tens of GB at 10 M customers; `not_materialized()` keeps such CTEs streaming.
BUFFERED_CTES = {
    "activation_by_cohort": ["customers"],
    "calls_today": ["customers"],
    "adoption_velocity": ["customers"],
    "base_product__events": ["repeated"],
    "cohort_routing_report": ["customers"],
    "crm_contacts": ["with_email"],
    "csm_tasks": ["reachable"],
    "int_customers_scored": ["customers"],
    "int_customers_stalled": ["gaps"],
    "int_milestones_reached": ["milestones"],
    "int_plan_tiers_at_days": ["customers", "tier_events"],
    "path_metrics": ["customers"],
    "stg_esp__email_events": ["repeated"],
    "stg_product__events_conflicts": ["ranked"],
}


def _buffered_ctes(warehouse: Path) -> dict[str, list[str]]:
    """Model -> the CTEs in DuckDB's plan of its compiled SQL (target/manifest.json of the last build)."""
    manifest = json.loads((PROJECT_DIR / "target" / "manifest.json").read_text())
    found = {}
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for node in manifest["nodes"].values():
            if node["resource_type"] != "model" or not node.get("compiled_code"):
                continue
            plan = connection.execute("explain " + node["compiled_code"]).fetchall()[0][1]
            names = re.findall(r"CTE Name: (\w+)", plan)
            if names:
                found[node["name"]] = names
    return found


def _backfilled_copies(events: pa.Table) -> pa.Table:
    """Copies of events received a second earlier, with other properties: backfilled rows."""
    received = pc.strptime(events["received_at"], "%Y-%m-%dT%H:%M:%SZ", "s")
    earlier = pc.strftime(pc.subtract(received, pa.scalar(1, pa.duration("s"))), "%Y-%m-%dT%H:%M:%SZ")
    properties = pc.replace_substring(
        pc.fill_null(events["properties"], "{}"), "{", '{"backfilled": true, ', max_replacements=1
    )
    properties = pc.replace_substring(properties, ", }", "}")
    index = events.schema.get_field_index
    return events.set_column(index("received_at"), "received_at", earlier).set_column(
        index("properties"), "properties", properties
    )


def _split_events(folder: Path, out: Path) -> list[Path]:
    """Three loads cut by received_at; the third also brings 25 backfilled copies of early events."""
    events = pq.read_table(folder / "events.parquet")
    received = events["received_at"]
    first = pc.or_kleene(pc.is_null(received), pc.less_equal(received, "2026-02-20T00:00:00Z"))
    second = pc.and_(
        pc.greater(received, "2026-02-20T00:00:00Z"),
        pc.less_equal(received, "2026-03-08T00:00:00Z"),
    )
    third = pc.greater(received, "2026-03-08T00:00:00Z")
    has_ids = pc.and_(pc.is_valid(events["event_id"]), pc.is_valid(received))
    early = events.filter(pc.and_kleene(first, has_ids)).slice(0, 25)
    parts = [
        events.filter(first),
        events.filter(second),
        pa.concat_tables([events.filter(third), _backfilled_copies(early)]),
    ]
    paths = []
    for index, part in enumerate(parts, start=1):
        part_dir = out / f"load{index}"
        part_dir.mkdir()
        pq.write_table(part, part_dir / "events.parquet")
        paths.append(part_dir)
    for name in ("accounts", "subscriptions", "email_events", "routing_audits"):
        shutil.copy(folder / f"{name}.parquet", paths[0] / f"{name}.parquet")
    return paths


def _symmetric_difference(connection: duckdb.DuckDBPyConnection, left: str, right: str) -> int:
    row = connection.execute(
        f"select count(*) from ((select * from {left} except all select * from {right}) "
        f"union all (select * from {right} except all select * from {left}))"
    ).fetchone()
    return int(row[0]) if row else -1


def test_incremental_staging_over_three_loads_equals_a_full_refresh(
    generated: tuple[Path, dict], tmp_path: Path
):
    folder, _ = generated
    loads = _split_events(folder, tmp_path)
    warehouse = tmp_path / "w.duckdb"
    target = _target(warehouse)
    for index, part in enumerate(loads):
        load(part, target, append=index > 0)
        _build(warehouse, "--select", "staging")

    # the unit tests that read the model's own table run once it exists (selectors.yml)
    tagged = run_dbt("test", "--select", "tag:needs_built_model", warehouse=warehouse)
    assert tagged.returncode == 0, tagged.stdout[-3000:]
    assert "ERROR=0" in tagged.stdout and "PASS=0 " not in tagged.stdout

    compared = ("base_product__events", "stg_product__events_unusable")
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema incremental_copy")
        for model in compared:
            connection.execute(f"create table incremental_copy.{model} as select * from main_staging.{model}")
    _build(warehouse, "--select", "staging", "--full-refresh")

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        backfilled = connection.execute(
            "select count(*) from main_staging.base_product__events where properties like '%backfilled%'"
        ).fetchone()
        assert backfilled == (25,)
        for model in compared:
            full, incremental = (
                connection.execute(f"select count(*) from {schema}.{model}").fetchone()
                for schema in ("main_staging", "incremental_copy")
            )
            assert full == incremental
            assert (
                _symmetric_difference(connection, f"main_staging.{model}", f"incremental_copy.{model}") == 0
            ), model


MARTS = (
    "onboarding_customers",
    "onboarding_milestones",
    "stall_alerts",
    "cohort_routing_report",
    "routing_accuracy",
    "path_metrics",
    "milestone_funnel",
    "adoption_velocity",
    "score_vs_expansion",
    "crm_contacts",
    "esp_people",
    "journey_events",
    "csm_tasks",
)


def test_day_by_day_incremental_builds_give_the_marts_of_a_full_refresh(
    generated: tuple[Path, dict], tmp_path: Path
):
    folder, _ = generated
    events = pq.read_table(folder / "events.parquet")
    received = events["received_at"]
    days = [AS_OF - timedelta(days=n) for n in (3, 2, 1, 0)]
    stamps = [day.strftime("%Y-%m-%dT%H:%M:%SZ") for day in days]
    warehouse = tmp_path / "w.duckdb"
    target = _target(warehouse)

    first = tmp_path / "day0"
    first.mkdir()
    pq.write_table(
        events.filter(pc.or_kleene(pc.is_null(received), pc.less_equal(received, stamps[0]))),
        first / "events.parquet",
    )
    for name in ("accounts", "subscriptions", "email_events", "routing_audits"):
        shutil.copy(folder / f"{name}.parquet", first / f"{name}.parquet")
    load(first, target)
    _build(warehouse, as_of=days[0])
    for index in range(1, len(days)):
        day_dir = tmp_path / f"day{index}"
        day_dir.mkdir()
        arrived = pc.and_(pc.greater(received, stamps[index - 1]), pc.less_equal(received, stamps[index]))
        pq.write_table(events.filter(arrived), day_dir / "events.parquet")
        load(day_dir, target, append=True)
        _build(warehouse, as_of=days[index])

    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema incremental_copy")
        for mart in MARTS:
            connection.execute(f"create table incremental_copy.{mart} as select * from main.{mart}")
        customers = connection.execute("select count(*) from main.onboarding_customers").fetchone()
    _build(warehouse, "--full-refresh")

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.execute("select count(*) from main.onboarding_customers").fetchone() == customers
        differences = {
            mart: _symmetric_difference(connection, f"main.{mart}", f"incremental_copy.{mart}")
            for mart in MARTS
        }
    assert differences == dict.fromkeys(MARTS, 0)
