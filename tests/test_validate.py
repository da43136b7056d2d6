"""`onboard validate`: GX suites from the tracking plan, exact counts, runs, acceptance, the gate."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from onboard.core.errors import InputError, UsageError
from onboard.core.raw_tables import UNUSABLE_REASONS
from onboard.core.targets import Target
from onboard.core.tracking_plan import Property, load_tracking_plan
from onboard.generate import GenerateOptions, generate, parse_break
from onboard.load import load
from onboard.validate.config import ValidationConfig, VolumeConfig, load_config, parse_config
from onboard.validate.runs import ValidationGateError, accept_run, require_passing_validation
from onboard.validate.suites import build_suites, suite_drift, write_suites
from onboard.validate.volume import judge

from .conftest import query, run_onboard
from .test_data_docs_offline import assert_self_contained

AS_OF = datetime(2026, 3, 16, 12, tzinfo=UTC)
CUSTOMERS = 2000


def _warehouse(root: Path, breaks: tuple[str, ...] = ()) -> tuple[Target, dict]:
    manifest = generate(
        root / "raw",
        GenerateOptions(
            customers=CUSTOMERS,
            seed=11,
            as_of=AS_OF,
            fmt="parquet",
            breaks=tuple(parse_break(b) for b in breaks),
        ),
    )
    target = Target("duckdb", "duckdb", {"type": "duckdb", "path": str(root / "w.duckdb"), "schema": "main"})
    load(root / "raw", target)
    return target, manifest


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Target, dict, Path]:
    root = tmp_path_factory.mktemp("clean")
    target, manifest = _warehouse(root)
    return target, manifest, root / "results"


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> tuple[Target, dict, Path]:
    root = tmp_path_factory.mktemp("broken")
    target, manifest = _warehouse(root, ("plan_tier:0.3",))
    return target, manifest, root / "results"


def test_committed_suites_match_the_tracking_plan():
    assert suite_drift() == []


def test_suite_drift_and_missing_suite_are_detected(tmp_path):
    write_suites(tmp_path)
    assert suite_drift(tmp_path) == []
    plan = load_tracking_plan()
    events = dict(plan.events)
    events["query_run"] = (Property("query_id", "text", True, "query_id"),)
    drifted = build_suites(dataclasses.replace(plan, events=events), load_config())
    problems = suite_drift(tmp_path, drifted)
    assert any("query_run.json: differs" in p for p in problems)
    (tmp_path / "accounts.json").unlink()
    assert any("accounts.json: missing" in p for p in suite_drift(tmp_path))


def test_every_expectation_is_known_to_gx_and_loaded():
    from onboard.validate import gx
    from onboard.validate.config import EXPECTATIONS_DIR

    total = 0
    for name, suite in build_suites().items():
        loaded = gx.load_suite(EXPECTATIONS_DIR / f"{name}.json")
        assert len(loaded.expectations) == len(suite["expectations"])
        total += len(loaded.expectations)
    assert total >= 20
    assert not gx.known_expectation_type("expect_column_values_to_be_pretty")


def test_unknown_expectation_type_is_refused(tmp_path):
    from onboard.core.errors import InputError
    from onboard.validate import gx

    suite = build_suites()["signup_completed"]
    suite["expectations"][0]["type"] = "expect_column_values_to_be_pretty"
    path = tmp_path / "signup_completed.json"
    path.write_text(json.dumps(suite))
    with pytest.raises(InputError, match="unknown to GX"):
        gx.load_suite(path)


def test_config_defaults_and_overrides():
    config = parse_config({"checks": {"unusable.null_event_id": {"tolerated_share": 0.05}}})
    assert config.level("signup_completed.plan_tier").tolerated_share == 0.0
    assert config.level("integration_connected.integration").tolerated_share == 0.01
    assert config.level("unusable.null_event_id").tolerated_share == 0.05
    with pytest.raises(
        InputError, match=r"checks\.x\.tolerated_share: expected less than or equal to 1, got 2"
    ):
        parse_config({"checks": {"x": {"tolerated_share": 2}}})
    with pytest.raises(InputError, match=r"checks\.x\.severity: expected 'critical' or 'warning'"):
        parse_config({"checks": {"x": {"severity": "fatal"}}})


def test_gate_blocks_before_any_validation(tmp_path):
    target, _ = _warehouse(tmp_path)
    with pytest.raises(ValidationGateError, match="no validation"):
        require_passing_validation(target)
    require_passing_validation(target, force=True)


def test_clean_data_passes_with_warnings_and_exact_counts(clean):
    from onboard.validate.runner import validate

    target, manifest, results = clean
    result = validate(target, results_dir=results)
    assert result.status == "passed" and result.exit_code == 0
    assert result.expectations("warning"), "the generator's small share of bad rows should warn"
    for reason in UNUSABLE_REASONS:
        # the generator writes no implausible_occurred_at rows (GENERATED_UNUSABLE_REASONS)
        assert result.failure("events", reason) == manifest["events"]["unusable"].get(reason, 0), reason
    for key, count in manifest["events"]["broken_properties"].items():
        event, prop = key.split(".")
        assert result.failure(event, prop) == count, key
    assert result.failure("events", "occurred_at") == manifest["events"]["future_dated"] > 0
    assert sum(result.failure(event, "daily volume") for event in load_tracking_plan().event_names) == 0
    volume = next(s for s in result.suites if s.name == "volume")
    assert volume.rows > 100, "most days of the generated history are judged"
    assert any("fewer than 7 days of history" in note for note in result.notes)
    saved = json.loads(result.results_file.read_text())
    assert saved["run_id"] == result.run_id and saved["status"] == "passed"
    # GX Data Docs: an index and one GX-rendered page per suite, with the combined counts
    assert result.data_docs == results / result.run_id / "index.html"
    page = (results / result.run_id / "signup_completed.html").read_text()
    company_size = next(e for e in result.expectations("warning") if e.prop == "company_size")
    assert f"{100 * company_size.share:.2f}% unexpected" in page
    assert company_size.examples[0] in page
    assert '<a href="signup_completed.html">signup_completed</a>' in result.data_docs.read_text()
    # offline: nothing from the network, no link out of the run's folder (index + a page a suite)
    suite_pages = sum(1 for suite in result.suites if suite.rows and suite.name != "volume")
    assert suite_pages == 17 and assert_self_contained(result.data_docs.parent) == 1 + suite_pages
    rows = query(target, "select status, expectations_failed from validation.validation_runs")
    assert rows == [("passed", 0)]
    require_passing_validation(target)

    started = time.perf_counter()
    again = validate(target, results_dir=results)
    assert time.perf_counter() - started < 3
    assert again.status == "passed" and again.rows == 0
    assert again.since == result.until


def test_broken_plan_tier_fails_names_it_and_blocks_the_sync(broken):
    target, manifest, results = broken
    expected = manifest["breaks"][0]
    assert expected["event_name"] == "signup_completed" and expected["rows"] > 0
    done = run_onboard(
        "validate",
        env={"ONBOARD_DUCKDB_PATH": str(target.duckdb_path), "ONBOARD_VALIDATION_RESULTS_DIR": str(results)},
    )
    assert done.returncode == 1, done.stderr
    assert f"signup_completed / plan_tier missing: {expected['rows']:,} of {CUSTOMERS:,} rows" in done.stderr
    assert "BLOCKING" in done.stderr

    (run_id, status), *_ = query(target, "select run_id, status from validation.validation_runs")
    assert status == "failed"
    with pytest.raises(ValidationGateError, match=f"--accept {run_id}"):
        require_passing_validation(target)
    require_passing_validation(target, force=True)

    with pytest.raises(UsageError, match="reason"):
        accept_run(target, run_id, "ops", "")
    with pytest.raises(UsageError, match="no such"):
        accept_run(target, "nope", "ops", "known")
    record = accept_run(target, run_id, "ops", "tier fix ships tomorrow")
    assert (record.status, record.accepted_by) == ("accepted", "ops")
    assert record.accepted_at is not None and record.accepted_reason == "tier fix ships tomorrow"
    require_passing_validation(target)

    from onboard.validate.runner import validate

    after = validate(target, results_dir=results)
    assert after.status == "passed" and after.rows == 0


def test_cli_usage_errors_exit_2():
    done = run_onboard("validate", "--since", "yesterday-ish")
    assert done.returncode == 2 and "--since" in done.stderr
    done = run_onboard("validate", "--reason", "why")
    assert done.returncode == 2


def test_counts_are_the_same_in_small_chunks(clean):
    from onboard.validate.runner import validate

    target, manifest, results = clean
    result = validate(target, since=datetime(1970, 1, 1), results_dir=results, chunk_rows=7_000)
    assert result.status == "passed"
    for reason in UNUSABLE_REASONS:
        # the generator writes no implausible_occurred_at rows (GENERATED_UNUSABLE_REASONS)
        assert result.failure("events", reason) == manifest["events"]["unusable"].get(reason, 0), reason
    for key, count in manifest["events"]["broken_properties"].items():
        event, prop = key.split(".")
        assert result.failure(event, prop) == count, key


def test_a_first_run_reads_the_same_events_without_finding_which_arrived(clean):
    """every_load skips the set of arrived event_ids; the rows must not change."""
    import pandas as pd

    from onboard.core.db import database
    from onboard.validate.source import (
        event_frames,
        latest_loaded_at,
        render_queries,
        window_holds_every_load,
    )

    target, manifest, _ = clean
    since = datetime(1970, 1, 1)
    with database(target) as db:
        until = latest_loaded_at(db)
        assert until is not None
        assert window_holds_every_load(db, since)
        assert not window_holds_every_load(db, until)

        def rows(every_load: bool) -> pd.DataFrame:
            frames = event_frames(db, render_queries(target, every_load), since, until, 10**9)
            frame = pd.concat(list(frames), ignore_index=True)
            return frame.sort_values(["event_id", "unusable_reason"], na_position="last", ignore_index=True)

        every, arrived = rows(True), rows(False)
    pd.testing.assert_frame_equal(every, arrived)
    unusable = manifest["events"]["unusable"]
    assert len(every) == manifest["events"]["distinct_event_ids"] + unusable["null_event_id"]


def test_the_streamed_event_queries_have_no_union():
    """DuckDB 1.4 streaming a `union all` whose arms end in joins and windows stops, idle, once
    its result buffer fills (8 M events here; duckdb/duckdb#22215): each arm is its own query."""
    from onboard.validate.source import RESENT_IDS, STATE_STORE_SQL, render_queries

    for every_load in (True, False):
        rendered = render_queries(STATE_STORE_SQL, every_load)
        queries = rendered.events
        assert len(queries) == 3
        assert not [sql for sql in queries if re.search(r"\bunion\b", sql, re.IGNORECASE)]
        assert [RESENT_IDS in sql for sql in queries] == [True, True, False]
        assert rendered.resent_ids.startswith(f"create temporary table {RESENT_IDS} as")


def _volume_config(**overrides) -> ValidationConfig:
    return parse_config(
        {"volume": {"history_days": 4, "min_history_days": 3, "min_median_events": 10, **overrides}}
    )


def _days(counts: dict[str, list[int]], first: date = date(2026, 3, 1), window_from: int = 0) -> list[tuple]:
    return [
        (name, first + timedelta(days=n), count, int(n >= window_from))
        for name, series in counts.items()
        for n, count in enumerate(series)
        if count
    ]


def test_volume_judges_complete_days_against_the_median_of_the_previous_days():
    names = ("a", "b", "rare")
    rows = _days(
        {
            #     day 0   1   2   3   4   5   6   7 (latest, still arriving: not judged)
            "a": [20, 30, 40, 30, 14, 16, 0, 1],
            "b": [50, 50, 50, 50, 50, 50, 25, 0],
            "rare": [2, 0, 1, 0, 0, 0, 0, 0],
        }
    )
    result = judge(rows, names, _volume_config())
    # judged days 3..6 (three days of history first); median over up to 4 previous days
    assert result.judged == {"a": 4, "b": 4, "rare": 0}
    # day 4: a=14 vs median(20,30,40,30)=30 -> below 15: drop; day 5: 16 vs median(30,40,30,14)=30 -> no
    # day 6: a=0 vs median(40,30,14,16)=23 -> zero; b day 6: 25 = 0.5 x 50 -> not below: no drop
    assert [(d.event, str(d.day), d.count, d.median) for d in result.drops] == [("a", "2026-03-05", 14, 30.0)]
    assert [(d.event, str(d.day), d.count, d.median) for d in result.zeros] == [("a", "2026-03-07", 0, 23.0)]
    assert result.notes == [
        "volume: days 2026-03-01 to 2026-03-03 skipped: fewer than 3 days of history before them"
    ]


def test_volume_only_judges_days_from_the_window_on():
    rows = _days({"a": [30, 30, 30, 30, 30, 0, 30, 30]}, window_from=6)
    result = judge(rows, ("a",), _volume_config())
    assert result.judged == {"a": 1} and result.zeros == [] and result.notes == []
    # a day without any `a` is judged when other events of that day arrived in the window
    series = {"a": [30, 30, 30, 30, 30, 0, 30, 30], "b": [30] * 8}
    earlier = judge(_days(series, window_from=5), ("a", "b"), _volume_config())
    assert [(d.event, str(d.day)) for d in earlier.zeros] == [("a", "2026-03-06")]
    assert earlier.judged == {"a": 2, "b": 2}
    assert judge([], ("a",), _volume_config()).judged == {"a": 0}


def test_volume_does_not_judge_days_from_the_latest_load_on():
    # events dated after the load (a clock ahead, received_at too) once made every day up to
    # them a `volume.zero`; days from the load's day on have not happened or are still arriving
    series = {"a": [30] * 8}
    ahead = [*_days(series), ("a", date(2026, 3, 20), 1, 1)]
    before = judge(ahead, ("a",), _volume_config())
    assert [str(d.day) for d in before.zeros][:2] == ["2026-03-09", "2026-03-10"]
    loaded = datetime(2026, 3, 8, 12, 0)
    result = judge(ahead, ("a",), _volume_config(), until=loaded)
    assert result.zeros == [] and result.drops == []
    assert result.judged == {"a": 4}  # days 3..6 (day 7 is the load's day)


def test_volume_config_is_checked():
    with pytest.raises(InputError, match=r"volume\.history_days: expected greater than or equal to 1, got 0"):
        parse_config({"volume": {"history_days": 0}})
    with pytest.raises(InputError, match=r"volume\.history_days: expected a valid integer, got 2\.5"):
        parse_config({"volume": {"history_days": 2.5}})
    with pytest.raises(InputError, match=r"volume\.median: expected no such key \(unknown\)"):
        parse_config({"volume": {"median": 3}})
    with pytest.raises(
        InputError, match=r"volume\.min_history_days: expected at most history_days \(5\), got 6"
    ):
        parse_config({"volume": {"history_days": 5, "min_history_days": 6}})
    assert load_config().volume == VolumeConfig(
        history_days=14, min_history_days=7, drop_share=0.5, min_median_events=20
    )
    assert load_config().level("volume.zero").tolerated_share == 0.0


ZERO_DAY = "2026-03-01"
DROP_DAY = "2026-03-03"
BURST = 150


@pytest.fixture(scope="module")
def tampered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Target, dict, Path, int]:
    """Generated data with a tracking outage, a drop, a future-dated burst and too many unusable rows."""
    import duckdb

    root = tmp_path_factory.mktemp("tampered")
    target, manifest = _warehouse(root)
    # only usable rows are touched, so the manifest's unusable counts still hold
    usable = (
        "event_id <> '' and customer_id <> '' and occurred_at like '____-__-__T__:__:__Z' "
        "and json_valid(coalesce(nullif(properties, ''), '{}')) and left(coalesce(nullif(properties, ''), '{}'), 1) = '{'"
    )
    with duckdb.connect(str(target.duckdb_path)) as connection:
        connection.execute(
            f"delete from raw.events where event_name = 'session_started' and left(occurred_at, 10) = '{ZERO_DAY}' "
            f"and {usable}"
        )
        connection.execute(
            "delete from raw.events where event_name = 'query_run' and event_id in ("
            f"select event_id from raw.events where event_name = 'query_run' and left(occurred_at, 10) = '{DROP_DAY}' "
            f"and {usable} "
            "order by event_id limit (select cast(count(*) * 0.8 as integer) from raw.events "
            f"where event_name = 'query_run' and left(occurred_at, 10) = '{DROP_DAY}'))"
        )
        connection.execute(
            "create temp table burst as select distinct event_id from raw.events "
            f"where event_name = 'data_imported' and {usable} and occurred_at <= received_at "
            f"order by event_id limit {BURST}"
        )
        connection.execute(
            "update raw.events set occurred_at = strftime(cast(received_at as timestamp) + interval 3 hour, "
            "'%Y-%m-%dT%H:%M:%SZ') where event_id in (select event_id from burst)"
        )
        total = connection.execute(
            "select count(distinct event_id) from raw.events where event_id <> ''"
        ).fetchone()[0]
        blanked = int(total * 0.02)
        connection.execute(
            f"update raw.events set customer_id = '' where event_id in (select distinct event_id from raw.events "
            f"where event_name = 'session_started' and {usable} order by event_id desc limit {blanked})"
        )
    return target, manifest, root / "results", blanked


