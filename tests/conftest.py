"""Shared fixtures: small raw folders, throwaway DuckDB warehouses, the CLI as a process."""

from __future__ import annotations

import csv
import fcntl
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from onboard.core.raw_tables import RAW_TABLES
from onboard.core.targets import Target

PROJECT_DIR = Path(__file__).resolve().parent.parent
ONBOARD = str(Path(sys.executable).parent / "onboard")

SMALL_RAW: dict[str, list[dict[str, str | None]]] = {
    "events": [
        {
            "event_id": "e1",
            "event_name": "signup_completed",
            "customer_id": "c1",
            "user_id": "u1",
            "occurred_at": "2026-03-01T10:00:00Z",
            "received_at": "2026-03-01T10:00:01Z",
            "properties": '{"email": "ann@acme.io", "plan_tier": "pro"}',
        },
        {
            "event_id": "e2",
            "event_name": "query_run",
            "customer_id": "c1",
            "user_id": "u1",
            "occurred_at": "not-a-date",
            "received_at": "2026-03-02T10:00:01Z",
            "properties": None,
        },
    ],
    "accounts": [
        {
            "customer_id": "c1",
            "company_name": "Acme",
            "arr": "12000",
            "csm_owner": "bo",
            "updated_at": "2026-03-01T00:00:00Z",
        }
    ],
    "subscriptions": [
        {
            "customer_id": "c1",
            "status": "active",
            "trial_ends_at": None,
            "updated_at": "2026-03-01T00:00:00Z",
        }
    ],
    "email_events": [
        {
            "event_id": "m1",
            "customer_id": "c1",
            "campaign": "day1",
            "event_type": "sent",
            "occurred_at": "2026-03-01T11:00:00Z",
        }
    ],
    "routing_audits": [
        {
            "customer_id": "c1",
            "audited_track": "standard",
            "audited_at": "2026-03-05T00:00:00Z",
            "auditor": "zoe",
        }
    ],
}


def write_csv_table(path: Path, table: str, rows: list[dict[str, str | None]]) -> Path:
    """Write rows as the CSV of a raw table (None becomes an empty field)."""
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(RAW_TABLES[table]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return path


@pytest.fixture
def small_raw_dir(tmp_path: Path) -> Path:
    """A folder with the five raw tables as small CSV files."""
    folder = tmp_path / "raw"
    folder.mkdir()
    for table, rows in SMALL_RAW.items():
        write_csv_table(folder / f"{table}.csv", table, rows)
    return folder


@pytest.fixture
def duckdb_target(tmp_path: Path) -> Target:
    """A DuckDB target in a throwaway file."""
    path = tmp_path / "warehouse.duckdb"
    return Target("duckdb", "duckdb", {"type": "duckdb", "path": str(path), "schema": "main"})


def query(target: Target, sql: str) -> list[tuple]:
    """Rows of sql against a DuckDB target (read-only)."""
    with duckdb.connect(str(target.duckdb_path), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def run_dbt(*args: str, warehouse: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the venv's dbt from the repo root against a DuckDB file."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *args],
        cwd=PROJECT_DIR,
        env={**os.environ, "DBT_PROFILES_DIR": str(PROJECT_DIR), "ONBOARD_DUCKDB_PATH": str(warehouse)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_onboard(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run the onboard CLI as a user would; returns the completed process (text output)."""
    return subprocess.run(
        [ONBOARD, *args],
        cwd=PROJECT_DIR,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def allow_replayed_builds(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sync config that takes marts built as of any past day (the tests' data are replays)."""
    config = (PROJECT_DIR / "sync" / "mappings.yml").read_text()
    (folder / "sync.yml").write_text(
        config.replace("max_as_of_age_hours: 24", "max_as_of_age_hours: 1000000")
    )
    monkeypatch.setenv("ONBOARD_SYNC_CONFIG", str(folder / "sync.yml"))


def sync_both_to_fakes(target: Target, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict]:
    """Sync both destinations from target into fresh fake HubSpot / Customer.io servers.

    A first run (HubSpot with --setup) must succeed and a second must send nothing (the diff
    against the sync state). Returns what landed: (HubSpot contacts, Customer.io people).
    Runs with --force: the callers' builds are replays of a past day.
    """
    from onboard.validate.runs import gate_problem, require_passing_validation
    from sync.gate import ValidationGate
    from sync.runner import sync_destination as run_sync

    from .fakes import FakeCustomerIO, FakeHubSpot

    gate = ValidationGate(require_passing_validation, gate_problem)

    def sync_destination(target: Target, name: str, **options: object):
        return run_sync(target, name, gate=gate, **options)

    with FakeHubSpot(token="t") as hubspot, FakeCustomerIO(site_id="s", api_key="k") as customerio:
        monkeypatch.setenv("HUBSPOT_BASE_URL", hubspot.base_url)
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "t")
        monkeypatch.setenv("CUSTOMERIO_TRACK_URL", customerio.base_url)
        monkeypatch.setenv("CUSTOMERIO_SITE_ID", "s")
        monkeypatch.setenv("CUSTOMERIO_API_KEY", "k")
        contacts = sync_destination(target, "hubspot", setup=True, force=True)
        people = sync_destination(target, "customerio", force=True)
        assert contacts.exit_code == 0 and people.exit_code == 0, (contacts.errors, people.errors)
        assert sync_destination(target, "hubspot", force=True).run.sent == 0
        assert sync_destination(target, "customerio", force=True).run.sent == 0
        return dict(hubspot.contacts), dict(customerio.people)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A validated, built warehouse file, built once per test session and only read (tests copy it).

    Under pytest-xdist the workers share one build: the first to take the lock builds it in the
    session's common temp folder, the others wait and reuse it.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return _build_once(tmp_path_factory.mktemp("sync_built"))
    root = tmp_path_factory.getbasetemp().parent / "sync_built"
    root.mkdir(exist_ok=True)
    with (root.parent / "sync_built.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / "built.done"
        if not done.exists():
            _build_once(root)
            done.touch()
    return root / "w.duckdb"


def _build_once(root: Path) -> Path:
    """Generate, load, validate and build the session's warehouse in root; its file."""
    from onboard.core.as_of import dbt_as_of
    from onboard.generate import GenerateOptions, generate

    from .test_sync import AS_OF, CUSTOMERS

    generate(root / "raw", GenerateOptions(customers=CUSTOMERS, seed=23, as_of=AS_OF, fmt="parquet"))
    env = {"ONBOARD_DUCKDB_PATH": str(root / "w.duckdb"), "ONBOARD_VALIDATION_RESULTS_DIR": str(root / "v")}
    # the rules' unit tests run in test_pipeline: here only the models and their data tests
    build = ("build", "--as-of", dbt_as_of(AS_OF), "--exclude", "test_type:unit")
    for args in (("load", str(root / "raw")), ("validate",), build):
        done = run_onboard(*args, env=env)
        assert done.returncode == 0, done.stderr[-3000:]
    return root / "w.duckdb"
