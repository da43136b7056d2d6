"""`onboard sync` when it cannot do its job: refused credentials, setup missing, a mapping naming no column.

Every case goes through the CLI as a user meets it, against the strict local fakes over loopback
(tests/fakes). What is held to: each destination runs and is recorded whatever happened to the
other; a refusal of the credentials is one run-level failure that queues and marks nothing; a
mistake in sync/mappings.yml is one line naming the file, line and key; the exit code is the
worst of the destinations'.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from onboard.core.as_of import dbt_as_of
from onboard.core.targets import Target

from .conftest import PROJECT_DIR, query, run_onboard
from .fakes import FakeCustomerIO, FakeHubSpot
from .test_sync import AS_OF, CUSTOMERS, FAST_RETRIES, target  # noqa: F401  (fixtures)

HUBSPOT_401 = (
    "hubspot answered 401 (The access token provided is invalid or expired.); check HUBSPOT_ACCESS_TOKEN"
)
CUSTOMERIO_401 = (
    "customerio answered 401 (Unauthorized request); check CUSTOMERIO_SITE_ID / CUSTOMERIO_API_KEY"
)


@pytest.fixture
def fakes():
    """Fresh fake HubSpot and Customer.io, and the environment that points the CLI at them."""
    with (
        FakeHubSpot(token="pat-test") as hubspot,
        FakeCustomerIO(site_id="site-test", api_key="key-test") as cio,
    ):
        env = {
            "HUBSPOT_BASE_URL": hubspot.base_url,
            "HUBSPOT_ACCESS_TOKEN": "pat-test",
            "CUSTOMERIO_TRACK_URL": cio.base_url,
            "CUSTOMERIO_SITE_ID": "site-test",
            "CUSTOMERIO_API_KEY": "key-test",
            **FAST_RETRIES,
        }
        yield hubspot, cio, env


def cli_env(warehouse: Target, tmp_path: Path, env: dict[str, str]) -> dict[str, str]:
    return {
        "ONBOARD_DUCKDB_PATH": str(warehouse.duckdb_path),
        "ONBOARD_SYNC_RESULTS_DIR": str(tmp_path / "plans"),
        "ONBOARD_VALIDATION_RESULTS_DIR": str(tmp_path / "validation"),
        **env,
    }


def runs(warehouse: Target) -> list[tuple]:
    return query(
        warehouse, "select destination, status, message from sync.sync_runs order by started_at, run_id"
    )


def counts(warehouse: Target) -> tuple[int, int]:
    """(records queued for a retry, records marked done)."""
    errors = query(warehouse, "select count(*) from sync.sync_errors")[0][0]
    state = query(warehouse, "select count(*) from sync.sync_state")[0][0]
    return errors, state


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("onboard: error:")]


# --- destinations are independent ---------------------------------------------------------------


def test_a_hubspot_401_is_recorded_and_customerio_still_syncs(target, fakes, tmp_path):  # noqa: F811
    hubspot, customerio, env = fakes
    done = run_onboard(
        "sync", "all", env=cli_env(target, tmp_path, {**env, "HUBSPOT_ACCESS_TOKEN": "bad-token"})
    )

    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert "bad-token" not in done.stderr + done.stdout
    assert error_lines(done.stderr) == [f"onboard: error: sync hubspot: {HUBSPOT_401}"]
    assert "sync: hubspot failed (exit 2), customerio succeeded; exit code 2" in done.stderr.splitlines()
    assert runs(target) == [("hubspot", "failed", HUBSPOT_401), ("customerio", "succeeded", None)]
    assert hubspot.contacts == {} and len(customerio.people) == CUSTOMERS
    assert counts(target) == (0, CUSTOMERS)


def test_the_daily_run_records_both_destinations_when_both_fail(target, fakes, tmp_path):  # noqa: F811
    """`onboard run`: HubSpot lacks its properties (no --setup yet), Customer.io refuses the key."""
    hubspot, customerio, env = fakes
    env = cli_env(target, tmp_path, {**env, "CUSTOMERIO_API_KEY": "bad-key"})
    done = run_onboard("run", "--as-of", dbt_as_of(AS_OF), env=env)

    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert "bad-key" not in done.stderr + done.stdout
    [hubspot_line, customerio_line] = error_lines(done.stderr)
    assert re.fullmatch(
        r"onboard: error: sync hubspot: hubspot: property onboarding_\w+ does not exist; .*"
        r"run `onboard sync hubspot --setup` to create the properties and options",
        hubspot_line,
    )
    assert customerio_line == f"onboard: error: sync customerio: {CUSTOMERIO_401}"
    assert (
        "sync: hubspot failed (exit 2), customerio failed (exit 2); exit code 2" in done.stderr.splitlines()
    )
    [(dest1, status1, message1), (dest2, status2, message2)] = runs(target)
    assert (dest1, status1, dest2, status2) == ("hubspot", "failed", "customerio", "failed")
    assert hubspot_line.endswith(message1) and message2 == CUSTOMERIO_401
    assert hubspot.contacts == {} and customerio.people == {}
    assert counts(target) == (0, 0)


# --- refused credentials, a wrong URL: one run-level failure -------------------------------------


@pytest.mark.parametrize(
    ("setting", "status", "message"),
    [
        (("CUSTOMERIO_API_KEY", "bad-key"), 401, CUSTOMERIO_401),
        (
            ("CUSTOMERIO_TRACK_URL", "/v1"),
            404,
            "customerio answered 404 for /api/v2/batch (No route for POST /v1/api/v2/batch); "
            "check CUSTOMERIO_TRACK_URL",
        ),
    ],
)
def test_a_customerio_refusal_of_every_record_stops_the_run_at_once_and_queues_nothing(
    target,  # noqa: F811
    fakes,
    tmp_path,
    setting,
    status,
    message,
):
    _, customerio, env = fakes
    variable, value = setting
    value = env[variable] + value if value.startswith("/") else value
    done = run_onboard("sync", "customerio", env=cli_env(target, tmp_path, {**env, variable: value}))

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "bad-key" not in done.stderr + done.stdout
    assert error_lines(done.stderr) == [f"onboard: error: {message}"]
    assert [r.status for r in customerio.requests] == [status], "the first refusal stops the run"
    assert runs(target) == [("customerio", "failed", message)]
    assert query(target, "select planned, sent, succeeded, failed from sync.sync_runs") == [
        (CUSTOMERS, 0, 0, 0)
    ]
    assert counts(target) == (0, 0), "nothing queued for a retry, nothing marked done"
    assert (
        "records waiting for a retry: 0"
        in run_onboard("sync", "status", env=cli_env(target, tmp_path, env)).stderr
    )


# --- sync/mappings.yml naming what the model lacks ------------------------------------------------


MAPPINGS = (PROJECT_DIR / "sync" / "mappings.yml").read_text()
ESP_COLUMNS = (
    "customer_id, email, plan_tier, signup_at, track, routing_confidence, milestone_score, next_best_action, "
    "action_priority, is_activated, activated_at, checkpoint_state, stall_step, stall_severity, "
    "stalled_since, risk_action, is_product_qualified, pql_reason, pql_at, suppress_onboarding, "
    "global_suppression, suppression_reason, frequency_capped, as_of"
)


@pytest.mark.parametrize(
    ("old", "new", "key", "got"),
    [
        (
            "      plan_tier: {property: plan_tier, type: string}\n",
            "      nosuch: {property: plan_tier, type: string}\n",
            "destinations.customerio.fields.nosuch",
            "nosuch",
        ),
        ("    key: customer_id\n", "    key: person_id\n", "destinations.customerio.key", "person_id"),
    ],
)
def test_a_mapped_column_the_model_lacks_is_one_line_naming_file_line_and_key(
    target,  # noqa: F811
    tmp_path,
    old,
    new,
    key,
    got,
):
    assert MAPPINGS.count(old) == 1
    broken = tmp_path / "mappings.yml"
    text = MAPPINGS.replace(old, new).replace("max_as_of_age_hours: 24", "max_as_of_age_hours: 1000000")
    broken.write_text(text)
    line = text.splitlines().index(new.rstrip("\n")) + 1
    env = cli_env(target, tmp_path, {"ONBOARD_SYNC_CONFIG": str(broken)})

    for args in (("sync", "customerio", "--dry-run"), ("sync", "customerio")):
        done = run_onboard(*args, env=env)
        assert done.returncode == 2, done.stderr[-3000:]
        assert "Traceback" not in done.stderr and "Binder" not in done.stderr
        assert error_lines(done.stderr) == [
            f"onboard: error: {broken}:{line}: {key}: expected a column of main.esp_people "
            f"(columns: {ESP_COLUMNS}), got {got!r}"
        ]
    assert not (tmp_path / "plans").exists(), "no plan written"
    assert counts(target) == (0, 0)
    assert [(d, s) for d, s, _ in runs(target)] == [("customerio", "failed")] * 2


def test_a_model_without_as_of_is_one_line_naming_the_model_key(target, tmp_path):  # noqa: F811
    broken = tmp_path / "mappings.yml"
    text = MAPPINGS.replace("    model: esp_people\n", "    model: path_metrics\n")
    broken.write_text(text)
    line = text.splitlines().index("    model: path_metrics") + 1
    done = run_onboard(
        "sync", "customerio", "--dry-run", env=cli_env(target, tmp_path, {"ONBOARD_SYNC_CONFIG": str(broken)})
    )

    assert done.returncode == 2 and "Traceback" not in done.stderr
    [message] = error_lines(done.stderr)
    assert message.startswith(
        f"onboard: error: {broken}:{line}: destinations.customerio.model: expected a model with an as_of column "
        "(the sync marts' build time); main.path_metrics (columns: track, customers, "
    )
    assert message.endswith(", is_all_tracks), got 'path_metrics'")
    assert counts(target) == (0, 0)


# --- --setup says what it does ----------------------------------------------------------------------


def test_the_setup_option_says_it_runs_the_full_sync_too():
    done = run_onboard("sync", "--help", env={"COLUMNS": "100"})
    text = " ".join(re.sub(r"[│╭╮╰╯─]", " ", done.stdout).split())
    assert done.returncode == 0
    assert (
        "--setup <bool> Create / update HubSpot's property group, properties and enumeration options, then run "
        "the full sync as usual: every changed record is sent (Customer.io needs no setup). "
        "With --dry-run nothing is created or sent."
    ) in text