def test_outage_drop_burst_and_unusable_share_are_reported_then_accepted(tampered):
    target, manifest, results, blanked = tampered
    env = {"ONBOARD_DUCKDB_PATH": str(target.duckdb_path), "ONBOARD_VALIDATION_RESULTS_DIR": str(results)}
    done = run_onboard("validate", env=env)
    assert done.returncode == 1, done.stderr
    out = done.stderr
    unusable = manifest["events"]["unusable"]["null_customer_id"] + blanked
    assert f"BLOCKING events / null_customer_id unusable: {unusable:,} of" in out
    assert "BLOCKING session_started / daily volume zero: 1 of" in out
    assert f"e.g. {ZERO_DAY}: 0 vs median" in out
    assert "WARNING  query_run / daily volume drop: 1 of" in out and f"e.g. {DROP_DAY}: " in out
    future = manifest["events"]["future_dated"] + BURST
    assert f"WARNING  events / occurred_at future_dated: {future:,} of" in out
    assert "FAILED: 2 blocking" in out

    (run_id,) = query(target, "select run_id from validation.validation_runs")[0]
    with pytest.raises(ValidationGateError, match="failed"):
        require_passing_validation(target)
    refused = run_onboard(
        "validate", "--accept", "20990101T000000Z-000000", "--by", "ops", "--reason", "x", env=env
    )
    assert refused.returncode == 2 and "no such validation run" in refused.stderr
    accepted = run_onboard("validate", "--accept", run_id, "--by", "ops", "--reason", "outage known", env=env)
    assert accepted.returncode == 0, accepted.stderr
    assert f"accepted run {run_id} (by ops: outage known)" in accepted.stderr
    assert query(target, "select status, accepted_by, accepted_reason from validation.validation_runs") == [
        ("accepted", "ops", "outage known")
    ]
    require_passing_validation(target)
    again = run_onboard("validate", env=env)
    assert again.returncode == 0 and "no new rows" in again.stdout + again.stderr


