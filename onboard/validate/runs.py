"""The validation_runs table: each run's window and status, acceptance, and the sync gate.

A run validates the rows loaded in (since, until]: since is the `until` of the latest run
that passed or was accepted (or `--since`), until the latest `_loaded_at` when it started.
The gate lets a sync through only when the latest run passed or was accepted and covers
every row loaded so far.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from onboard.core.db import Database, database
from onboard.core.errors import OnboardError, UsageError
from onboard.core.logs import log
from onboard.core.run_logs import VALIDATION_RUNS_TABLE, VALIDATION_SCHEMA
from onboard.core.targets import Target
from onboard.validate.source import latest_loaded_at

SCHEMA = VALIDATION_SCHEMA
TABLE = f"{SCHEMA}.{VALIDATION_RUNS_TABLE}"
EPOCH = datetime(1970, 1, 1)
STATUSES = ("passed", "failed", "accepted")

CREATE_SQL = f"""
create table if not exists {TABLE} (
    run_id text primary key,
    started_at timestamp not null,
    finished_at timestamp,
    window_since timestamp not null,
    window_until timestamp not null,
    suites text not null,
    rows_validated bigint not null,
    expectations_failed integer not null,
    expectations_warned integer not null,
    status text not null,
    results_file text,
    accepted_by text,
    accepted_at timestamp,
    accepted_reason text
)
"""

COLUMNS = (
    "run_id",
    "started_at",
    "finished_at",
    "window_since",
    "window_until",
    "suites",
    "rows_validated",
    "expectations_failed",
    "expectations_warned",
    "status",
    "results_file",
    "accepted_by",
    "accepted_at",
    "accepted_reason",
)


class ValidationGateError(OnboardError):
    """The sync is blocked: the raw data has no passing or accepted validation."""

    exit_code = 1


@dataclass(frozen=True)
class RunRecord:
    """One row of validation_runs."""

    run_id: str
    started_at: datetime
    finished_at: datetime | None
    window_since: datetime
    window_until: datetime
    suites: list[str]
    rows_validated: int
    expectations_failed: int
    expectations_warned: int
    status: str
    results_file: str | None = None
    accepted_by: str | None = None
    accepted_at: datetime | None = None
    accepted_reason: str | None = None


def utc_now() -> datetime:
    """Now in UTC, naive (the warehouse's timestamps are naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_table(db: Database) -> None:
    """Create the validation schema and table if missing."""
    db.execute(f"create schema if not exists {SCHEMA}")
    db.execute(CREATE_SQL)


def _record(row: tuple) -> RunRecord:
    values = dict(zip(COLUMNS, row, strict=True))
    values["suites"] = json.loads(values["suites"])
    return RunRecord(**values)


def runs(db: Database) -> list[RunRecord]:
    """Every run, oldest first."""
    ensure_table(db)
    return [
        _record(row)
        for row in db.rows(f"select {', '.join(COLUMNS)} from {TABLE} order by started_at, run_id")
    ]


def insert_run(db: Database, record: RunRecord) -> None:
    """Record a finished run."""
    ensure_table(db)
    values = [getattr(record, c) for c in COLUMNS]
    values[COLUMNS.index("suites")] = json.dumps(record.suites)
    placeholders = ", ".join("?" for _ in COLUMNS)
    db.execute(f"insert into {TABLE} ({', '.join(COLUMNS)}) values ({placeholders})", values)


def default_since(db: Database) -> datetime:
    """Where the next window starts: the end of the latest passed or accepted run, else the beginning."""
    good = [r for r in runs(db) if r.status in ("passed", "accepted")]
    return max((r.window_until for r in good), default=EPOCH)


def accept_run(target: Target, run_id: str, by: str, reason: str) -> RunRecord:
    """Record an operator's acceptance of a failed run: who, when and why."""
    if not by.strip():
        raise UsageError("--accept needs a name: set $USER or pass --by NAME")
    if not reason.strip():
        raise UsageError("--accept needs --reason TEXT: why the failed run is acceptable")
    with database(target) as db:
        known = runs_by_id(db)
        if run_id not in known:
            raise UsageError(f"--accept {run_id}: no such validation run")
        if known[run_id].status != "failed":
            raise UsageError(
                f"--accept {run_id}: run is {known[run_id].status}, only a failed run is accepted"
            )
        now = utc_now()
        db.execute(
            f"update {TABLE} set status = 'accepted', accepted_by = ?, accepted_at = ?, accepted_reason = ? "
            "where run_id = ?",
            [by, now, reason, run_id],
        )
        log("validate.accepted", run_id=run_id, by=by, reason=reason)
        return runs_by_id(db)[run_id]


def runs_by_id(db: Database) -> dict[str, RunRecord]:
    """Every run by id."""
    return {r.run_id: r for r in runs(db)}


def gate_problem(db: Database) -> str | None:
    """Why a sync must not push now, or None when the latest validation allows it."""
    history = runs(db)
    loaded = latest_loaded_at(db)
    if not history:
        return "no validation has run on this warehouse; run `onboard validate`"
    latest = max(history, key=lambda r: (r.started_at, r.run_id))
    if latest.status == "failed":
        return (
            f"validation run {latest.run_id} failed ({latest.expectations_failed} blocking expectations); "
            f"fix the data and run `onboard validate`, accept the run with "
            f"`onboard validate --accept {latest.run_id} --reason TEXT`, or push once with `--force`"
        )
    covered = max((r.window_until for r in history if r.status in ("passed", "accepted")), default=EPOCH)
    if loaded is not None and loaded > covered:
        return (
            f"rows loaded at {loaded:%Y-%m-%d %H:%M:%S} have not been validated; run `onboard validate` "
            f"(or push once with `--force`)"
        )
    return None


def require_passing_validation(target: Target, force: bool = False) -> None:
    """Refuse (ValidationGateError, exit 1) unless the raw data's latest validation passed or was accepted.

    With force the sync goes ahead once, and the override is logged.
    """
    with database(target) as db:
        problem = gate_problem(db)
    if problem is None:
        return
    if force:
        log("validate.gate_forced", target=target.name, reason=problem)
        return
    raise ValidationGateError(f"sync blocked: {problem}")
