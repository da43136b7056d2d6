"""`onboard sync`: over loopback HTTP against strict local HubSpot and Customer.io servers.

One warehouse is generated, loaded, validated and built per module (about 600 customers,
as of the current hour so the stale-as_of guard lets it through); each test works on its
own copy. The fakes (tests/fakes) check auth, batch and size limits, string-only HubSpot
values, and inject 429s, 5xx, dropped connections and outages.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from onboard.core.as_of import dbt_as_of, now_to_the_hour
from onboard.core.db import database
from onboard.core.errors import UsageError
from onboard.core.http import DestinationUnavailableError
from onboard.core.targets import Target
from onboard.validate.runs import (
    RunRecord,
    ValidationGateError,
    gate_problem,
    insert_run,
    require_passing_validation,
    utc_now,
)
from sync.config import load_sync_config
from sync.destinations import PLUGINS
from sync.destinations.base import Credentials, Record
from sync.enumerations import column_values
from sync.gate import ValidationGate
from sync.runner import SyncRefusedError
from sync.runner import sync_destination as run_sync

from .conftest import ONBOARD, PROJECT_DIR, query, run_dbt, run_onboard
from .fakes import FakeCustomerIO, FakeHubSpot, Fault, RateLimit

CUSTOMERS = 600
AS_OF = now_to_the_hour()
FAST_RETRIES = {"ONBOARD_SYNC_RETRY_BASE_SECONDS": "0.01", "ONBOARD_SYNC_MAX_ATTEMPTS": "4"}
#: what onboard/orchestrate.py hands every sync: validation's verdict (the sync never imports validation)
VALIDATION_GATE = ValidationGate(require=require_passing_validation, problem=gate_problem)


def sync_destination(target: Target, name: str, **options):
    """One sync run behind the validation gate, as `onboard sync` runs it."""
    return run_sync(target, name, gate=VALIDATION_GATE, **options)


@pytest.fixture
def target(built: Path, tmp_path: Path) -> Target:
    path = tmp_path / "w.duckdb"
    shutil.copy(built, path)
    return Target("duckdb", "duckdb", {"type": "duckdb", "path": str(path), "schema": "main"})


@pytest.fixture
def hubspot(monkeypatch: pytest.MonkeyPatch):
    with FakeHubSpot(token="pat-test") as server:
        monkeypatch.setenv("HUBSPOT_BASE_URL", server.base_url)
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test")
        for name, value in FAST_RETRIES.items():
            monkeypatch.setenv(name, value)
        yield server


@pytest.fixture
def customerio(monkeypatch: pytest.MonkeyPatch):
    with FakeCustomerIO(site_id="site-test", api_key="key-test") as server:
        monkeypatch.setenv("CUSTOMERIO_TRACK_URL", server.base_url)
        monkeypatch.setenv("CUSTOMERIO_SITE_ID", "site-test")
        monkeypatch.setenv("CUSTOMERIO_API_KEY", "key-test")
        for name, value in FAST_RETRIES.items():
            monkeypatch.setenv(name, value)
        yield server


def execute(target: Target, sql: str) -> None:
    with duckdb.connect(str(target.duckdb_path)) as connection:
        connection.execute(sql)


def contacts(target: Target) -> dict[str, dict]:
    columns = [
        c
        for (c,) in query(
            target,
            "select column_name from information_schema.columns "
            "where table_name = 'crm_contacts' order by ordinal_position",
        )
    ]
    return {
        row[0]: dict(zip(columns, row, strict=True))
        for row in query(target, "select * from main.crm_contacts")
    }


def upsert_requests(server: FakeHubSpot) -> int:
    return sum(1 for r in server.requests if r.path.endswith("/batch/upsert"))


def synced_hubspot(target: Target) -> None:
    result = sync_destination(target, "hubspot", setup=True)
    assert result.exit_code == 0, result.errors


# --- first sync, re-run, changes -----------------------------------------------------------


def test_first_hubspot_sync_lands_every_contact_exactly_and_a_rerun_sends_nothing(target, hubspot):
    expected = contacts(target)
    result = sync_destination(target, "hubspot", setup=True)

    assert result.exit_code == 0 and result.run.status == "succeeded"
    assert (result.plan.adds, result.run.succeeded, result.run.failed) == (len(expected), len(expected), 0)
    assert set(hubspot.contacts) == set(expected)
    assert hubspot.upserts == len(expected)
    assert upsert_requests(hubspot) == -(-len(expected) // 100)
    # one contact, property by property, as HubSpot stores it (strings)
    email, row = next((e, r) for e, r in expected.items() if r["is_activated"] and r["stalled_since"] is None)
    stored = hubspot.contacts[email]
    assert stored["onboarding_customer_id"] == row["customer_id"]
    assert stored["onboarding_track"] == row["track"]
    assert stored["onboarding_milestone_score"] == str(row["milestone_score"])
    assert stored["onboarding_is_activated"] == "true"
    assert stored["onboarding_activated_at"] == row["activated_at"].strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert stored["suppress_onboarding"] == ("true" if row["suppress_onboarding"] else "false")
    assert stored.get("onboarding_stalled_since", "") == ""
    assert hubspot.properties["onboarding_track"]["groupName"] == "onboarding_paths"
    assert [o["value"] for o in hubspot.properties["onboarding_track"]["options"]] == list(
        column_values()["track"]
    )

    before = len(hubspot.requests)
    again = sync_destination(target, "hubspot")
    assert (again.plan.to_send, again.plan.unchanged, again.run.sent) == (0, len(expected), 0)
    assert len(hubspot.requests) == before, "a re-run with nothing to send makes no call"
    assert query(target, "select status, succeeded from sync.sync_runs order by started_at") == [
        ("succeeded", len(expected)),
        ("succeeded", 0),
    ]


def test_first_customerio_sync_keeps_types_and_never_calls_suppress(target, customerio):
    people = {
        row[0]: row
        for row in query(
            target,
            "select customer_id, is_activated, milestone_score, signup_at, "
            "suppress_onboarding, stall_step from main.esp_people",
        )
    }
    result = sync_destination(target, "customerio")

    assert result.exit_code == 0 and result.run.succeeded == len(people) == CUSTOMERS
    assert set(customerio.people) == set(people)
    customer, activated, score, signup_at, suppressed, stall_step = next(iter(people.values()))
    person = customerio.people[customer]
    assert person["is_activated"] is activated and person["milestone_score"] == score
    assert person["signup_at"] == int(signup_at.replace(tzinfo=__import__("datetime").UTC).timestamp())
    assert person["suppress_onboarding"] is suppressed
    assert ("stall_step" in person) == (stall_step is not None)
    assert customerio.suppress_calls == [] and customerio.delete_calls == []
    assert sync_destination(target, "customerio").run.sent == 0


def test_one_changed_customer_sends_one_record(target, hubspot, customerio):
    synced_hubspot(target)
    sync_destination(target, "customerio")
    email, customer = query(
        target, "select email, customer_id from main.crm_contacts order by email limit 1"
    )[0]
    execute(target, f"update main.crm_contacts set milestone_score = 99 where email = '{email}'")
    execute(target, f"update main.esp_people set milestone_score = 99 where customer_id = '{customer}'")

    upserts, identifies = hubspot.upserts, customerio.identifies
    hs = sync_destination(target, "hubspot")
    cio = sync_destination(target, "customerio")

    assert (hs.plan.changes, hs.run.sent, hubspot.upserts - upserts) == (1, 1, 1)
    assert hubspot.contacts[email]["onboarding_milestone_score"] == "99"
    assert (cio.plan.changes, cio.run.sent, customerio.identifies - identifies) == (1, 1, 1)
    assert customerio.people[customer]["milestone_score"] == 99
    assert hs.plan.samples == [
        {
            "kind": "change",
            "key": email,
            "diff": {
                "onboarding_milestone_score": [
                    hs.plan.samples[0]["diff"]["onboarding_milestone_score"][0],
                    "99",
                ]
            },
        }
    ]


def test_rebuild_later_sends_only_changed_customers_and_activation_suppresses_in_one_run(
    target, hubspot, tmp_path
):
    synced_hubspot(target)
    before = contacts(target)
    # one stalled, not yet activated customer runs their first query (the activation milestone)
    email, customer, signup = query(
        target,
        "select c.email, c.customer_id, o.signup_at from main.crm_contacts c join main.onboarding_customers o "
        "using (customer_id) where not c.suppress_onboarding and not c.is_activated order by c.email limit 1",
    )[0]
    later = AS_OF + timedelta(hours=2)
    moment = (AS_OF + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    raw = tmp_path / "more"
    raw.mkdir()
    (raw / "events.csv").write_text(
        "event_id,event_name,customer_id,user_id,occurred_at,received_at,properties\n"
        f"evt_sync_1,query_run,{customer},u1,{moment},{moment},{{}}\n"
    )
    env = {
        "ONBOARD_DUCKDB_PATH": str(target.duckdb_path),
        "ONBOARD_VALIDATION_RESULTS_DIR": str(tmp_path / "v"),
    }
    build = ("build", "--as-of", dbt_as_of(later), "--exclude", "test_type:unit")
    for args in (("load", str(raw), "--append"), ("validate",), build):
        done = run_onboard(*args, env=env)
        assert done.returncode == 0, done.stderr[-3000:]
    after = contacts(target)
    mapped = [f.column for f in load_sync_config().destinations["hubspot"].fields]
    changed = {e for e in after if e in before and any(after[e][c] != before[e][c] for c in mapped)}
    assert (
        email in changed
        and after[email]["suppress_onboarding"]
        and after[email]["suppression_reason"] == "activated"
    )

    upserts = hubspot.upserts
    result = sync_destination(target, "hubspot")

    assert (result.plan.adds, result.plan.changes, result.plan.removals) == (0, len(changed), 0)
    assert hubspot.upserts - upserts == len(changed) < len(after)
    assert hubspot.contacts[email]["suppress_onboarding"] == "true"
    assert hubspot.contacts[email]["suppression_reason"] == "activated"
    assert signup is not None


# --- leavers: clear and keep ---------------------------------------------------------------


def test_clear_mode_blanks_leavers_and_suppresses_them_once(target, hubspot):
    synced_hubspot(target)
    email = query(target, "select email from main.crm_contacts where not suppress_onboarding limit 1")[0][0]
    execute(target, f"delete from main.crm_contacts where email = '{email}'")

    result = sync_destination(target, "hubspot")

    assert (result.plan.removals, result.run.succeeded) == (1, 1)
    stored = hubspot.contacts[email]
    assert stored["suppress_onboarding"] == "true"
    assert stored.get("onboarding_track", "") == "" and stored.get("onboarding_customer_id", "") == ""
    assert stored.get("onboarding_milestone_score", "") == ""
    assert query(target, f"select status from sync.sync_state where record_key = '{email}'") == [("cleared",)]
    assert sync_destination(target, "hubspot").run.sent == 0


def test_keep_mode_leaves_leavers_alone(target, hubspot, tmp_path, monkeypatch):
    config = (PROJECT_DIR / "sync" / "mappings.yml").read_text().replace("removed: clear", "removed: keep")
    (tmp_path / "keep.yml").write_text(config)
    monkeypatch.setenv("ONBOARD_SYNC_CONFIG", str(tmp_path / "keep.yml"))
    synced_hubspot(target)
    email = query(target, "select email from main.crm_contacts limit 1")[0][0]
    stored = dict(hubspot.contacts[email])
    execute(target, f"delete from main.crm_contacts where email = '{email}'")

    result = sync_destination(target, "hubspot")

    assert (result.plan.removals, result.plan.kept_leavers, result.run.sent) == (0, 1, 0)
    assert hubspot.contacts[email] == stored


# --- refusals by the destination ----------------------------------------------------------


def test_refused_records_are_logged_and_retried_next_run(target, hubspot):
    emails = [e for (e,) in query(target, "select email from main.crm_contacts order by email limit 3")]
    hubspot.reject_emails = {emails[0], emails[2]}

    result = sync_destination(target, "hubspot", setup=True)

    assert result.exit_code == 1 and result.run.status == "partial"
    assert result.run.failed == 2 and result.run.succeeded == len(contacts(target)) - 2
    assert emails[1] in hubspot.contacts and emails[0] not in hubspot.contacts
    logged = query(target, "select record_key, http_status from sync.sync_errors order by record_key")
    assert logged == [(emails[0], 207), (emails[2], 207)]

    hubspot.reject_emails = set()
    retry = sync_destination(target, "hubspot")
    assert (retry.plan.adds, retry.run.succeeded, retry.exit_code) == (2, 2, 0)
    assert emails[0] in hubspot.contacts
    with database(target) as db:
        from sync.state import pending_failures

        assert pending_failures(db) == []


def test_a_whole_batch_400_is_halved_until_the_bad_input_is_isolated(target, hubspot):
    synced_hubspot(target)  # creates the properties
    records = [
        Record(n, "add", f"person{n}@example.com", {"onboarding_track": "standard"}, "h", "g")
        for n in range(100)
    ]
    records[37] = Record(37, "add", "person37@example.com", {"onboarding_track": "no_such_track"}, "h", "g")
    client = PLUGINS["hubspot"].open(load_sync_config().destinations["hubspot"])
    requests_before = upsert_requests(hubspot)

    outcome = client.send(records)

    assert [r.key for r, _, _ in outcome.failed] == ["person37@example.com"]
    status, message = outcome.failed[0][1:]
    assert status == 400 and "no_such_track" in message and "--setup" in message
    assert len(outcome.acknowledged) == 99 and "person36@example.com" in hubspot.contacts
    assert "person37@example.com" not in hubspot.contacts
    assert upsert_requests(hubspot) - requests_before <= 15  # 1 + 2 per halving level (7 levels)


def test_a_value_hubspot_lacks_is_refused_before_sending_with_a_setup_hint(target, hubspot):
    synced_hubspot(target)
    execute(
        target,
        "update main.crm_contacts set track = 'enterprise_plus' where email = (select min(email) from main.crm_contacts)",
    )
    upserts = hubspot.upserts
    with pytest.raises(UsageError, match=r"lacks options enterprise_plus.*--setup"):
        sync_destination(target, "hubspot", force=True)
    assert hubspot.upserts == upserts


def test_customerio_item_errors_are_mapped_by_batch_index_and_oversized_items_never_sent(target, customerio):
    customer = query(target, "select min(customer_id) from main.esp_people")[0][0]
    execute(
        target,
        f"update main.esp_people set email = repeat('x', 1200) || '@example.com' where customer_id = '{customer}'",
    )

    result = sync_destination(target, "customerio")

    assert result.run.failed == 1 and result.run.succeeded == CUSTOMERS - 1
    assert result.errors[0][0] == customer and "longer than 1000 bytes" in result.errors[0][2]
    assert customer not in customerio.people
    assert all(len(json.dumps(r.body).encode()) <= 500_000 for r in customerio.requests if r.body)


# --- an unreliable network -----------------------------------------------------------------


def test_rate_limit_storms_5xx_and_dropped_connections_lose_and_duplicate_nothing(target, hubspot):
    path = "/crm/v3/objects/contacts/batch/upsert"
    hubspot.add_fault(Fault("rate_limit", times=3, path_prefix=path))
    hubspot.add_fault(Fault("rate_limit", times=2, path_prefix=path, retry_after=0.05))
    hubspot.add_fault(Fault("status", times=2, path_prefix=path, status=503))
    hubspot.add_fault(Fault("drop_after_apply", times=1, path_prefix=path))
    hubspot.add_fault(Fault("status", times=1, path_prefix=path, status=502, after=2))
    expected = contacts(target)

    result = sync_destination(target, "hubspot", setup=True)

    assert result.exit_code == 0 and result.run.succeeded == len(expected)
    assert set(hubspot.contacts) == set(expected)
    assert result.stats is not None and result.stats.rate_limited == 5 and result.stats.retries == 4
    # the batch whose answer was lost is resent once: an idempotent upsert, one state row each
    assert hubspot.upserts == len(expected) + 100
    assert query(target, "select count(*), count(distinct record_key) from sync.sync_state") == [
        (len(expected), len(expected))
    ]


def test_an_outage_mid_run_keeps_what_landed_and_the_next_run_finishes_without_resending(target, hubspot):
    synced_hubspot(target)  # properties; then every contact changes
    execute(target, "update main.crm_contacts set milestone_score = milestone_score + 1")
    path = "/crm/v3/objects/contacts/batch/upsert"
    hubspot.add_fault(Fault("status", times=4, status=503, path_prefix=path, after=2))  # 4 = max attempts
    upserts = hubspot.upserts
    total = len(contacts(target))

    with pytest.raises(DestinationUnavailableError, match="answered 503 4 times"):
        sync_destination(target, "hubspot")

    assert hubspot.upserts - upserts == 200
    last = "select status, succeeded, failed from sync.sync_runs order by started_at desc limit 1"
    assert query(target, last) == [("failed", 200, 100)]
    resumed = sync_destination(target, "hubspot")
    assert resumed.plan.changes == total - 200 and resumed.run.succeeded == total - 200
    assert hubspot.upserts - upserts == total


def test_a_sync_killed_mid_run_loses_nothing_when_re_run(target, tmp_path):
    env = {
        **os.environ,
        "ONBOARD_DUCKDB_PATH": str(target.duckdb_path),
        "ONBOARD_SYNC_RESULTS_DIR": str(tmp_path / "r"),
        **FAST_RETRIES,
    }
    with FakeHubSpot(token="pat-test", latency_s=0.05) as server:
        env |= {"HUBSPOT_BASE_URL": server.base_url, "HUBSPOT_ACCESS_TOKEN": "pat-test"}
        config = load_sync_config().destinations["hubspot"]
        PLUGINS["hubspot"].open(config, Credentials(server.base_url, token="pat-test")).setup()
        process = subprocess.Popen(
            [ONBOARD, "sync", "hubspot"],
            env=env,
            cwd=PROJECT_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while upsert_requests(server) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
        landed = server.upserts
        assert 0 < landed < len(contacts(target))

        done = subprocess.run(
            [ONBOARD, "sync", "hubspot"], env=env, cwd=PROJECT_DIR, capture_output=True, text=True
        )

        assert done.returncode == 0, done.stderr
        assert "interrupted" in done.stderr
        expected = contacts(target)
        assert set(server.contacts) == set(expected)
        assert server.upserts <= len(expected) + 100  # at most the batch in flight is resent
        assert query(target, "select count(*) from sync.sync_state") == [(len(expected),)]
        statuses = [
            s
            for (s,) in query(
                target, "select status from sync.sync_runs where not dry_run order by started_at"
            )
        ]
        assert statuses == ["interrupted", "succeeded"]


def test_client_pacing_stays_under_the_servers_limit(target, monkeypatch, tmp_path):
    with FakeHubSpot(token="pat-test", rate_limit=RateLimit(20, 1.0)) as server:
        monkeypatch.setenv("HUBSPOT_BASE_URL", server.base_url)
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test")
        config = (
            (PROJECT_DIR / "sync" / "mappings.yml")
            .read_text()
            .replace(
                "rate_limit: {requests: 100, per_seconds: 10}", "rate_limit: {requests: 20, per_seconds: 1}"
            )
            .replace("batch_size: 100 ", "batch_size: 10 ")
        )
        path = tmp_path / "pace.yml"
        path.write_text(config)
        monkeypatch.setenv("ONBOARD_SYNC_CONFIG", str(path))
        started = time.monotonic()
        result = sync_destination(target, "hubspot", setup=True)
        elapsed = time.monotonic() - started
        requests_made = len(server.requests)
        assert result.exit_code == 0 and server.rate_limited == 0
        assert requests_made > 60 and elapsed >= (requests_made - 1) / 20


# --- guards ---------------------------------------------------------------------------------


def test_circuit_breaker_refuses_a_mass_change_of_guarded_fields_unless_forced(target, hubspot):
    synced_hubspot(target)
    total = len(contacts(target))
    execute(
        target,
        "update main.crm_contacts set suppress_onboarding = not suppress_onboarding "
        "where email in (select email from main.crm_contacts order by email limit 200)",
    )
    upserts = hubspot.upserts

    with pytest.raises(
        SyncRefusedError, match=rf"200 of {total:,} records already synced .* suppress_onboarding"
    ):
        sync_destination(target, "hubspot")
    assert hubspot.upserts == upserts

    forced = sync_destination(target, "hubspot", force=True)
    assert forced.run.forced and forced.run.succeeded == 200
    # a change of unguarded fields alone never trips it
    execute(target, "update main.crm_contacts set milestone_score = milestone_score + 1")
    assert sync_destination(target, "hubspot").run.succeeded == total


def test_stale_marts_are_refused(target, hubspot):
    execute(target, "update main.crm_contacts set as_of = as_of - interval 3 day")
    with pytest.raises(SyncRefusedError, match=r"7[23] h ago .*run `onboard build` first"):
        sync_destination(target, "hubspot", setup=True)
    assert hubspot.requests == []


def test_validation_gate_blocks_until_accepted_or_forced(target, hubspot):
    with database(target) as db:
        now = utc_now()
        insert_run(db, RunRecord("r-failed", now, now, now, now, [], 10, 1, 0, "failed"))
    with pytest.raises(ValidationGateError, match="r-failed"):
        sync_destination(target, "hubspot", setup=True)
    assert hubspot.requests == []
    assert sync_destination(target, "hubspot", setup=True, force=True).run.forced


def test_dry_run_makes_no_call_and_writes_every_payload(target, tmp_path, monkeypatch):
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    result = sync_destination(target, "hubspot", dry_run=True, results_dir=tmp_path)
    lines = result.plan_file.read_text().splitlines()
    assert len(lines) == result.plan.adds == len(contacts(target))
    first = json.loads(lines[0])
    assert first["kind"] == "add" and isinstance(first["payload"]["onboarding_milestone_score"], str)
    assert query(target, "select status, dry_run from sync.sync_runs") == [("dry_run", True)]


def test_cli_exit_codes_missing_credentials_and_plain_http(target):
    env = {"ONBOARD_DUCKDB_PATH": str(target.duckdb_path), "HUBSPOT_ACCESS_TOKEN": "", "HUBSPOT_BASE_URL": ""}
    assert "no sync has run" in run_onboard("sync", "status", env=env).stderr
    done = run_onboard("sync", "hubspot", env=env)
    assert done.returncode == 2 and "HUBSPOT_ACCESS_TOKEN is not set" in done.stderr
    assert "Traceback" not in done.stderr
    env |= {"HUBSPOT_ACCESS_TOKEN": "secret-token-value", "HUBSPOT_BASE_URL": "http://api.example.com"}
    done = run_onboard("sync", "hubspot", env=env)
    assert done.returncode == 2 and "plain http is refused" in done.stderr
    assert "secret-token-value" not in done.stderr + done.stdout
    assert run_onboard("sync", "nowhere", env=env).returncode == 2
    status = run_onboard("sync", "status", env=env)
    assert status.returncode == 0 and status.stderr.splitlines()[0] == "latest sync runs:"
    assert [line.split()[1] for line in status.stderr.splitlines()[1:3]] == ["failed", "failed"]
    # each refused run is on record with its reason, never the secret
    assert query(target, "select destination, status, message from sync.sync_runs order by started_at") == [
        (
            "hubspot",
            "failed",
            "environment variable HUBSPOT_ACCESS_TOKEN is not set (needed to reach the destination)",
        ),
        ("hubspot", "failed", "HUBSPOT_BASE_URL: plain http is refused except on loopback; use https"),
    ]


#: every var naming a coded column's values, renamed (and one more recovery cycle)
RENAMED_VARS = {
    "routing_confidences": ["certain", "likely", "unsure"],
    "suppression_reasons": [
        "removed",
        "cancelled",
        "opted_out",
        "unpaid",
        "trial_over",
        "withheld",
        "converted",
    ],
    "default_risk_action": "keep_onboarding",
    "checkpoint_states": ["new", "converted", "rescue", "lost", "left"],
    "max_recovery_cycles": 3,
}
CODED_COLUMNS = {
    "crm_contacts": (
        "track",
        "routing_confidence",
        "next_best_action",
        "action_priority",
        "checkpoint_state",
        "stall_step",
        "stall_severity",
        "risk_action",
        "suppression_reason",
    ),
}
CODED_COLUMNS["esp_people"] = (*CODED_COLUMNS["crm_contacts"], "plan_tier")


def test_the_values_hubspot_enumerations_offer_cover_every_value_the_marts_hold(target):
    values = column_values()
    for column in CODED_COLUMNS["crm_contacts"]:
        held = {
            v
            for (v,) in query(
                target, f"select distinct {column} from main.esp_people where {column} is not null"
            )
        }
        assert held <= set(values[column]), column
        assert held, column


def test_the_values_the_sync_offers_follow_the_vars_a_build_uses(target, tmp_path):
    """One source: the SQL, the marts' value tests and the sync read the same vars.

    A build given renamed values (and a third recovery cycle) writes them, its
    accepted_values tests pass, and the values the sync offers HubSpot are those; the same
    marts checked against the default vars fail their value tests.
    """
    renamed = column_values(RENAMED_VARS)
    default = column_values()
    assert renamed["checkpoint_state"] == (
        "new",
        "converted",
        "rescue_1",
        "rescue_2",
        "rescue_3",
        "lost",
        "left",
    )
    assert renamed["suppression_reason"] == tuple(RENAMED_VARS["suppression_reasons"])
    assert renamed["risk_action"] == ("emergency_outreach", "automated_nudge", "keep_onboarding")
    variables = json.dumps({"as_of": dbt_as_of(AS_OF), **RENAMED_VARS})
    marts = "+crm_contacts +esp_people"
    target_path = str(tmp_path / "dbt")
    # the unit tests' expected rows spell the default names: they check the rules, not the names
    built = run_dbt(
        "build",
        "--select",
        marts,
        "--exclude-resource-type",
        "unit_test",
        "--vars",
        variables,
        "--target-path",
        target_path,
        warehouse=target.duckdb_path,
    )
    assert built.returncode == 0, built.stdout[-3000:]

    held: set[str] = set()
    for mart, columns in CODED_COLUMNS.items():
        for column in columns:
            values = {
                v
                for (v,) in query(
                    target, f"select distinct {column} from main.{mart} where {column} is not null"
                )
            }
            assert values and values <= set(renamed[column]), (mart, column, values)
            held |= values
    assert {"certain", "likely", "converted", "keep_onboarding", "rescue_1", "new"} <= held
    assert not held & {
        "activated",
        "normal_onboarding",
        "onboarding",
        "recovery_1",
        "win_back",
        "exited",
        "churned",
    }
    assert renamed["checkpoint_state"] != default["checkpoint_state"]

    tested = run_dbt(
        "test",
        "--select",
        "esp_people",
        "--vars",
        json.dumps({"as_of": dbt_as_of(AS_OF)}),
        "--target-path",
        target_path,
        warehouse=target.duckdb_path,
    )
    assert tested.returncode == 1
    for column in ("routing_confidence", "checkpoint_state", "risk_action", "suppression_reason"):
        assert f"accepted_values_esp_people_{column}" in tested.stdout, column


def test_the_plan_reads_every_row_of_a_model_larger_than_one_page(target):
    from sync.plan import build_plan, drop_scratch

    destination = load_sync_config().destinations["customerio"]
    with database(target) as db:
        from sync.state import ensure_tables

        ensure_tables(db)
        plan = build_plan(db, destination, read_rows=97)  # 600 rows: 7 pages, state written between them
        keys = db.rows("select count(*), count(distinct record_key) from sync.plan_customerio")
        drop_scratch(db, "customerio")
    assert (plan.model_rows, plan.adds) == (CUSTOMERS, CUSTOMERS)
    assert keys == [(CUSTOMERS, CUSTOMERS)]


def test_a_broken_sync_configuration_is_one_line_naming_the_file(target, tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "destinations:\n  hubspot:\n    model: crm_contacts\n    key: email\n"
        "    removed: keep\n    rate_limit: {requests: lots}\n    fields: {track: {type: string}}\n"
    )
    env = {"ONBOARD_DUCKDB_PATH": str(target.duckdb_path), "ONBOARD_SYNC_CONFIG": str(broken)}
    done = run_onboard("sync", "--dry-run", env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{broken}:6: destinations.hubspot.rate_limit.requests: expected a valid integer" in done.stderr
    assert "got 'lots'" in done.stderr
    broken.write_text("destinations: [unclosed\n")
    done = run_onboard("sync", "--dry-run", env=env)
    assert done.returncode == 2 and f"{broken}:2: expected valid YAML" in done.stderr


MAPPINGS = (PROJECT_DIR / "sync" / "mappings.yml").read_text()
TRACK_LINE = "track: {property: onboarding_track, type: enumeration, label: Onboarding track}"
SUPPRESS_LINE = (
    "      suppress_onboarding: {property: suppress_onboarding, type: bool, label: Suppress onboarding}\n"
)


@pytest.mark.parametrize(
    ("old", "new", "line_of", "key", "expected"),
    [
        (
            "removed: clear",
            "removed: sometimes",
            "removed: sometimes",
            "destinations.hubspot.removed",
            "expected 'keep' or 'clear', got 'sometimes'",
        ),
        (
            TRACK_LINE,
            TRACK_LINE.replace("enumeration", "enum"),
            "type: enum,",
            "destinations.hubspot.fields.track.type",
            "'date', got 'enum'",
        ),
        (
            "{property: onboarding_routing_confidence,",
            "{property: onboarding_track,",
            "routing_confidence: {property: onboarding_track",
            "destinations.hubspot.fields.routing_confidence.property",
            "expected a property no other column maps to (track maps to it too), got 'onboarding_track'",
        ),
        (
            SUPPRESS_LINE,
            "",
            "removed: clear",
            "destinations.hubspot.removed",
            "a field mapped to suppress_onboarding",
        ),
        (
            "guarded: [track, suppress",
            "guarded: [tracks, suppress",
            "guarded: [tracks",
            "destinations.hubspot.guarded.0",
            "expected a column mapped under fields, got 'tracks'",
        ),
        (
            "batch_size: 100 ",
            "batch_size: 0 ",
            "batch_size: 0 ",
            "destinations.hubspot.batch_size",
            "expected greater than or equal to 1, got 0",
        ),
        (
            "max_change_share: 0.25",
            "max_change_share: 1.5",
            "max_change_share: 1.5",
            "max_change_share",
            "expected less than or equal to 1, got 1.5",
        ),
        (
            "\n  customerio:\n",
            "\n  mailchimp:\n",
            "mailchimp:",
            "destinations.mailchimp",
            "expected no such key (unknown)",
        ),
        (
            "    property_group: {name: onboarding_paths, label: Onboarding paths}\n",
            "",
            "  hubspot:",
            "destinations.hubspot.property_group",
            "the key is missing",
        ),
    ],
)
def test_every_check_of_the_sync_configuration_names_file_line_and_key(old, new, line_of, key, expected):
    from onboard.core.project_config import ConfigError
    from sync.config import parse_sync_config

    assert old in MAPPINGS
    broken = MAPPINGS.replace(old, new, 1)
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if line_of in text)
    with pytest.raises(ConfigError) as refused:
        parse_sync_config(broken, "m.yml")
    assert str(refused.value).startswith(f"m.yml:{line}: {key}: expected ")
    assert expected in str(refused.value)


def test_hubspots_rate_limit_headers_are_its_own_and_the_core_client_reads_only_retry_after():
    import requests

    from onboard.core.http import retry_after_seconds
    from sync.destinations.hubspot.rate_limit import wait_hint

    answer = requests.Response()
    answer.status_code = 429
    answer.headers.update(
        {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000", "X-HubSpot-RateLimit-Remaining": "0"}
    )
    assert retry_after_seconds(answer) is None and wait_hint(answer) == 10.0
    answer.headers["X-HubSpot-RateLimit-Remaining"] = "3"
    assert wait_hint(answer) is None
    answer.headers["Retry-After"] = "2"
    assert retry_after_seconds(answer) == 2.0