def test_small_windows_take_shares_over_the_floor_and_zero_tolerance_still_blocks():
    from onboard.validate.runner import ExpectationOutcome

    def outcome(failing: int, rows: int, tolerated: float, floor: int = 1000) -> str:
        return ExpectationOutcome(
            "s", "t", "c", "e", "p", "missing", "critical", tolerated, rows, failing, floor_rows=floor
        ).outcome

    assert outcome(1, 81, 0.01) == "warning"  # 1 of 81 is 1.2 %, but within 1 % of 1,000
    assert outcome(10, 81, 0.01) == "warning"
    assert outcome(11, 81, 0.01) == "blocking"
    assert outcome(1, 81, 0.01, floor=0) == "blocking"
    assert outcome(1, 81, 0.0) == "blocking"  # zero tolerance: any failing row
    assert outcome(20, 2000, 0.01) == "warning"  # above the floor: the plain share
    assert outcome(21, 2000, 0.01) == "blocking"
    assert outcome(0, 81, 0.0) == "pass"
    assert load_config().share_floor_rows == 1000
    with pytest.raises(InputError, match=r"share_floor_rows: expected greater than or equal to 0, got -1"):
        parse_config({"share_floor_rows": -1})


# --- one home for the row rules: staging and validation classify with the same macros --------

