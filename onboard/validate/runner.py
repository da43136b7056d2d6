"""One validation run: read the window's rows in chunks, validate each with GX, combine the counts.

The counts combine into the outcomes of onboard/validate/outcome.py (what pass, warning
and blocking mean); the event queries are rendered once per run from the dbt macros staging
uses (onboard/validate/source.py).
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from onboard.core.db import Database, database
from onboard.core.dbt import run_dbt
from onboard.core.errors import InputError, OnboardError, UsageError
from onboard.core.paths import PROJECT_DIR
from onboard.core.targets import Target
from onboard.core.tracking_plan import load_tracking_plan
from onboard.validate import volume
from onboard.validate.config import EXPECTATIONS_DIR, ValidationConfig, load_config
from onboard.validate.docs import write_data_docs
from onboard.validate.outcome import ExpectationOutcome, SuiteOutcome, ValidationOutcome
from onboard.validate.runs import RunRecord, default_since, ensure_table, insert_run, utc_now
from onboard.validate.source import (
    CHUNK_ROWS,
    EventQueries,
    chunks,
    event_frames,
    latest_loaded_at,
    render_queries,
    sql_target,
    table_sql,
    window_holds_every_load,
)
from onboard.validate.suites import EVENTS_SUITE, SNAPSHOT_SUITES, TABLE_SUITES

__all__ = ["ExpectationOutcome", "SuiteOutcome", "ValidationFailedError", "ValidationOutcome", "validate"]

RESULTS_DIR = Path(os.environ.get("ONBOARD_VALIDATION_RESULTS_DIR", PROJECT_DIR / "results" / "validation"))
MAX_EXAMPLES = 5


class ValidationFailedError(OnboardError):
    """A validation run had a blocking failure: exit 1."""

    exit_code = 1


def _outcomes(name: str, suite_file: dict[str, Any], floor_rows: int) -> SuiteOutcome:
    outcome = SuiteOutcome(name)
    for item in suite_file["expectations"]:
        meta, kwargs = item["meta"], item["kwargs"]
        outcome.expectations.append(
            ExpectationOutcome(
                suite=name,
                expectation_type=item["type"],
                check=meta["check"],
                event=meta["event"],
                prop=meta["property"],
                kind=meta["kind"],
                severity=item.get("severity") or "critical",
                tolerated_share=round(1.0 - float(kwargs.get("mostly", 1.0)), 10),
                kwargs=kwargs,
                floor_rows=floor_rows,
            )
        )
    return outcome


def floor_rows(suite: str, config: ValidationConfig) -> int:
    """share_floor_rows for a suite of events validated over a window; 0 for a snapshot table.

    Accounts, subscriptions and routing audits are whole tables, not a day's arrivals: a
    tenth of 100 accounts is a tenth, judged on its true share
    (docs/definitions.md#validation-tolerances).
    """
    return 0 if suite in SNAPSHOT_SUITES else config.share_floor_rows


def new_run_id(now: datetime) -> str:
    """A sortable, unique run id."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def validate(
    target: Target,
    since: datetime | None = None,
    suites_dir: Path = EXPECTATIONS_DIR,
    results_dir: Path | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ValidationOutcome:
    """Validate the raw rows loaded since the last good run (or since), record the run, return it."""
    plan = load_tracking_plan()
    started = utc_now()
    names = [*plan.event_names, EVENTS_SUITE, *TABLE_SUITES]
    files = {}
    for name in names:
        path = suites_dir / f"{name}.json"
        if not path.exists():
            raise InputError(f"{path}: suite missing; run python -m onboard.validate.suites --write")
        files[name] = json.loads(path.read_text())
    config = load_config()
    outcomes = {name: _outcomes(name, files[name], floor_rows(name, config)) for name in names}
    with database(target) as db:
        ensure_table(db)
        window_since = since if since is not None else default_since(db)
        until = latest_loaded_at(db) or window_since
        queries: EventQueries | None = None
        if until > window_since:
            ensure_udfs(db)
            every_load = window_holds_every_load(db, window_since)
            queries = render_queries(sql_target(db), every_load)
        validator = None
        gx_suites: dict[str, Any] = {}
        for table in ("events", *TABLE_SUITES):
            if queries is None:
                break
            frames = (
                event_frames(db, queries, window_since, until, chunk_rows)
                if table == "events"
                else chunks(db, table_sql(table), window_since, until, chunk_rows)
            )
            for frame in frames:
                if validator is None:
                    from onboard.validate import gx

                    validator = gx.Validator()
                    gx_suites = {n: gx.load_suite(suites_dir / f"{n}.json") for n in names}
                if table == "events":
                    _validate(validator, gx_suites[EVENTS_SUITE], outcomes[EVENTS_SUITE], frame, "event_id")
                    usable = frame[frame["unusable_reason"].isna()]
                    for event, rows in usable.groupby("event_name", sort=False):
                        name = str(event)
                        _validate(validator, gx_suites[name], outcomes[name], rows, "event_id")
                else:
                    key = "event_id" if table == "email_events" else "customer_id"
                    _validate(validator, gx_suites[table], outcomes[table], frame, key)
        notes: list[str] = []
        if queries is not None:
            checked = volume.check_volume(db, queries.volume, plan.event_names, window_since, until, config)
            outcomes[volume.SUITE] = _volume_outcome(checked, config)
            notes.extend(checked.notes)
        finished = utc_now()
        run_id = new_run_id(started)
        result = ValidationOutcome(
            run_id, started, finished, window_since, until, list(outcomes.values()), None, notes
        )
        folder = results_dir or RESULTS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        result.results_file = folder / f"{run_id}.json"
        result.results_file.write_text(json.dumps(result.to_json(), indent=2) + "\n")
        if validator is not None:
            result.data_docs = write_data_docs(result, folder / run_id)
        insert_run(
            db,
            RunRecord(
                run_id=run_id,
                started_at=started,
                finished_at=finished,
                window_since=window_since,
                window_until=until,
                suites=names,
                rows_validated=result.rows,
                expectations_failed=len(result.expectations("blocking")),
                expectations_warned=len(result.expectations("warning")),
                status=result.status,
                results_file=str(result.results_file),
            ),
        )
    return result


def _volume_outcome(checked: volume.VolumeResult, config: ValidationConfig) -> SuiteOutcome:
    """The volume verdicts as expectations: per event type, days judged, dropped and zero."""
    suite = SuiteOutcome(volume.SUITE, rows=max(checked.judged.values(), default=0))
    for kind, days, severity in (("drop", checked.drops, "warning"), ("zero", checked.zeros, "critical")):
        level = config.level(f"volume.{kind}", severity)
        for event, judged in checked.judged.items():
            failing = [d for d in days if d.event == event]
            suite.expectations.append(
                ExpectationOutcome(
                    suite=volume.SUITE,
                    expectation_type=volume.EXPECTATION_TYPE,
                    check=f"volume.{kind}",
                    event=event,
                    prop="daily volume",
                    kind=kind,
                    severity=level.severity,
                    tolerated_share=level.tolerated_share,
                    rows=judged,
                    failing=len(failing),
                    examples=[f"{d.day}: {d.count} vs median {d.median:g}" for d in failing[:MAX_EXAMPLES]],
                )
            )
    return suite


def ensure_udfs(db: Database) -> None:
    """On PostgreSQL, the dbt project's parsing functions (installed once with dbt run-operation)."""
    if db.kind != "postgres":
        return
    schema = str(db.target.settings["schema"])
    found = db.value(
        "select count(*) from information_schema.routines where routine_schema = ? "
        "and routine_name in ('onboard_try_timestamp', 'onboard_try_json_object')",
        [schema],
    )
    if found == 2:
        return
    if run_dbt("run-operation", db.target, None, ["install_udfs"], quiet=True) != 0:
        raise UsageError(
            f"could not install the parsing functions in schema {schema}: dbt run-operation failed"
        )


def _validate(validator: Any, suite: Any, outcome: SuiteOutcome, frame: Any, id_column: str) -> None:
    outcome.rows += len(frame)
    for expectation, counts in zip(
        outcome.expectations, validator.validate(suite, frame, id_column), strict=True
    ):
        expectation.rows += len(frame)
        expectation.failing += counts.unexpected_count
        room = MAX_EXAMPLES - len(expectation.examples)
        if room > 0:
            expectation.examples.extend(counts.examples[:room])
