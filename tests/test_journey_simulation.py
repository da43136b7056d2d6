"""Two weeks day by day: each day's events land, the marts are built as of that day, and both
destinations are synced, under 5xx, 429s, answers lost after the write and a SIGKILL mid-run.

Every journey event must reach Customer.io exactly once and in order per person, every CSM task
must exist in HubSpot exactly once, nothing older than the age limit may go out (the first day's
sync meets months of history), and a replayed build at a past as_of gives the same events as a
full refresh at that as_of (docs/definitions.md#moment-delivery, #journey-events).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from onboard.core.targets import Target
from onboard.generate import GenerateOptions, generate
from onboard.load import load
from sync.destinations.base import Moment
from sync.destinations.customerio.events import moment_ulid

from .conftest import ONBOARD, PROJECT_DIR, query, run_dbt, run_onboard
from .fakes import FakeCustomerIO, FakeHubSpot, Fault
from .fakes.hubspot import TASKS_CREATE_PATH
from .test_sync import FAST_RETRIES, sync_destination

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
DAYS = 14
KILLED_DAY = 7
CUSTOMERIO_BATCH = "/api/v2/batch"
HUBSPOT_UPSERT = "/crm/v3/objects/contacts/batch/upsert"


#: what the syncs read, and what it is built from (the reports are left out: they cost time, not moments)
SELECTED = "+journey_events +csm_tasks +crm_contacts +esp_people +build_as_of"


def _build(warehouse: Path, as_of: datetime, *extra: str) -> None:
    """The day's build of what the syncs read: `onboard build` the first time (seeds included),
    then dbt's run of the same selection (seeds and tests do not change from day to day)."""
    if not (warehouse.parent / "built").exists():
        done = run_onboard(
            "build",
            "--as-of",
            as_of.isoformat(),
            "--select",
            SELECTED,
            "--exclude",
            "test_type:unit test_type:data",
            env={"ONBOARD_DUCKDB_PATH": str(warehouse)},
        )
        (warehouse.parent / "built").touch()
    else:
        stamp = as_of.strftime("%Y-%m-%d %H:%M:%S")
        done = run_dbt(
            "run", "--select", SELECTED, "--vars", f"{{as_of: '{stamp}'}}", *extra, warehouse=warehouse
        )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def _daily_loads(folder: Path, out: Path, days: list[datetime]) -> list[Path]:
    """A folder per day: day 0 holds everything received up to days[0], day n what arrived that day."""
    events = pq.read_table(folder / "events.parquet")
    received = events["received_at"]
    stamps = [day.strftime("%Y-%m-%dT%H:%M:%SZ") for day in days]
    folders = []
    for index, stamp in enumerate(stamps):
        day_dir = out / f"day{index}"
        day_dir.mkdir()
        if index == 0:
            arrived = pc.or_kleene(pc.is_null(received), pc.less_equal(received, stamp))
            for name in ("accounts", "subscriptions", "email_events", "routing_audits"):
                shutil.copy(folder / f"{name}.parquet", day_dir / f"{name}.parquet")
        else:
            arrived = pc.and_(pc.greater(received, stamps[index - 1]), pc.less_equal(received, stamp))
        pq.write_table(events.filter(arrived), day_dir / "events.parquet")
        folders.append(day_dir)
    return folders


def _faults(day: int, customerio: FakeCustomerIO, hubspot: FakeHubSpot) -> None:
    """About one request in twenty answered 5xx, one in twenty 429, one in fifty applied and dropped."""
    for server, path in (
        (customerio, CUSTOMERIO_BATCH),
        (hubspot, HUBSPOT_UPSERT),
        (hubspot, TASKS_CREATE_PATH),
    ):
        server.add_fault(Fault("status", times=1, status=503, path_prefix=path, after=day % 2))
        # HubSpot's own headers would make a 429 wait out its 10-second window: Retry-After says less
        server.add_fault(
            Fault("rate_limit", times=1, path_prefix=path, after=(day + 1) % 3, retry_after=0.05)
        )
        if day % 2 == 0:
            server.add_fault(Fault("drop_after_apply", times=1, path_prefix=path, after=day % 4))


