"""PostgreSQL builds the same results as DuckDB, and its raw loads are all or nothing.

The same raw folder is loaded into a throwaway DuckDB file and into a throwaway PostgreSQL
sandbox (random schemas, dropped afterwards; see tests/postgres.py), both are built with
`dbt build` at the same as_of, and every staging model (then every intermediate model and
mart) is compared cell by cell. The small
data set exercises the edge cases on purpose (duplicates, every unusable reason, lenient and
broken JSON, typed properties, timestamp texts in many forms); the generated one (about
2,000 customers from `onboard.generate`) checks realistic volume.

Needs a PostgreSQL server (PG* variables, defaults of `bash .ci/start-postgres`): the tests
skip without one, except when the variable CI is set, where they fail.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest
import yaml

from onboard.core.errors import InputError
from onboard.core.raw_tables import RAW_TABLES
from onboard.core.targets import Target
from onboard.load import load

from .conftest import SMALL_RAW, allow_replayed_builds, run_onboard, sync_both_to_fakes, write_csv_table
from .postgres import (
    PROJECT_DIR,
    DbtBuild,
    Relation,
    Sandbox,
    connect,
    dbt_build,
    first_difference,
    read_duckdb,
    read_postgres,
    require_server,
    row_order,
    sandbox,
    table_snapshot,
    with_load_order,
)

SMALL_AS_OF = "2026-03-10 00:00:00"
GENERATED_AS_OF = datetime(2026, 3, 16, 12, tzinfo=UTC)
GENERATED_CUSTOMERS = 2000
POSTGRES_IDENTIFIER_LIMIT = 63
#: Seconds a dbt build may take before the test gives up on it (normally well under a minute).
BUILD_TIMEOUT = 240

#: Columns that identify a row of each staging model (the order rows are compared in); other
#: models are ordered by customer_id when they have one, then by all their columns.
STAGING_KEYS: dict[str, tuple[str, ...]] = {
    "base_product__events": ("event_id",),
    "stg_product__events": ("event_id",),
    "stg_product__events_unusable": ("reason", "event_id", "customer_id", "occurred_at"),
    "stg_billing__accounts": ("customer_id",),
    "stg_billing__subscriptions": ("customer_id",),
    "stg_esp__email_events": ("event_id",),
    "stg_cs__routing_audits": ("customer_id", "audited_at"),
}

#: Columns holding the `_loaded_at` stamp of the load a row came from: each side is loaded at
#: its own moment, so these compare as load numbers (see with_load_order).
LOAD_STAMP_COLUMNS = ("_loaded_at", "first_loaded_at", "first_loaded_on", "last_loaded_at", "loaded_at")

Row = dict[str, str | None]


def _event(
    event_id: str | None,
    name: str | None,
    customer: str | None,
    occurred: str | None,
    properties: str | None = "{}",
    received: str | None = None,
    user: str | None = "u1",
) -> Row:
    return {
        "event_id": event_id,
        "event_name": name,
        "customer_id": customer,
        "user_id": user,
        "occurred_at": occurred,
        "received_at": received,
        "properties": properties,
    }


#: Timestamp texts DuckDB reads (each as some instant) or refuses, in many forms; staging
#: must read each the same way on PostgreSQL (see the try_timestamp UDF in macros/cross_db).
#: No IANA zone names (Europe/Paris): DuckDB 1.4.4 then reads the zone-less texts that follow
#: in the same vector in that zone too, so its own result depends on row order.
TIMESTAMP_TEXTS = (
    "2026-03-01T10:00:00Z",
    "2026-03-01 10:00:00",
    "2026-03-01T10:00:00",
    "2026-03-01",
    "2026-03-01 10:00",
    "2026-03-01T12:00:00+02:00",
    "2026-03-01T12:00:00+0200",
    "2026-03-01T12:00:00+02",
    "2026-03-01T10:00:00-05:30",
    "2026-03-01T10:00:00+99:99",
    "2026-03-01T10:00:00.1234567Z",
    "2026-03-01T10:00:00.9999999",
    "2026-03-01T10:00:00.",
    "2026-03-01T24:00:00Z",
    "2026-03-01T10:00:00 UTC",
    "2026-03-01T10:00:00 utc",
    "2026/03/01 10:00:00",
    "2026-3-1 1:2:3",
    " 2026-03-01T10:00:00Z ",
    "2026-03-01T10:00:00 ",
    "epoch",
    " Epoch ",
    "0026-03-01",
    "2024-02-29",
    # refused by DuckDB (and so null on both)
    "2026-02-29",
    "2026-03-01T10:00Z",
    "2026-03-01t10:00:00z",
    "2026-03-01T10:00:00 Z",
    "2026-03-01T10:00:00  UTC",
    "2026-03-01T23:59:60Z",
    "2026-03-01T24:00:01Z",
    "2026-03-01\t",
    "2026-03-01T10:00:00\t",
    "2026-13-45T99:00:00Z",
    "1970-01-01 25:61",
    "20260301T100000Z",
    "20260301",
    "03/01/2026",
    "01.03.2026",
    "March 1 2026",
    "Mon, 02 Mar 2026 10:00:00 +0000",
    "J2461101",
    "2026-060",
    "yesterday",
    "today",
    "now",
    "tomorrow",
    "allballs",
    "not-a-date",
    "",
)

#: Properties texts: strict JSON, what DuckDB's reader also accepts (trailing commas,
#: NaN / Infinity), and what it refuses.
PROPERTIES_TEXTS = (
    '{"rows": 5}',
    '{"rows": 5,}',
    '{"rows": [1, 2,],}',
    '{"rows": NaN}',
    '{"rows": -Infinity}',
    '{"rows": inf, "x": "a,}"}',
    '{"rows": 0.5}',
    '{"rows": 100.0}',
    '{"rows": "7"}',
    ' {"rows": 3} ',
    "{}",
    None,
    "",
    "{,}",
    '{"rows": 1,,}',
    '{"rows": +Infinity}',
    "not json",
    "[1,2]",
    '"text"',
    "{bad",
    '{"rows": 1} {"rows": 2}',
    "null",
)


def extended_small_raw() -> dict[str, list[Row]]:
    """SMALL_RAW plus rows for every edge case staging handles (docs/definitions.md#edge-cases)."""
    signup = "signup_completed"
    events = [
        # typed properties of signups (tiers case-sensitive, company_size a JSON integer >= 1)
        _event(
            "s2",
            signup,
            "c2",
            "2026-03-02T09:00:00Z",
            '{"email": "not an email", "plan_tier": "Pro", "company_size": "12", "industry": ""}',
        ),
        _event(
            "s3",
            signup,
            "c3",
            "2026-03-02T09:30:00Z",
            '{"email": null, "plan_tier": null, "company_size": 3.5, "industry": "café"}',
        ),
        _event(
            "s4",
            signup,
            "c4",
            "2026-03-03T08:00:00+01:00",
            '{"email": "a@b", "plan_tier": "trial", "company_size": 0, "role": 7}',
        ),
        _event(
            "s5",
            signup,
            "c5",
            "2026-03-03T11:00:00Z",
            '{"email": "x@y.co", "plan_tier": "enterprise", "company_size": 1, '
            '"signup_source": "ads", "utm_source": 1.5}',
        ),
        _event(
            "p1",
            "plan_changed",
            "c1",
            "2026-03-04T10:00:00Z",
            '{"to_tier": "enterprise", "from_tier": "pro", "plan_tier": "free"}',
        ),
        _event("p2", "plan_changed", "c2", "2026-03-04T10:00:00Z", '{"to_tier": "Enterprise"}'),
        _event("d1", "data_imported", "c1", "2026-03-02T10:00:00Z", '{"rows": 0}'),
        _event("d2", "data_imported", "c2", "2026-03-02T10:00:00Z", '{"rows": -1}'),
        _event("t1", "support_ticket_opened", "c1", "2026-03-05T10:00:00Z", '{"ticket_id": 42}'),
        _event("t2", "support_ticket_resolved", "c1", "2026-03-05T12:00:00Z", '{"ticket_id": "42"}'),
        _event("t3", "support_ticket_opened", "c2", "2026-03-05T10:00:00Z", '{"ticket_id": {"id": 1}}'),
        _event("i1", "teammate_invited", "c1", "2026-03-03T10:00:00Z", '{"invitee_email": "bo@acme.io"}'),
        _event("i2", "teammate_invited", "c2", "2026-03-03T10:00:00Z", '{"invitee_email": "bo at acme"}'),
        _event("g1", "integration_connected", "c1", "2026-03-04T09:00:00Z", '{"integration": "slack"}'),
        _event("g2", "integration_connected", "c3", "2026-03-04T09:00:00Z", "{}"),
        _event("q1", "query_run", "c1", "2026-03-02T11:00:00Z", None),
        _event("q2", "query_run", "c5", "2026-03-20T11:00:00Z", "{}"),  # after as_of
        # duplicates: earliest received_at, then earliest occurred_at, then smallest properties
        _event("dup1", "query_run", "c1", "2026-03-06T10:00:00Z", '{"n": 2}', "2026-03-06T10:05:00Z"),
        _event("dup1", "query_run", "c1", "2026-03-06T10:00:00Z", '{"n": 1}', "2026-03-06T10:01:00Z"),
        _event("dup2", "query_run", "c1", "2026-03-06T10:00:05Z", '{"n": 1}', "2026-03-06T10:10:00Z"),
        _event("dup2", "query_run", "c1", "2026-03-06T10:00:01Z", '{"n": 2}', "2026-03-06T10:10:00Z"),
        _event("dup3", "query_run", "c1", "2026-03-06T10:00:00Z", '{"k": "apple"}', "2026-03-06T10:10:00Z"),
        _event("dup3", "query_run", "c1", "2026-03-06T10:00:00Z", '{"k": "Zebra"}', "2026-03-06T10:10:00Z"),
        _event("dup4", "query_run", "c1", "2026-03-06T10:00:00Z", '{"n": 1}', None),
        _event("dup4", "query_run", "c1", "2026-03-06T10:00:00Z", '{"n": 2}', "2026-03-09T00:00:00Z"),
        _event("dup5", "tutorial_completed", "c2", "2026-03-06T10:00:00Z", "{}", "2026-03-06T10:00:00Z"),
        _event("dup5", "tutorial_completed", "c2", "2026-03-06T10:00:00Z", "{}", "2026-03-06T10:00:00Z"),
        # every unusable reason, in the order of docs/definitions.md#unusable-rows
        _event("", "query_run", "c1", "2026-03-01T10:00:00Z"),
        _event("", "query_run", "c1", "2026-03-01T10:00:00Z"),
        _event(None, "nope", None, "bad", "[1]"),
        _event("n1", "query_run", None, "bad", "[1]"),
        _event("n2", "query_run", "", "2026-03-01T10:00:00Z"),
        _event("u1", "page_viewed", "c1", "2026-03-01T10:00:00Z"),
        _event("u2", "Query_Run", "c1", "2026-03-01T10:00:00Z"),
        _event("u3", None, "c1", "2026-03-01T10:00:00Z"),
    ]
    events += [_event(f"ts{i:02d}", "session_started", "c1", text) for i, text in enumerate(TIMESTAMP_TEXTS)]
    events += [
        _event(f"js{i:02d}", "data_imported", "c4", "2026-03-07T10:00:00Z", text)
        for i, text in enumerate(PROPERTIES_TEXTS)
    ]
    accounts = [
        {
            "customer_id": "c1",
            "company_name": "Acme Old",
            "arr": "9000",
            "csm_owner": "al",
            "updated_at": "2026-02-01T00:00:00Z",
        },
        {
            "customer_id": "c2",
            "company_name": "Zeta",
            "arr": "-5",
            "csm_owner": None,
            "updated_at": "2026-03-01T00:00:00Z",
        },
        {
            "customer_id": "c2",
            "company_name": "alpha",
            "arr": "-5",
            "csm_owner": None,
            "updated_at": "2026-03-01T00:00:00Z",
        },
        {
            "customer_id": "c3",
            "company_name": "Bad Arr",
            "arr": "12k",
            "csm_owner": "",
            "updated_at": "2026-03-01T00:00:00+01:00",
        },
        {
            "customer_id": "c4",
            "company_name": "Éclair",
            "arr": "25000.50",
            "csm_owner": "cy",
            "updated_at": None,
        },
        {"customer_id": "c5", "company_name": "", "arr": "1e3", "csm_owner": "dee", "updated_at": "epoch"},
        {"customer_id": "", "company_name": "No Id", "arr": "1", "csm_owner": "cy", "updated_at": None},
    ]
    subscriptions = [
        {
            "customer_id": "c1",
            "status": "trialing",
            "trial_ends_at": "2026-03-15T00:00:00Z",
            "updated_at": "2026-02-01T00:00:00Z",
        },
        {
            "customer_id": "c2",
            "status": "past_due",
            "trial_ends_at": None,
            "updated_at": "2026-03-05T00:00:00Z",
        },
        {
            "customer_id": "c2",
            "status": "active",
            "trial_ends_at": None,
            "updated_at": "2026-03-05T00:00:00Z",
        },
        {
            "customer_id": "c3",
            "status": "cancelled",
            "trial_ends_at": "yesterday",
            "updated_at": "2026-03-05 10:00",
        },
        {
            "customer_id": "c4",
            "status": "deleted",
            "trial_ends_at": "2026-03-01T10:00:00.1234567Z",
            "updated_at": None,
        },
    ]
    email_events = [
        {
            "event_id": "m1",
            "customer_id": "c1",
            "campaign": "day1",
            "event_type": "opened",
            "occurred_at": "2026-03-01T10:05:00Z",
        },
        {
            "event_id": "m1",
            "customer_id": "c1",
            "campaign": "day1",
            "event_type": "opened",
            "occurred_at": "2026-03-01T12:00:00+02:00",
        },
        {
            "event_id": "m2",
            "customer_id": "",
            "campaign": "day1",
            "event_type": "sent",
            "occurred_at": "2026-03-01T10:00:00Z",
        },
        {
            "event_id": "m3",
            "customer_id": "c1",
            "campaign": "day3",
            "event_type": "clicked",
            "occurred_at": "yesterday",
        },
        {
            "event_id": "m4",
            "customer_id": "c2",
            "campaign": "",
            "event_type": "bounced",
            "occurred_at": "2026-03-02 08:00",
        },
        {
            "event_id": "",
            "customer_id": "c1",
            "campaign": "day1",
            "event_type": "sent",
            "occurred_at": "2026-03-01T10:00:00Z",
        },
        {
            "event_id": "m5",
            "customer_id": "c3",
            "campaign": "day2",
            "event_type": "unsubscribed",
            "occurred_at": "2026-03-12T10:00:00Z",
        },
    ]
    routing_audits = [
        {
            "customer_id": "c2",
            "audited_track": "self_serve",
            "audited_at": "2026-03-08T00:00:00Z",
            "auditor": "zoe",
        },
        {"customer_id": "c3", "audited_track": "premium", "audited_at": "2026-03-08 09:00", "auditor": ""},
        {"customer_id": "c4", "audited_track": "high_touch", "audited_at": "now", "auditor": "zoe"},
        {
            "customer_id": "",
            "audited_track": "standard",
            "audited_at": "2026-03-08T00:00:00Z",
            "auditor": "zoe",
        },
    ]
    extra = {
        "events": events,
        "accounts": accounts,
        "subscriptions": subscriptions,
        "email_events": email_events,
        "routing_audits": routing_audits,
    }
    return {table: [*SMALL_RAW[table], *extra[table]] for table in RAW_TABLES}


def write_raw_folder(folder: Path, tables: dict[str, list[Row]]) -> Path:
    """A raw folder of CSV files, one per table."""
    folder.mkdir(parents=True, exist_ok=True)
    for table, rows in tables.items():
        write_csv_table(folder / f"{table}.csv", table, rows)
    return folder


def duckdb_target(path: Path) -> Target:
    """A DuckDB target in the file at path."""
    return Target("duckdb", "duckdb", {"type": "duckdb", "path": str(path), "schema": "main"})


@dataclass(frozen=True)
class Builds:
    """The same raw folder loaded and built on DuckDB and on PostgreSQL."""

    box: Sandbox
    duckdb_path: Path
    duckdb: DbtBuild
    postgres: DbtBuild

    def require_success(self) -> None:
        """Fail the test (with dbt's own account) unless both builds passed."""
        failed = [build.summary() for build in (self.duckdb, self.postgres) if build.returncode != 0]
        if failed:
            pytest.fail("\n\n".join(failed), pytrace=False)


def load_and_build_both(folder: Path, work: Path, box: Sandbox, as_of: str) -> Builds:
    """Load folder into a new DuckDB file and into the sandbox, then build both at once."""
    duckdb_path = work / "warehouse.duckdb"
    target = duckdb_target(duckdb_path)
    load(folder, target)
    load(folder, box.target(), schema=box.raw_schema)
    with ThreadPoolExecutor(max_workers=2) as pool:
        duck = pool.submit(dbt_build, target, work / "dbt-duckdb", {"as_of": as_of}, None, BUILD_TIMEOUT)
        postgres = pool.submit(
            dbt_build,
            box.target(),
            work / "dbt-postgres",
            {"as_of": as_of, "raw_schema": box.raw_schema},
            box.environment,
            BUILD_TIMEOUT,
        )
        return Builds(box, duckdb_path, duck.result(), postgres.result())


#: models the generated data leaves empty: int_experiment_assignments has rows only with var
#: `experiments` (tests/test_experiment_assignment.py compares it on PostgreSQL), and the
#: generator's re-sent events are exact copies, so stg_product__events_conflicts holds none
#: (its rule is unit-tested in models/staging/product/_product__unit_tests.yml)
EMPTY_ON_GENERATED_DATA = {"int_experiment_assignments", "stg_product__events_conflicts"}


def model_differences(builds: Builds, folder: str) -> list[str]:
    """The first differing cell (or row, or column list) of every model under models/<folder>/."""
    builds.require_success()
    duck_relations = builds.duckdb.relations(folder)
    postgres_relations = builds.postgres.relations(folder)
    assert duck_relations, f"no models under models/{folder}/"
    if folder == "staging":
        assert set(STAGING_KEYS) <= set(duck_relations), sorted(duck_relations)
    assert set(duck_relations) == set(postgres_relations)
    differences = []
    for name in sorted(duck_relations):
        duck = with_load_order(read_duckdb(builds.duckdb_path, duck_relations[name]), LOAD_STAMP_COLUMNS)
        postgres = with_load_order(
            read_postgres(builds.box.server, postgres_relations[name]), LOAD_STAMP_COLUMNS
        )
        if name not in EMPTY_ON_GENERATED_DATA:
            assert duck.rows, f"{name} is empty on DuckDB: the comparison would prove nothing"
        difference = first_difference(name, STAGING_KEYS.get(name, ("customer_id",)), duck, postgres)
        if difference:
            differences.append(difference)
    return differences


@pytest.fixture(scope="module")
def server() -> dict[str, str]:
    """The PostgreSQL server of the PG* environment (skip, or fail under CI, without one)."""
    return require_server()


@pytest.fixture(scope="module")
def small_builds(server: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    """The extended small raw data, built on DuckDB and PostgreSQL at SMALL_AS_OF."""
    work = tmp_path_factory.mktemp("small")
    folder = write_raw_folder(work / "raw", extended_small_raw())
    with sandbox(server) as box:
        yield load_and_build_both(folder, work, box, SMALL_AS_OF)


@pytest.fixture(scope="module")
def generated_builds(server: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    """About 2,000 generated customers, built on DuckDB and PostgreSQL at GENERATED_AS_OF."""
    try:
        from onboard.generate import GenerateOptions, generate
    except ImportError as error:
        pytest.skip(f"onboard.generate cannot be imported ({error}): no generated data to compare")
    work = tmp_path_factory.mktemp("generated")
    options = GenerateOptions(
        customers=GENERATED_CUSTOMERS, seed=20260316, as_of=GENERATED_AS_OF, fmt="parquet"
    )
    generate(work / "raw", options)
    as_of = GENERATED_AS_OF.strftime("%Y-%m-%d %H:%M:%S")
    with sandbox(server) as box:
        yield load_and_build_both(work / "raw", work, box, as_of)


def test_unit_test_and_model_names_fit_postgres_identifiers():
    """dbt names a relation after each model and unit test; PostgreSQL refuses names over 63
    characters, so a longer one errors on PostgreSQL only ("check the data types")."""
    names = [(path.stem, path) for path in (PROJECT_DIR / "models").rglob("*.sql")]
    for path in (PROJECT_DIR / "models").rglob("*.yml"):
        document = yaml.safe_load(path.read_text()) or {}
        names += [(test["name"], path) for test in document.get("unit_tests") or []]
    too_long = [
        f"{name} ({len(name)} characters, {path.relative_to(PROJECT_DIR)})"
        for name, path in names
        if len(name) > POSTGRES_IDENTIFIER_LIMIT
    ]
    assert not too_long, "longer than PostgreSQL's 63 characters:\n" + "\n".join(too_long)


def test_comparison_names_the_key_and_column_of_the_first_differing_cell():
    duck = Relation(["id", "amount", "at"], [("b", Decimal("2.50"), None), ("a", 1, None)])
    same = Relation(["id", "amount", "at"], [("a", 1.0, None), ("b", 2.5, None)])
    other = Relation(["id", "amount", "at"], [("a", 1.0, None), ("b", 2.4, None)])

    assert first_difference("m", ("id",), duck, same) is None
    assert first_difference("m", ("id",), duck, other) == (
        "m: row {'id': 'b'}, column amount: duckdb 2.5, postgres 2.4"
    )


@pytest.mark.postgres
def test_build_of_small_edge_case_data_passes_on_duckdb_and_postgres(small_builds: Builds):
    small_builds.require_success()


@pytest.mark.postgres
def test_staging_models_match_duckdb_cell_by_cell_on_small_edge_case_data(small_builds: Builds):
    differences = model_differences(small_builds, "staging")

    assert not differences, "PostgreSQL differs from DuckDB:\n" + "\n".join(differences)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("builds", "folder"),
    [
        ("generated_builds", "staging"),
        ("small_builds", "intermediate"),
        ("small_builds", "marts"),
        ("generated_builds", "intermediate"),
        ("generated_builds", "marts"),
    ],
)
def test_models_match_duckdb_cell_by_cell(request: pytest.FixtureRequest, builds: str, folder: str):
    """Every model of a folder, built on PostgreSQL and on DuckDB from the same raw rows
    (small edge-case data or generated customers), holds the same cells."""
    differences = model_differences(request.getfixturevalue(builds), folder)

    assert not differences, "PostgreSQL differs from DuckDB:\n" + "\n".join(differences)


# --- onboard load on PostgreSQL: refusals and one transaction ----------------------------------


@pytest.fixture
def load_box(server: dict[str, str]) -> Iterator[Sandbox]:
    """A sandbox for raw loads only (no dbt objects on top of its raw tables)."""
    with sandbox(server) as box:
        yield box


def _changed_raw(folder: Path) -> Path:
    """SMALL_RAW with one more row in every table: a load of it would be visible everywhere."""
    tables = {table: [*rows, rows[0]] for table, rows in SMALL_RAW.items()}
    return write_raw_folder(folder, tables)


@pytest.mark.postgres
def test_load_refuses_a_file_missing_a_column_and_leaves_postgres_raw_tables_as_they_were(
    load_box: Sandbox, small_raw_dir: Path, tmp_path: Path
):
    load(small_raw_dir, load_box.target(), schema=load_box.raw_schema)
    before = table_snapshot(load_box, list(RAW_TABLES))
    bad = _changed_raw(tmp_path / "bad")
    header = [c for c in RAW_TABLES["routing_audits"] if c != "auditor"]
    (bad / "routing_audits.csv").write_text(",".join(header) + "\nc1,standard,2026-03-05T00:00:00Z\n")

    with pytest.raises(InputError, match=r"routing_audits\.csv: missing column auditor"):
        load(bad, load_box.target(), schema=load_box.raw_schema)

    assert table_snapshot(load_box, list(RAW_TABLES)) == before


@pytest.mark.postgres
def test_load_failing_in_the_last_table_rolls_back_every_postgres_raw_table(
    load_box: Sandbox, small_raw_dir: Path, tmp_path: Path
):
    """A NUL character reads fine but PostgreSQL cannot store it: the COPY of the last table
    fails after the others were replaced, and the whole load must roll back."""
    load(small_raw_dir, load_box.target(), schema=load_box.raw_schema)
    before = table_snapshot(load_box, list(RAW_TABLES))
    bad = _changed_raw(tmp_path / "bad")
    audits = [*SMALL_RAW["routing_audits"], {**SMALL_RAW["routing_audits"][0], "auditor": "zo\x00e"}]
    write_csv_table(bad / "routing_audits.csv", "routing_audits", audits)

    with pytest.raises(InputError, match=r"routing_audits\.csv: PostgreSQL refused a value: .*0x00"):
        load(bad, load_box.target(), schema=load_box.raw_schema)

    assert table_snapshot(load_box, list(RAW_TABLES)) == before


@pytest.fixture
def throwaway_database(server: dict[str, str]) -> Iterator[dict[str, str]]:
    """The server environment pointing at a new, empty database, dropped afterwards.

    `onboard load` always writes schema `raw`, so the CLI is only run in a database of its own.
    """
    name = f"test_load_{secrets.token_hex(4)}"
    with closing(connect(server)) as connection, connection.cursor() as cursor:
        try:
            cursor.execute(f'create database "{name}"')
        except psycopg2.errors.InsufficientPrivilege:
            pytest.skip(
                f"role {server['PGUSER']} cannot create databases; `onboard load` writes schema "
                "raw, so the CLI test does not run against the developer's database"
            )
    try:
        yield {**server, "PGDATABASE": name}
    finally:
        with closing(connect(server)) as connection, connection.cursor() as cursor:
            cursor.execute(f'drop database if exists "{name}" with (force)')


def _raw_rows(server: dict[str, str]) -> dict[str, list[tuple]]:
    with closing(connect(server)) as connection, connection.cursor() as cursor:
        rows = {}
        for table in RAW_TABLES:
            cursor.execute(f"select * from raw.{table}")
            rows[table] = sorted(cursor.fetchall(), key=row_order)
        return rows


@pytest.mark.postgres
def test_onboard_load_cli_refuses_a_missing_column_and_leaves_postgres_raw_tables_as_they_were(
    throwaway_database: dict[str, str], small_raw_dir: Path, tmp_path: Path
):
    env = throwaway_database
    loaded = run_onboard("load", str(small_raw_dir), "--target", "postgres", env=env)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    before = _raw_rows(throwaway_database)
    bad = _changed_raw(tmp_path / "bad")
    header = [c for c in RAW_TABLES["events"] if c != "properties"]
    (bad / "events.csv").write_text(",".join(header) + "\ne1,query_run,c1,u1,2026-03-01T10:00:00Z,\n")

    refused = run_onboard("load", str(bad), "--target", "postgres", env=env)

    assert refused.returncode != 0
    assert "events.csv: missing column properties" in refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr
    assert _raw_rows(throwaway_database) == before


@pytest.mark.postgres
def test_reloading_raw_tables_after_a_build_works_on_postgres(small_builds: Builds, tmp_path: Path):
    small_builds.require_success()
    folder = write_raw_folder(tmp_path / "raw", extended_small_raw())

    load(folder, small_builds.box.target(), schema=small_builds.box.raw_schema)


# --- onboard validate on PostgreSQL: the same verdicts as on DuckDB ----------------------------


def _verdicts(results_dir: Path) -> dict[tuple[str, str, str, str], tuple[int, int, str]]:
    """(suite, check, kind, event) -> (rows, failing, outcome) of the one run written to results_dir."""
    (path,) = results_dir.glob("*.json")
    saved = json.loads(path.read_text())
    return {
        (suite["name"], item["check"], item["kind"], item["event"]): (
            item["rows"],
            item["failing"],
            item["outcome"],
        )
        for suite in saved["suites"]
        for item in suite["expectations"]
    }


@pytest.mark.postgres
@pytest.mark.parametrize("data", ["small", "generated"])
def test_validate_on_postgres_gives_the_same_verdicts_as_on_duckdb(
    throwaway_database: dict[str, str], tmp_path: Path, data: str
):
    folder = tmp_path / "raw"
    if data == "small":
        write_raw_folder(folder, extended_small_raw())
    else:
        from onboard.generate import GenerateOptions, generate

        generate(folder, GenerateOptions(customers=500, seed=5, as_of=GENERATED_AS_OF, fmt="parquet"))
    duck = {
        "ONBOARD_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
        "ONBOARD_VALIDATION_RESULTS_DIR": str(tmp_path / "d"),
    }
    pg = {
        **throwaway_database,
        "PGSCHEMA": "analytics",
        "ONBOARD_VALIDATION_RESULTS_DIR": str(tmp_path / "p"),
    }
    for env, target in ((duck, "duckdb"), (pg, "postgres")):
        loaded = run_onboard("load", str(folder), "--target", target, env=env)
        assert loaded.returncode == 0, loaded.stderr
    on_duckdb = run_onboard("validate", "--target", "duckdb", env=duck)
    on_postgres = run_onboard("validate", "--target", "postgres", env=pg)

    assert on_postgres.returncode == on_duckdb.returncode, on_postgres.stderr
    assert "Traceback" not in on_postgres.stderr
    duck_verdicts, pg_verdicts = _verdicts(tmp_path / "d"), _verdicts(tmp_path / "p")
    assert sum(failing for _, failing, _ in duck_verdicts.values()) > 0, "the data should trip some checks"
    differing = {k: (v, pg_verdicts.get(k)) for k, v in duck_verdicts.items() if pg_verdicts.get(k) != v}
    assert not differing, f"duckdb vs postgres: {differing}"
    assert set(pg_verdicts) == set(duck_verdicts)

    # the gate reads PostgreSQL's validation_runs too
    again = run_onboard("validate", "--target", "postgres", env=pg)
    assert again.returncode == on_duckdb.returncode


# --- onboard sync from PostgreSQL: the same payloads as from DuckDB ----------------------------


@pytest.mark.postgres
def test_sync_from_postgres_sends_what_the_duckdb_build_sends(
    generated_builds: Builds, server: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    generated_builds.require_success()
    allow_replayed_builds(tmp_path, monkeypatch)
    monkeypatch.setenv("ONBOARD_SYNC_RETRY_BASE_SECONDS", "0.01")
    with closing(connect(server)) as connection, connection.cursor() as cursor:
        connection.autocommit = True
        cursor.execute("drop schema if exists sync cascade")
    duck = duckdb_target(generated_builds.duckdb_path)
    received = {}
    try:
        for name, target in (("duckdb", duck), ("postgres", generated_builds.box.target())):
            received[name] = sync_both_to_fakes(target, monkeypatch)
    finally:
        with closing(connect(server)) as connection, connection.cursor() as cursor:
            connection.autocommit = True
            cursor.execute("drop schema if exists sync cascade")

    duck_contacts, duck_people = received["duckdb"]
    pg_contacts, pg_people = received["postgres"]
    assert len(duck_contacts) > 1000 and len(duck_people) == GENERATED_CUSTOMERS
    assert pg_contacts == duck_contacts
    assert pg_people == duck_people


@pytest.mark.postgres
def test_a_second_sync_of_one_destination_is_refused_while_the_first_runs(
    generated_builds: Builds, server: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Two runs of one destination at once would share its scratch tables and state rows."""
    from onboard.core.db import database
    from onboard.validate.runs import gate_problem, require_passing_validation
    from sync.gate import ValidationGate
    from sync.runner import SyncRefusedError
    from sync.runner import sync_destination as run_sync

    def sync_destination(target: Target, name: str, **options):
        gate = ValidationGate(require_passing_validation, gate_problem)
        return run_sync(target, name, gate=gate, **options)

    generated_builds.require_success()
    allow_replayed_builds(tmp_path, monkeypatch)
    target = generated_builds.box.target()
    try:
        with database(target) as first_run, first_run.exclusive("onboard.sync.hubspot") as held:
            assert held
            with pytest.raises(SyncRefusedError) as refused:
                sync_destination(target, "hubspot", dry_run=True, results_dir=tmp_path)
            assert str(refused.value) == (
                f"hubspot: another sync of this destination is running on {target.describe()}; "
                "wait for it to finish (one run per destination at a time)"
            )
            other = sync_destination(target, "customerio", dry_run=True, results_dir=tmp_path)
            assert other.run.status == "dry_run"
        again = sync_destination(target, "hubspot", dry_run=True, results_dir=tmp_path)
        assert again.run.status == "dry_run"
        # the refused run left no run row behind for this one to mark interrupted
        assert again.warnings == [
            "a real run would be blocked: no validation has run on this warehouse; run `onboard validate`"
        ]
    finally:
        with closing(connect(server)) as connection, connection.cursor() as cursor:
            connection.autocommit = True
            cursor.execute("drop schema if exists sync cascade")
