"""`onboard validate`: GX suites from the tracking plan, exact counts, runs, acceptance, the gate."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from onboard.errors import UsageError
from onboard.generate import GenerateOptions, generate, parse_break
from onboard.load import load
from onboard.raw_tables import UNUSABLE_REASONS
from onboard.tracking_plan import Property, load_tracking_plan
from onboard.validate.config import load_config, parse_config
from onboard.validate.runs import ValidationGateError, accept_run, require_passing_validation
from onboard.validate.suites import build_suites, suite_drift, write_suites
from onboard.warehouse import Target

from .conftest import query, run_onboard

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
    from onboard.errors import InputError
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
    with pytest.raises(Exception, match="tolerated_share"):
        parse_config({"checks": {"x": {"tolerated_share": 2}}})


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
        assert result.failure("events", reason) == manifest["events"]["unusable"][reason], reason
    for key, count in manifest["events"]["broken_properties"].items():
        event, prop = key.split(".")
        assert result.failure(event, prop) == count, key
    saved = json.loads(result.results_file.read_text())
    assert saved["run_id"] == result.run_id and saved["status"] == "passed"
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
        assert result.failure("events", reason) == manifest["events"]["unusable"][reason], reason
    for key, count in manifest["events"]["broken_properties"].items():
        event, prop = key.split(".")
        assert result.failure(event, prop) == count, key