def _kill_mid_run(warehouse: Path, config: Path, customerio: FakeCustomerIO, tmp_path: Path) -> None:
    """`onboard sync customerio` killed once a few of the day's events have landed."""
    env = {
        **os.environ,
        **FAST_RETRIES,
        "ONBOARD_DUCKDB_PATH": str(warehouse),
        "ONBOARD_SYNC_CONFIG": str(config),
        "ONBOARD_SYNC_RESULTS_DIR": str(tmp_path / "killed"),
        "CUSTOMERIO_TRACK_URL": customerio.base_url,
        "CUSTOMERIO_SITE_ID": "s",
        "CUSTOMERIO_API_KEY": "k",
    }
    before = sum(len(events) for events in customerio.events.values())
    customerio.latency_s = 0.05
    process = subprocess.Popen(
        [ONBOARD, "sync", "customerio", "--force"],
        env=env,
        cwd=PROJECT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while sum(len(e) for e in customerio.events.values()) < before + 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    customerio.latency_s = 0.0
    assert sum(len(e) for e in customerio.events.values()) >= before + 2, "the kill came before any event"


def test_two_weeks_of_daily_builds_and_syncs_send_every_moment_exactly_once_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    raw = tmp_path / "raw"
    generate(raw, GenerateOptions(customers=200, seed=29, as_of=AS_OF))
    days = [AS_OF - timedelta(days=DAYS - n) for n in range(DAYS + 1)]
    folders = _daily_loads(raw, tmp_path, days)
    warehouse = tmp_path / "w.duckdb"
    target = Target("duckdb", "duckdb", {"type": "duckdb", "path": str(warehouse), "schema": "main"})

    config = tmp_path / "sync.yml"
    mappings = (PROJECT_DIR / "sync" / "mappings.yml").read_text()
    config.write_text(
        mappings.replace("max_as_of_age_hours: 24", "max_as_of_age_hours: 1000000").replace(
            "enabled: false", "enabled: true"
        )
    )
    monkeypatch.setenv("ONBOARD_SYNC_CONFIG", str(config))
    monkeypatch.setenv("ONBOARD_SYNC_RESULTS_DIR", str(tmp_path / "results"))
    for name, value in FAST_RETRIES.items():
        monkeypatch.setenv(name, value)

    with FakeCustomerIO(site_id="s", api_key="k") as customerio, FakeHubSpot(token="t") as hubspot:
        monkeypatch.setenv("CUSTOMERIO_TRACK_URL", customerio.base_url)
        monkeypatch.setenv("CUSTOMERIO_SITE_ID", "s")
        monkeypatch.setenv("CUSTOMERIO_API_KEY", "k")
        monkeypatch.setenv("HUBSPOT_BASE_URL", hubspot.base_url)
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "t")
        for index, (day, folder) in enumerate(zip(days, folders, strict=True)):
            load(folder, target, append=index > 0)
            _build(warehouse, day)
            if index == 0:
                for (name,) in query(
                    target,
                    "select distinct csm_owner from main_staging.stg_billing__accounts where csm_owner is not null",
                ):
                    first, _, last = name.partition(" ")
                    hubspot.add_owner(
                        f"{first}.{last}@vendor.example".lower(), first_name=first, last_name=last
                    )
            _faults(index, customerio, hubspot)
            if index == KILLED_DAY:
                _kill_mid_run(warehouse, config, customerio, tmp_path)
            people = sync_destination(target, "customerio", force=True)
            contacts = sync_destination(target, "hubspot", force=True, setup=index == 0)
            assert people.run.status in ("succeeded", "partial"), (day, people.errors)
            assert contacts.run.status in ("succeeded", "partial"), (day, contacts.errors)
        # one more run with nothing new settles what a refusal left pending
        assert sync_destination(target, "customerio", force=True).exit_code == 0
        assert sync_destination(target, "hubspot", force=True).exit_code == 0

        deliveries = query(
            target,
            "select destination, moment_id, record_key, name, occurred_at, status, first_seen_at "
            "from sync.moment_deliveries",
        )
        statuses = Counter((destination, status) for destination, _, _, _, _, status, _ in deliveries)
        assert statuses[("customerio", "pending")] == 0 and statuses[("hubspot", "pending")] == 0
        assert statuses[("customerio", "delivered")] > 100 and statuses[("customerio", "skipped_stale")] > 500
        assert statuses[("hubspot", "delivered")] > 0
        # nothing older than the age limit at its first chance went out, and nothing fresh was skipped
        for destination, _, _, _, occurred_at, status, first_seen in deliveries:
            stale = occurred_at < first_seen - timedelta(hours=48)
            assert (status == "skipped_stale") == stale, (destination, occurred_at, status, first_seen)
        first_seen_days = {first_seen for *_, first_seen in deliveries}
        assert first_seen_days <= {day.replace(tzinfo=None) for day in days}

        # Customer.io: every delivered event exactly once (the kill's and the dropped answers'
        # resends were recognised by their ids), in occurred_at order per person
        delivered = {
            moment_ulid(Moment(moment_id, key, name, occurred_at, {})): (key, name)
            for destination, moment_id, key, name, occurred_at, status, _ in deliveries
            if destination == "customerio" and status == "delivered"
        }
        landed = [
            (person, event["name"], event["id"])
            for person, events in customerio.events.items()
            for event in events
        ]
        assert len(landed) == len(delivered) == len({event_id for _, _, event_id in landed})
        assert {event_id: (person, name) for person, name, event_id in landed} == delivered
        assert customerio.duplicate_events > 0
        for person, events in customerio.events.items():
            stamps = [event["timestamp"] for event in events]
            assert stamps == sorted(stamps), person

        # HubSpot: every delivered task exactly once
        tasks = Counter(task["properties"]["onboarding_task_id"] for task in hubspot.tasks.values())
        assert set(tasks.values()) == {1}
        assert set(tasks) == {
            moment_id
            for destination, moment_id, *_, status, _ in deliveries
            if destination == "hubspot" and status == "delivered"
        }

    # a replay at a past as_of gives the events a full refresh at that as_of gives
    replayed = days[KILLED_DAY]
    _build(warehouse, replayed)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create table main.journey_replayed as select * from main.journey_events")
    _build(warehouse, replayed, "--full-refresh")
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        difference = connection.execute(
            "select count(*) from ((select * from main.journey_events except all select * from main.journey_replayed) "
            "union all (select * from main.journey_replayed except all select * from main.journey_events))"
        ).fetchone()
        replayed_count = connection.execute("select count(*) from main.journey_events").fetchone()
    assert difference == (0,) and replayed_count[0] > 0
