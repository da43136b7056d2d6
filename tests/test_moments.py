"""Moments delivered once (sync/moments.py): journey events to a strict local Customer.io.

Each test works on a copy of the session's built warehouse (600 customers, 120 days of history,
as of the current hour: tests/conftest.py `built`), so a first sync meets months of moments of
which only the last 48 hours are fresh.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from onboard.core.project_config import ConfigError
from sync.destinations.base import Moment
from sync.destinations.customerio.events import event_item, moment_ulid

from .conftest import ONBOARD, PROJECT_DIR, query
from .fakes import FakeCustomerIO, Fault
from .fakes.hubspot import TASKS_CREATE_PATH
from .test_sync import FAST_RETRIES, customerio, execute, hubspot, sync_destination, target  # noqa: F401 (fixtures)

BATCH = "/api/v2/batch"
ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")


def deliveries(warehouse) -> dict[str, tuple[str, str, datetime, datetime]]:
    """moment_id -> (status, record_key, occurred_at, first_seen_at) of Customer.io's moments."""
    return {
        moment_id: (status, key, occurred_at, first_seen_at)
        for moment_id, status, key, occurred_at, first_seen_at in query(
            warehouse,
            "select moment_id, status, record_key, occurred_at, first_seen_at from sync.moment_deliveries "
            "where destination = 'customerio'",
        )
    }


def journey(warehouse) -> dict[str, tuple[str, str, datetime, bool]]:
    """event_id -> (customer_id, name, occurred_at, global_suppression) of the mart."""
    return {
        event_id: (customer, name, occurred_at, suppressed)
        for event_id, customer, name, occurred_at, suppressed in query(
            warehouse,
            "select event_id, customer_id, name, occurred_at, global_suppression from main.journey_events",
        )
    }


def landed(server: FakeCustomerIO) -> list[tuple[str, str, int, str]]:
    """Every event the fake recorded: (person, name, timestamp, id)."""
    return [
        (person, e["name"], e["timestamp"], e["id"])
        for person, events in server.events.items()
        for e in events
    ]


def expected_sends(warehouse) -> dict[str, tuple[str, str, datetime]]:
    """The moments the recorded plan says are fresh and reachable: what must land, once each."""
    moments, done = journey(warehouse), deliveries(warehouse)
    return {
        moment_id: (moments[moment_id][0], moments[moment_id][1], occurred_at)
        for moment_id, (status, _, occurred_at, _) in done.items()
        if status in ("delivered", "pending")
    }


def assert_exactly_once_in_order(warehouse, server: FakeCustomerIO) -> None:
    sends = expected_sends(warehouse)
    events = landed(server)
    assert len(events) == len(sends) and Counter(e[3] for e in events).most_common(1)[0][1] == 1
    by_ulid = {
        moment_ulid(Moment(moment_id, person, name, at, {})): (
            person,
            name,
            int(at.replace(tzinfo=UTC).timestamp()),
        )
        for moment_id, (person, name, at) in sends.items()
    }
    assert sorted((p, n, t) for p, n, t, _ in events) == sorted(by_ulid.values())
    assert all(by_ulid[ulid] == (p, n, t) for p, n, t, ulid in events)
    for person, person_events in server.events.items():
        times = [e["timestamp"] for e in person_events]
        assert times == sorted(times), person


def test_a_first_sync_sends_only_fresh_moments_once_in_order_and_records_history_as_stale(target, customerio):  # noqa: F811
    moments = journey(target)

    result = sync_destination(target, "customerio")

    assert result.exit_code == 0, result.errors
    done = deliveries(target)
    assert set(done) == set(moments)  # every moment is decided: none is left for a flood later
    first_seen = {seen for _, _, _, seen in done.values()}
    assert len(first_seen) == 1
    horizon = first_seen.pop() - timedelta(hours=48)
    for moment_id, (status, key, occurred_at, _) in done.items():
        customer, _, _, suppressed = moments[moment_id]
        assert key == customer
        if occurred_at < horizon:
            assert status == "skipped_stale", moment_id
        else:
            assert status == ("skipped_suppressed" if suppressed else "delivered"), moment_id
    statuses = Counter(status for status, *_ in done.values())
    assert statuses["skipped_stale"] > 10 * statuses["delivered"] > 0 and statuses["skipped_suppressed"] > 0
    assert_exactly_once_in_order(target, customerio)
    run = query(
        target,
        "select moments_sent, moments_skipped_stale, moments_skipped_suppressed, moments_failed, status "
        "from sync.sync_runs where not dry_run",
    )
    assert run == [
        (statuses["delivered"], statuses["skipped_stale"], statuses["skipped_suppressed"], 0, "succeeded")
    ]
    # each event after the attributes of its person: every person it went to was identified before
    assert set(customerio.events) <= set(customerio.people)

    again = sync_destination(target, "customerio")

    assert again.moment_plan is not None and again.moment_plan.to_send == 0 and again.moment_counts.sent == 0
    assert again.moment_plan.done_before == len(moments)
    assert len(landed(customerio)) == statuses["delivered"] and customerio.duplicate_events == 0