#: Raw events with every way a row can be unusable, and re-sent event_ids whose copies differ.
#: (event_id, event_name, customer_id, occurred_at, received_at, properties)
RULE_ROWS = [
    ("ok", "query_run", "c1", "2026-03-01T10:00:00Z", "2026-03-01T10:00:01Z", "{}"),
    ("no_customer", "query_run", "", "2026-03-01T10:00:00Z", "2026-03-01T10:00:01Z", "{}"),
    ("null_text_customer", "query_run", "NULL", "2026-03-01T10:00:00Z", "2026-03-01T10:00:01Z", "{}"),
    ("blank_customer", "query_run", " \t ", "2026-03-01T10:00:00Z", "2026-03-01T10:00:01Z", "{}"),
    ("year_1900", "query_run", "c1", "1900-01-01T00:00:00Z", "2026-03-01T10:00:01Z", "{}"),
    ("at_floor", "query_run", "c1", "2000-01-01T00:00:00Z", "2026-03-01T10:00:01Z", "{}"),
    ("bad_time", "query_run", "c1", "yesterday-ish", "2026-03-01T10:00:01Z", "{}"),
    ("two_defects", "query_run", "", "not a time", "2026-03-01T10:00:01Z", "{}"),
    ("unknown_name", "nope", "c1", "2026-03-01T10:00:00Z", "2026-03-01T10:00:01Z", "{}"),
    ("bad_json", "query_run", "c1", "2026-03-01T10:00:00Z", "2026-03-01T10:00:01Z", "{not json"),
    ("not_object", "query_run", "c1", "2026-03-01T10:00:00Z", "2026-03-01T10:00:01Z", "[1]"),
    ("offset", "query_run", "c1", "2026-03-01T12:00:00+02:00", "2026-03-01T10:00:01Z", None),
    ("signup", "signup_completed", "c2", "2026-03-01T10:00:00Z", "2026-03-01T10:00:01Z", '{"email": 7}'),
    # received first: unusable; received later: usable (the de-duplication order decides)
    ("resent", "query_run", "", "2026-03-01T10:00:00Z", "2026-03-01T10:00:01Z", "{}"),
    ("resent", "query_run", "c1", "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z", "{}"),
    ("resent_tie", "query_run", "c1", "2026-03-01T10:00:05Z", "2026-03-01T10:10:00Z", "{}"),
    ("resent_tie", "query_run", "c1", "2026-03-01T10:00:01Z", "2026-03-01T10:10:00Z", "{}"),
    ("", "query_run", "c1", "2026-03-01T10:00:00Z", "2026-03-01T10:00:01Z", "{}"),
    (None, "query_run", "c1", "2026-03-01T10:00:00Z", "2026-03-01T10:00:01Z", "{}"),
]


