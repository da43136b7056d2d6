"""The demo-data generator: determinism, and every manifest count recomputed from the files.

The recomputation is independent of the generator: duckdb reads the written files and
applies docs/definitions.md (de-duplication, unusable reasons in order, schema breaks,
routing), then the result is compared with manifest.json.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from onboard.core.errors import UsageError
from onboard.core.project_config import ConfigError, read_seed
from onboard.core.tracking_plan import load_tracking_plan
from onboard.generate import Break, GenerateOptions, generate, milestones, parse_break, quality, rules
from onboard.generate import chunk as chunk_module
from onboard.generate.vocabulary import ENTERPRISE, FREE, HIGH_TOUCH, PRO, SELF_SERVE, STANDARD

AS_OF = datetime(2026, 3, 16, 12, tzinfo=UTC)
AS_OF_TEXT = "2026-03-16 12:00:00"
CUSTOMERS = 2000
TABLES = ("events", "accounts", "subscriptions", "email_events", "routing_audits")
TS = "%Y-%m-%dT%H:%M:%SZ"
PLAN = load_tracking_plan()
TIERS = "('free', 'trial', 'pro', 'enterprise')"


def options(**changes: Any) -> GenerateOptions:
    values: dict[str, Any] = {"customers": CUSTOMERS, "seed": 42, "as_of": AS_OF}
    values.update(changes)
    return GenerateOptions(**values)


@pytest.fixture(scope="module")
def parquet_run(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("parquet")
    return out, generate(out, options())


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("csv")
    return out, generate(out, options(fmt="csv"))


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("broken")
    breaks = (Break("plan_tier", 0.3), Break("ticket_id", 0.5), Break("integration", 0.2))
    return out, generate(out, options(seed=7, breaks=breaks))


@pytest.fixture(scope="module")
def chunked_run(tmp_path_factory) -> tuple[Path, dict]:
    """Several chunks (a small chunk size), so counts are added up across chunks."""
    out = tmp_path_factory.mktemp("chunked")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chunk_module, "CHUNK_CUSTOMERS", 700)
        return out, generate(out, options(seed=11, breaks=(Break("to_tier", 0.5),)))


RUNS = ["parquet_run", "broken_run", "chunked_run"]


def connect(out: Path, fmt: str = "parquet") -> duckdb.DuckDBPyConnection:
    """An in-memory duckdb with a view per table file and the definitions' views over events."""
    con = duckdb.connect()
    for table in TABLES:
        path = out / f"{table}.{fmt}"
        reader = (
            f"read_parquet('{path}')"
            if fmt == "parquet"
            else f"read_csv('{path}', all_varchar = true, header = true)"
        )
        con.execute(f"create view {table} as select * from {reader}")
    names = ", ".join(f"'{name}'" for name in PLAN.event_names)
    con.execute("""
        create view events_deduplicated as
        select * from events
        qualify row_number() over (
            partition by event_id order by received_at, occurred_at, properties
        ) = 1 or event_id is null
    """)
    con.execute(f"""
        create view events_checked as
        select
            *,
            try_strptime(occurred_at, '{TS}') as occurred_ts,
            try_strptime(received_at, '{TS}') as received_ts,
            case
                when event_id is null then 'null_event_id'
                when customer_id is null then 'null_customer_id'
                when try_strptime(occurred_at, '{TS}') is null then 'null_occurred_at'
                when event_name not in ({names}) then 'unknown_event_name'
                when properties is not null and coalesce(
                    case when json_valid(properties) then json_type(properties) end, ''
                ) <> 'OBJECT' then 'invalid_properties'
            end as unusable_reason
        from events_deduplicated
    """)
    con.execute("""
        create view usable as
        select
            * exclude (unusable_reason),
            -- null unless valid JSON: DuckDB may read props before the filter drops the broken rows
            case when json_valid(coalesce(properties, '{}')) then coalesce(properties, '{}') end as props
        from events_checked where unusable_reason is null
    """)
    return con


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def file_bytes(out: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


# ---------------------------------------------------------------- determinism


def test_same_options_write_byte_identical_files(tmp_path, parquet_run):
    generate(tmp_path, options())
    assert file_bytes(tmp_path) == file_bytes(parquet_run[0])


def test_another_seed_writes_other_data(tmp_path, parquet_run):
    manifest = generate(tmp_path, options(seed=43))
    assert (tmp_path / "events.parquet").read_bytes() != (parquet_run[0] / "events.parquet").read_bytes()
    assert manifest["events"]["rows"] != parquet_run[1]["events"]["rows"]


def test_chunks_are_numbered_consistently_and_report_progress(tmp_path, monkeypatch):
    monkeypatch.setattr(chunk_module, "CHUNK_CUSTOMERS", 300)
    done: list[int] = []
    manifest = generate(tmp_path, options(customers=1000), progress=done.append)
    assert done == [300, 300, 300, 100]
    con = connect(tmp_path)
    ids = con.execute(
        "select min(customer_id), max(customer_id), count(distinct customer_id) "
        "from usable where event_name = 'signup_completed'"
    ).fetchone()
    assert ids == ("c0000001", "c0001000", 1000)
    assert (
        scalar(con, "select count(distinct event_id) from events") == manifest["events"]["distinct_event_ids"]
    )


# ---------------------------------------------------------------- raw contract


def test_every_column_is_text_and_timestamps_are_iso_seconds(parquet_run):
    out, _ = parquet_run
    con = connect(out)
    for table in TABLES:
        types = {row[1] for row in con.execute(f"describe {table}").fetchall()}
        assert types == {"VARCHAR"}, table
    pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
    assert (
        scalar(
            con,
            f"select count(*) from events where not regexp_full_match(received_at, '{pattern}')",
        )
        == 0
    )
    for table, column in [
        ("email_events", "occurred_at"),
        ("accounts", "updated_at"),
        ("subscriptions", "updated_at"),
        ("routing_audits", "audited_at"),
    ]:
        bad = scalar(con, f"select count(*) from {table} where not regexp_full_match({column}, '{pattern}')")
        assert bad == 0, (table, column)


def test_the_extract_is_taken_at_as_of(parquet_run):
    out, _ = parquet_run
    con = connect(out)
    assert scalar(con, "select max(received_ts) from events_checked") <= datetime(2026, 3, 16, 12)
    after = scalar(
        con,
        f"select count(*) from usable where occurred_ts > '{AS_OF_TEXT}' "
        "and occurred_ts <= received_ts + interval 1 hour",
    )
    assert after == 0  # only future-dated events may lie after as_of
    for table, column in [
        ("email_events", "occurred_at"),
        ("accounts", "updated_at"),
        ("subscriptions", "updated_at"),
        ("routing_audits", "audited_at"),
    ]:
        latest = scalar(con, f"select max(strptime({column}, '{TS}')) from {table}")
        assert latest <= datetime(2026, 3, 16, 12), table
    signups = con.execute(
        "select min(occurred_ts), max(occurred_ts) from usable where event_name = 'signup_completed'"
    ).fetchone()
    assert signups[0] >= datetime(2025, 11, 16, 12) and signups[1] <= datetime(2026, 3, 16, 12)


def test_csv_and_parquet_hold_the_same_rows(parquet_run, csv_run):
    for table in TABLES:
        parquet = connect(parquet_run[0]).execute(f"select * from {table} order by all").fetchall()
        csv = connect(csv_run[0], "csv").execute(f"select * from {table} order by all").fetchall()
        assert parquet == csv, table
    assert {**parquet_run[1], "format": None, "tables": None} == {
        **csv_run[1],
        "format": None,
        "tables": None,
    }


# ---------------------------------------------------------------- manifest counts


def test_manifest_on_disk_is_the_returned_one(parquet_run):
    out, manifest = parquet_run
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert manifest["as_of"] == "2026-03-16T12:00:00Z"
    assert manifest["customers"] == CUSTOMERS and manifest["format"] == "parquet"


@pytest.mark.parametrize("run", RUNS)
def test_table_and_event_row_counts(run, request):
    out, manifest = request.getfixturevalue(run)
    con = connect(out)
    for table in TABLES:
        assert manifest["tables"][table] == {
            "file": f"{table}.parquet",
            "rows": scalar(con, f"select count(*) from {table}"),
        }
    events = manifest["events"]
    assert events["rows"] == scalar(con, "select count(*) from events")
    assert events["distinct_event_ids"] == scalar(con, "select count(distinct event_id) from events")
    assert events["duplicate_rows"] == scalar(
        con, "select count(event_id) - count(distinct event_id) from events"
    )
    assert manifest["email_events"] == {
        "rows": scalar(con, "select count(*) from email_events"),
        "duplicate_rows": scalar(con, "select count(event_id) - count(distinct event_id) from email_events"),
    }


@pytest.mark.parametrize("run", RUNS)
def test_unusable_rows_by_reason_follow_the_spec_order(run, request):
    out, manifest = request.getfixturevalue(run)
    con = connect(out)
    counted = dict(
        con.execute(
            "select unusable_reason, count(*) from events_checked "
            "where unusable_reason is not null group by all"
        ).fetchall()
    )
    expected = manifest["events"]["unusable"]
    assert {reason: counted.get(reason, 0) for reason in expected} == expected
    assert all(count > 0 for count in expected.values())
    assert sum(expected.values()) < 0.01 * manifest["events"]["rows"]
    duplicated_unusable = scalar(
        con,
        """
        select count(*) from events_checked
        where unusable_reason is not null
          and event_id in (select event_id from events group by all having count(*) > 1)
        """,
    )
    assert duplicated_unusable == 0


@pytest.mark.parametrize("run", RUNS)
def test_usable_events_by_name_late_and_future_dated(run, request):
    out, manifest = request.getfixturevalue(run)
    con = connect(out)
    events = manifest["events"]
    by_name = dict(con.execute("select event_name, count(*) from usable group by all").fetchall())
    assert {name: by_name.get(name, 0) for name in PLAN.event_names} == events["usable_by_event_name"]
    assert events["usable"] == scalar(con, "select count(*) from usable")
    assert events["usable_by_event_name"]["signup_completed"] == CUSTOMERS
    late = "received_ts >= occurred_ts + interval 1 day"
    assert events["late"] == scalar(con, f"select count(*) from usable where {late}")
    future = "occurred_ts > received_ts + interval 1 hour"
    assert events["future_dated"] == scalar(con, f"select count(*) from usable where {future}")
    assert 0.01 < events["late"] / events["usable"] < 0.03
    assert 0 < events["future_dated"] / events["usable"] < 0.002
    assert 0.005 < events["duplicate_rows"] / events["usable"] < 0.015


def broken_condition(prop) -> str:
    value = f"json_extract(props, '$.{prop.name}')"
    text = f"json_extract_string(props, '$.{prop.name}')"
    absent = f"{value} is null or json_type({value}) = 'NULL' or {text} = ''"
    if prop.type == "tier":
        return f"{absent} or json_type({value}) <> 'VARCHAR' or {text} not in {TIERS}"
    if prop.type == "email":
        pattern = PLAN.email_pattern.replace("'", "''")
        return f"{absent} or json_type({value}) <> 'VARCHAR' or not regexp_full_match({text}, '{pattern}')"
    return absent


@pytest.mark.parametrize("run", RUNS)
def test_broken_and_malformed_properties(run, request):
    out, manifest = request.getfixturevalue(run)
    con = connect(out)
    counted = {}
    for event_name in PLAN.event_names:
        for prop in PLAN.required(event_name):
            counted[f"{event_name}.{prop.name}"] = scalar(
                con,
                f"select count(*) from usable where event_name = '{event_name}' "
                f"and ({broken_condition(prop)})",
            )
    assert counted == manifest["events"]["broken_properties"]
    size = "json_extract(props, '$.company_size')"
    malformed = scalar(
        con,
        f"select count(*) from usable where event_name = 'signup_completed' and {size} is not null "
        f"and not (json_type({size}) in ('UBIGINT', 'BIGINT') and {size}::bigint >= 1)",
    )
    assert manifest["events"]["malformed_optional"]["signup_completed.company_size"] == malformed
    assert 0.005 < malformed / CUSTOMERS < 0.02


def test_clean_data_breaks_only_tolerated_properties(parquet_run):
    _, manifest = parquet_run
    broken = manifest["events"]["broken_properties"]
    usable = manifest["events"]["usable_by_event_name"]
    assert broken["signup_completed.plan_tier"] == 0
    assert broken["signup_completed.email"] == 0
    for key, count in broken.items():
        assert count <= 0.01 * max(usable[key.split(".")[0]], 1), key
    assert manifest["breaks"] == []


def test_requested_breaks_are_counted_exactly(broken_run):
    out, manifest = broken_run
    breaks = {(entry["field"], entry["event_name"]): entry for entry in manifest["breaks"]}
    assert set(breaks) == {
        ("plan_tier", "signup_completed"),
        ("ticket_id", "support_ticket_opened"),
        ("ticket_id", "support_ticket_resolved"),
        ("integration", "integration_connected"),
    }
    broken = manifest["events"]["broken_properties"]
    usable = manifest["events"]["usable_by_event_name"]
    plan_tier = breaks[("plan_tier", "signup_completed")]
    assert plan_tier["share"] == 0.3
    assert plan_tier["rows"] == broken["signup_completed.plan_tier"]
    assert 0.25 < plan_tier["rows"] / usable["signup_completed"] < 0.35
    assert (
        breaks[("ticket_id", "support_ticket_resolved")]["rows"]
        == broken["support_ticket_resolved.ticket_id"]
    )
    # tolerated breaks (absent keys) add to the requested ones on these events
    for field, event_name in [
        ("ticket_id", "support_ticket_opened"),
        ("integration", "integration_connected"),
    ]:
        assert breaks[(field, event_name)]["rows"] <= broken[f"{event_name}.{field}"]
        assert breaks[(field, event_name)]["rows"] > 0
    con = connect(out)
    duplicated_originals_consistent = scalar(
        con,
        "select count(*) from (select event_id from events where event_id is not null "
        "group by event_id having count(distinct coalesce(properties, '')) > 1)",
    )
    assert duplicated_originals_consistent == 0


# ---------------------------------------------------------------- realism


def tracks(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """customers per track by the routing rule (docs/definitions.md#routing), from the files."""
    rows = con.execute(f"""
        with tiers as (
            select customer_id, json_extract_string(props, case event_name
                when 'signup_completed' then '$.plan_tier' else '$.to_tier' end) as tier,
                occurred_ts, received_ts, event_id
            from usable
            where event_name in ('signup_completed', 'plan_changed') and occurred_ts <= '{AS_OF_TEXT}'
        ),
        current_tier as (
            select customer_id, tier from tiers where tier in {TIERS}
            qualify row_number() over (
                partition by customer_id order by occurred_ts desc, received_ts desc, event_id desc
            ) = 1
        ),
        signups as (
            select customer_id,
                case when json_type(json_extract(props, '$.company_size')) = 'UBIGINT'
                    and json_extract(props, '$.company_size')::bigint >= 1
                    then json_extract(props, '$.company_size')::bigint end as company_size
            from usable where event_name = 'signup_completed' and occurred_ts <= '{AS_OF_TEXT}'
            qualify row_number() over (partition by customer_id order by occurred_ts) = 1
        ),
        latest_account as (
            select customer_id, arr::decimal(18, 2) as arr from accounts
            qualify row_number() over (partition by customer_id order by updated_at desc) = 1
        ),
        routed as (
            select case
                when current_tier.tier is null then 'standard'
                when current_tier.tier = 'enterprise' or latest_account.arr >= 25000 then 'high_touch'
                when current_tier.tier in ('free', 'trial') and coalesce(latest_account.arr, 0) < 1000
                    and coalesce(signups.company_size, 0) < 50 then 'self_serve'
                else 'standard' end as track
            from signups
            left join current_tier on current_tier.customer_id = signups.customer_id
            left join latest_account on latest_account.customer_id = signups.customer_id
        )
        select track, count(*) from routed group by all
    """).fetchall()
    return dict(rows)


@pytest.mark.parametrize("run", RUNS)
def test_customers_by_track_follow_the_routing_rule(run, request):
    out, manifest = request.getfixturevalue(run)
    counted = tracks(connect(out))
    assert {track: counted.get(track, 0) for track in manifest["customers_by_track"]} == manifest[
        "customers_by_track"
    ]


def test_track_shares_are_within_the_expected_bands(parquet_run):
    by_track = parquet_run[1]["customers_by_track"]
    share = {track: count / CUSTOMERS for track, count in by_track.items()}
    assert 0.05 <= share["high_touch"] <= 0.20
    assert 0.60 <= share["standard"] <= 0.70
    assert 0.15 <= share["self_serve"] <= 0.30


def test_activation_within_14_days_of_matured_customers(parquet_run):
    con = connect(parquet_run[0])
    rate, matured, late_activations = con.execute(f"""
        with signups as (
            select customer_id, min(occurred_ts) as signup_at from usable
            where event_name = 'signup_completed' group by all
        ),
        activations as (
            select customer_id, min(occurred_ts) as activated_at from usable
            where event_name = 'query_run' and occurred_ts <= '{AS_OF_TEXT}' group by all
        )
        select
            avg(coalesce(activated_at <= signup_at + interval 14 day, false)::int)
                filter (where signup_at <= timestamp '{AS_OF_TEXT}' - interval 14 day),
            count(*) filter (where signup_at <= timestamp '{AS_OF_TEXT}' - interval 14 day),
            count(*) filter (where activated_at > signup_at + interval 14 day)
        from signups left join activations using (customer_id)
    """).fetchone()
    assert matured > 0.8 * CUSTOMERS
    assert 0.35 <= rate <= 0.50
    assert late_activations > 0


def test_funnel_stalls_at_every_step_and_has_gaps(parquet_run):
    con = connect(parquet_run[0])
    steps = [
        "data_imported",
        "query_run",
        "teammate_invited",
        "integration_connected",
        "tutorial_completed",
    ]
    reached = {
        name: scalar(con, f"select count(distinct customer_id) from usable where event_name = '{name}'")
        for name in steps
    }
    counts = [CUSTOMERS, *reached.values()]
    assert all(later < earlier for earlier, later in itertools.pairwise(counts))
    assert reached["tutorial_completed"] > 0
    skipped = scalar(
        con,
        """
        select count(*) from (
            select customer_id from usable group by all
            having count(*) filter (where event_name = 'query_run') > 0
               and count(*) filter (where event_name = 'data_imported') = 0
        )
    """,
    )
    assert skipped > 0


def test_emails_accounts_and_subscriptions_look_like_the_sources(parquet_run):
    con = connect(parquet_run[0])
    shared = scalar(
        con,
        """
        select count(*) from (
            select lower(json_extract_string(props, '$.email')) as email from usable
            where event_name = 'signup_completed' group by all having count(*) > 1
        )
    """,
    )
    assert shared > 0
    no_account = scalar(
        con,
        """
        select count(*) from usable where event_name = 'signup_completed'
        and customer_id not in (select customer_id from accounts)
    """,
    )
    assert 0 < no_account < 0.03 * CUSTOMERS
    older_rows = scalar(con, "select count(*) - count(distinct customer_id) from accounts")
    assert 0 < older_rows < 0.05 * CUSTOMERS
    statuses = dict(con.execute("select status, count(*) from subscriptions group by all").fetchall())
    assert set(statuses) == {"trialing", "active", "past_due", "cancelled", "deleted"}
    email_types = dict(con.execute("select event_type, count(*) from email_events group by all").fetchall())
    assert set(email_types) == {
        "sent",
        "delivered",
        "opened",
        "clicked",
        "bounced",
        "unsubscribed",
        "spam_reported",
    }
    capped = scalar(
        con,
        f"""
        select count(*) from (
            select customer_id from email_events
            where event_type = 'sent'
              and strptime(occurred_at, '{TS}') >= timestamp '{AS_OF_TEXT}' - interval 7 day
            group by all having count(distinct event_id) >= 4
        )
    """,
    )
    assert capped > 0
    audits = con.execute(
        "select count(distinct substr(audited_at, 1, 7)), count(*) from routing_audits"
    ).fetchone()
    assert audits[0] >= 4 and 0 < audits[1] < 0.15 * CUSTOMERS


# ---------------------------------------------------------------- options


def test_parse_break_reads_field_and_share():
    assert parse_break("plan_tier:0.3") == Break("plan_tier", 0.3)
    assert parse_break(" ticket_id:1 ") == Break("ticket_id", 1.0)


@pytest.mark.parametrize(
    "text",
    [
        "plan_tier",
        "plan_tier:",
        ":0.3",
        "plan_tier:abc",
        "plan_tier:0",
        "plan_tier:1.5",
        "plan_tier:-0.1",
        "plan_tier:nan",
        "company_size:0.3",
        "nope:0.1",
    ],
)
def test_parse_break_rejects_bad_text_with_one_line(text):
    with pytest.raises(UsageError) as raised:
        parse_break(text)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "changes",
    [
        {"customers": 0},
        {"history_days": 0},
        {"as_of": datetime(2026, 3, 16, 12)},
        {"breaks": (Break("plan_tier", 0.1), Break("plan_tier", 0.2))},
        {"breaks": (Break("industry", 0.1),)},
        {"fmt": "json"},
    ],
)
def test_generate_rejects_options_that_cannot_work(tmp_path, changes):
    with pytest.raises(UsageError):
        generate(tmp_path, options(**changes))
    assert not (tmp_path / "manifest.json").exists()


# ---------------------------------------------------------------- the project's rules, read not copied


def test_the_funnel_is_the_milestones_seed_in_step_order():
    seed = sorted(read_seed("milestones"), key=lambda row: int(row["step"]))
    assert milestones.milestone_event_names() == tuple(row["event_name"] for row in seed)
    assert rules.milestone_event(rules.project_vars().activation_milestone) == "query_run"


def test_a_seed_milestone_the_funnel_cannot_simulate_is_a_config_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(milestones, "milestone_events", lambda: {"a": "data_imported", "b": "new_event"})
    milestones.steps.cache_clear()
    try:
        with pytest.raises(
            ConfigError, match=r"^seeds/milestones.csv: event_name: expected one of .* got 'new_event'"
        ):
            milestones.steps()
    finally:
        milestones.steps.cache_clear()
    with pytest.raises(ConfigError, match=r"^seeds/milestones.csv: milestone: expected a row for 'nope'"):
        rules.milestone_event("nope")


def test_routing_follows_the_routing_var(monkeypatch: pytest.MonkeyPatch):
    tier = np.array([PRO, FREE, ENTERPRISE, -1])
    arr = np.array([10_000.0, 500.0, np.nan, 90_000.0])
    size = np.array([100, 10, 5, 10])
    assert quality.route(tier, arr, size).tolist() == [STANDARD, SELF_SERVE, HIGH_TOUCH, STANDARD]
    defaults = rules.project_vars()
    changed = defaults.routing.model_copy(
        update={"high_touch_min_arr": 5_000.0, "self_serve_tiers": (), "high_touch_tiers": ()}
    )
    monkeypatch.setattr(quality, "project_vars", lambda: defaults.model_copy(update={"routing": changed}))
    assert quality.route(tier, arr, size).tolist() == [HIGH_TOUCH, STANDARD, STANDARD, STANDARD]


def test_a_var_missing_a_value_the_generator_draws_is_a_config_error():
    with pytest.raises(
        ConfigError, match=re.escape("dbt_project.yml: vars.x: expected 'c' among ['a', 'b']")
    ):
        rules.codes(("a", "b"), ("a", "c"), "vars.x")