def test_5xx_429_and_dropped_answers_neither_lose_nor_repeat_an_event(target, customerio):  # noqa: F811
    customerio.add_fault(Fault("rate_limit", times=3, path_prefix=BATCH, after=1))
    customerio.add_fault(Fault("status", times=2, status=503, path_prefix=BATCH, after=3))
    customerio.add_fault(Fault("drop_after_apply", times=2, path_prefix=BATCH, after=6))
    customerio.add_fault(Fault("status", times=1, status=502, path_prefix=BATCH, after=4))

    result = sync_destination(target, "customerio")

    assert result.exit_code == 0, result.errors
    assert result.stats is not None and result.stats.rate_limited == 3 and result.stats.retries == 5
    assert_exactly_once_in_order(target, customerio)
    assert Counter(s for s, *_ in deliveries(target).values())["pending"] == 0


def test_a_sync_killed_while_sending_events_repeats_none_when_re_run(target, tmp_path):  # noqa: F811
    # five events a request, so the kill lands between requests whoever the day's events belong to
    mappings = (PROJECT_DIR / "sync" / "mappings.yml").read_text()
    events_batch = (
        "      batch_size: 100           # events per /api/v2/batch request (one per person per request)"
    )
    assert mappings.count(events_batch) == 1
    (tmp_path / "small.yml").write_text(mappings.replace(events_batch, "      batch_size: 5"))
    env = {
        **os.environ,
        "ONBOARD_DUCKDB_PATH": str(target.duckdb_path),
        "ONBOARD_SYNC_RESULTS_DIR": str(tmp_path / "r"),
        "ONBOARD_SYNC_CONFIG": str(tmp_path / "small.yml"),
        **FAST_RETRIES,
    }
    with FakeCustomerIO(site_id="s", api_key="k", latency_s=0.05) as server:
        env |= {"CUSTOMERIO_TRACK_URL": server.base_url, "CUSTOMERIO_SITE_ID": "s", "CUSTOMERIO_API_KEY": "k"}
        process = subprocess.Popen(
            [ONBOARD, "sync", "customerio"],
            env=env,
            cwd=PROJECT_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while len(landed(server)) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        before = len(landed(server))
        assert 0 < before < len(expected_sends(target))

        done = subprocess.run(
            [ONBOARD, "sync", "customerio"], env=env, cwd=PROJECT_DIR, capture_output=True, text=True
        )

        assert done.returncode == 0, done.stderr
        assert_exactly_once_in_order(target, server)
        assert Counter(s for s, *_ in deliveries(target).values())["pending"] == 0
        statuses = [s for (s,) in query(target, "select status from sync.sync_runs order by started_at")]
        assert statuses == ["interrupted", "succeeded"]


def _fresh_person_with_two_moments(warehouse) -> tuple[str, str, str]:
    """A customer with two fresh, reachable moments: (customer, first event_id, second event_id)."""
    rows = query(
        warehouse,
        "select customer_id, list(event_id order by occurred_at, event_id) from main.journey_events "
        "where occurred_at >= now()::timestamp - interval 40 hours and not global_suppression "
        "group by customer_id having count(distinct occurred_at) = count(*) and count(*) >= 2 "
        "order by customer_id limit 1",
    )
    customer, ids = rows[0]
    return customer, ids[0], ids[1]


def test_a_refused_event_is_logged_retried_and_holds_back_that_persons_later_events(target, customerio):  # noqa: F811
    customer, first, second = _fresh_person_with_two_moments(target)
    # an event whose data Customer.io refuses (more than 100,000 bytes)
    execute(
        target,
        f"update main.journey_events set recovery_subject = repeat('x', 100001) where event_id = '{first}'",
    )

    result = sync_destination(target, "customerio")

    assert result.exit_code == 1 and result.run.status == "partial" and result.run.moments_failed == 1
    done = deliveries(target)
    assert done[first][0] == "pending" and done[second][0] == "pending"  # the later one waits, in order
    assert customer not in customerio.events
    assert query(
        target, f"select http_status, record_key from sync.sync_errors where record_key = '{first}'"
    ) == [(207, first)]
    execute(target, f"update main.journey_events set recovery_subject = 'fixed' where event_id = '{first}'")

    retried = sync_destination(target, "customerio")

    assert retried.exit_code == 0 and retried.moment_counts is not None and retried.moment_counts.sent == 2
    assert [e["id"] for e in customerio.events[customer]] == [
        moment_ulid(
            Moment(
                first,
                customer,
                "",
                query(target, f"select occurred_at from main.journey_events where event_id = '{first}'")[0][
                    0
                ],
                {},
            )
        ),
        moment_ulid(
            Moment(
                second,
                customer,
                "",
                query(target, f"select occurred_at from main.journey_events where event_id = '{second}'")[0][
                    0
                ],
                {},
            )
        ),
    ]
    assert_exactly_once_in_order(target, customerio)


def test_a_dry_run_lists_every_moment_and_records_none(target, customerio, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("ONBOARD_SYNC_RESULTS_DIR", str(tmp_path))

    result = sync_destination(target, "customerio", dry_run=True)

    plan = result.moment_plan
    assert plan is not None and result.moments_file is not None
    lines = result.moments_file.read_text().splitlines()
    assert len(lines) == plan.in_model == plan.to_send + plan.stale + plan.suppressed
    assert {action for action, samples in plan.samples.items() if samples} == {
        "send",
        "skipped_stale",
        "skipped_suppressed",
    }
    assert customerio.requests == [] and query(target, "select count(*) from sync.moment_deliveries") == [
        (0,)
    ]


def test_a_moment_switched_off_is_never_sent_and_a_name_the_mapping_lacks_is_refused(
    target,  # noqa: F811
    customerio,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    config = (PROJECT_DIR / "sync" / "mappings.yml").read_text()
    (tmp_path / "off.yml").write_text(config.replace("onboarding_started: true", "onboarding_started: false"))
    monkeypatch.setenv("ONBOARD_SYNC_CONFIG", str(tmp_path / "off.yml"))

    result = sync_destination(target, "customerio")

    assert result.exit_code == 0 and result.moment_plan is not None and result.moment_plan.disabled > 0
    assert "onboarding_started" not in {name for _, name, _, _ in landed(customerio)}
    assert query(target, "select count(*) from sync.moment_deliveries where name = 'onboarding_started'") == [
        (0,)
    ]

    (tmp_path / "lacks.yml").write_text(config.replace("        onboarding_started: true\n", ""))
    monkeypatch.setenv("ONBOARD_SYNC_CONFIG", str(tmp_path / "lacks.yml"))
    with pytest.raises(
        ConfigError,
        match=r"lacks\.yml:\d+: destinations\.customerio\.moments\.send: "
        r"expected true or false for every name journey_events holds \(missing: onboarding_started\)",
    ):
        sync_destination(target, "customerio")


def test_an_events_ulid_is_a_valid_ulid_of_its_time_the_same_every_time_and_its_own():
    at = datetime(2026, 3, 16, 12, 0, 0)
    one = Moment("a" * 32, "c1", "onboarding_started", at, {"track": "standard", "step": None})
    item = event_item(one)

    assert ULID.fullmatch(item["id"]) and item["id"] == moment_ulid(one)
    assert item == {
        "type": "person",
        "identifiers": {"id": "c1"},
        "action": "event",
        "name": "onboarding_started",
        "id": item["id"],
        "timestamp": 1773662400,
        "attributes": {"track": "standard"},
    }
    # the first 10 characters are the time in milliseconds, as a ULID's are
    assert item["id"][:10] == "01KKV88VG0"
    assert moment_ulid(Moment("b" * 32, "c1", "x", at, {})) != item["id"]
    assert moment_ulid(Moment("a" * 32, "c1", "x", at + timedelta(seconds=1), {}))[:10] != item["id"][:10]


# --- HubSpot: CSM tasks, switched on ----------------------------------------------------------


def tasks_switched_on(folder, monkeypatch) -> None:
    config = (PROJECT_DIR / "sync" / "mappings.yml").read_text()
    assert config.count("enabled: false") == 1
    (folder / "tasks.yml").write_text(config.replace("enabled: false", "enabled: true"))
    monkeypatch.setenv("ONBOARD_SYNC_CONFIG", str(folder / "tasks.yml"))


def seed_owners(warehouse, server) -> None:
    """Every csm_owner of the accounts as a HubSpot owner ("First Last")."""
    for (name,) in query(
        warehouse, "select distinct csm_owner from main.onboarding_customers where csm_owner is not null"
    ):
        first, _, last = name.partition(" ")
        server.add_owner(f"{first}.{last}@vendor.example".lower(), first_name=first, last_name=last)


def test_csm_tasks_are_created_once_each_in_their_owners_queue_even_when_an_answer_is_lost(
    target,  # noqa: F811
    hubspot,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    tasks_switched_on(tmp_path, monkeypatch)
    seed_owners(target, hubspot)
    hubspot.add_fault(Fault("drop_after_apply", times=1, path_prefix=TASKS_CREATE_PATH))
    hubspot.add_fault(Fault("status", times=1, status=503, path_prefix=TASKS_CREATE_PATH, after=1))

    result = sync_destination(target, "hubspot", setup=True)

    assert result.exit_code == 0, (result.errors, result.moment_counts)
    done = query(
        target,
        "select moment_id, status from sync.moment_deliveries where destination = 'hubspot' order by moment_id",
    )
    delivered = {moment_id for moment_id, status in done if status == "delivered"}
    assert delivered and len(done) == query(target, "select count(*) from main.csm_tasks")[0][0]
    ids = [task["properties"]["onboarding_task_id"] for task in hubspot.tasks.values()]
    assert sorted(ids) == sorted(delivered)  # each delivered task exists exactly once
    kinds = Counter(
        name
        for (name,) in query(
            target,
            "select name from main.csm_tasks where task_id in (select moment_id from sync.moment_deliveries where status = 'delivered')",
        )
    )
    assert kinds["emergency_outreach"] > 0
    again = sync_destination(target, "hubspot")
    assert (
        again.moment_counts is not None and again.moment_counts.sent == 0 and len(hubspot.tasks) == len(ids)
    )