def _project_copy(folder: Path) -> Path:
    """The dbt project (models, macros, seeds, tests, config) copied to folder."""
    import shutil

    from .conftest import PROJECT_DIR

    folder.mkdir()
    for name in ("dbt_project.yml", "selectors.yml"):
        shutil.copy(PROJECT_DIR / name, folder / name)
    for name in ("models", "macros", "seeds", "tests/dbt"):
        shutil.copytree(PROJECT_DIR / name, folder / name)
    return folder


def _staging_and_validation_reasons(project: Path, target: Target) -> tuple[dict, dict]:
    """{event_id or '<none>': reason} from base_product__events (built by dbt) and from validation."""
    import os
    import subprocess
    import sys

    import pandas as pd

    from onboard.core.db import database
    from onboard.validate.source import event_frames, latest_loaded_at, render_queries

    from .conftest import PROJECT_DIR

    dbt = str(Path(sys.executable).parent / "dbt")
    models = "base_product__events stg_product__events_unusable"
    folders = ["--project-dir", str(project), "--profiles-dir", str(PROJECT_DIR)]
    built = subprocess.run(
        [dbt, "run", "--full-refresh", *folders, "--select", models],
        cwd=project,
        env={**os.environ, "ONBOARD_DUCKDB_PATH": str(target.duckdb_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:]
    staging = dict(
        query(
            target,
            "select event_id, coalesce(unusable_reason, 'usable') from main_staging.base_product__events",
        )
    )
    (without_id,) = query(
        target,
        "select count(*) from main_staging.stg_product__events_unusable where reason = 'null_event_id'",
    )[0]
    staging["<none>"] = f"null_event_id x {without_id}"

    with database(target) as db:
        until = latest_loaded_at(db)
        assert until is not None
        queries = render_queries(target, every_load=False, project_dir=project)
        frame = pd.concat(list(event_frames(db, queries, datetime(1970, 1, 1), until)), ignore_index=True)
    with_id = frame[frame["event_id"].notna()]
    validation = dict(zip(with_id["event_id"], with_id["unusable_reason"].fillna("usable"), strict=True))
    missing = frame[frame["event_id"].isna()]["unusable_reason"]
    validation["<none>"] = f"{missing.iloc[0]} x {len(missing)}"
    return staging, validation


@pytest.mark.slow
def test_staging_and_validation_classify_rows_by_the_same_macros(tmp_path):
    """Change a rule in macros/staging/product_events.sql: base_product__events and validation follow."""
    import duckdb

    project = _project_copy(tmp_path / "project")
    target = Target(
        "duckdb", "duckdb", {"type": "duckdb", "path": str(tmp_path / "w.duckdb"), "schema": "main"}
    )
    with duckdb.connect(str(target.duckdb_path)) as connection:
        connection.execute("create schema raw")
        connection.execute(
            "create table raw.events (event_id varchar, event_name varchar, customer_id varchar, user_id varchar, "
            "occurred_at varchar, received_at varchar, properties varchar, _loaded_at timestamp)"
        )
        connection.executemany(
            "insert into raw.events values (?, ?, ?, 'u1', ?, ?, ?, timestamp '2026-03-02 00:00:00')",
            RULE_ROWS,
        )

    staging, validation = _staging_and_validation_reasons(project, target)
    assert validation == staging
    assert set(staging.values()) - {"usable"} == set(UNUSABLE_REASONS) - {"null_event_id"} | {
        "null_event_id x 2"
    }
    assert (staging["two_defects"], staging["resent"], staging["signup"]) == (
        "null_customer_id",
        "null_customer_id",
        "usable",
    )
    assert (staging["null_text_customer"], staging["blank_customer"]) == ("null_customer_id",) * 2
    assert (staging["year_1900"], staging["at_floor"]) == ("implausible_occurred_at", "usable")

    # the rule changed in one place: the latest received copy wins, occurred_at is checked first
    rules = project / "macros" / "staging" / "product_events.sql"
    text = rules.read_text()
    changed = text.replace("received_at asc nulls last", "received_at desc nulls last", 1)
    first, second = (
        "        when customer_id is null then 'null_customer_id'\n",
        "        when occurred_at is null then 'null_occurred_at'\n",
    )
    changed = changed.replace(first + second, second + first)
    assert changed.count("received_at desc") == 1 and second + first in changed
    rules.write_text(changed)

    staging_after, validation_after = _staging_and_validation_reasons(project, target)
    assert validation_after == staging_after
    assert (staging_after["two_defects"], staging_after["resent"]) == ("null_occurred_at", "usable")
