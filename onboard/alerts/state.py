"""The alerts' tables in the warehouse (schema `alerts`) and the read of the stall_alerts mart.

- `alert_log`: one row per stall alerted: customer_id, stalled_since (the stall's key),
  severity, delivery (realtime or digest), posted_at, run_id. Written only after Slack
  answered 2xx, message by message, each in its own transaction: a crash loses at most the
  message in flight, and an alert whose message failed is simply tried again next run.
- `alert_runs`: one row per run (not dry runs): counts, status (running, ok, failed;
  a run killed mid-way is marked interrupted by the next), and the UTC day whose digest
  it posted with whether that digest went out complete (which makes the digest daily).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from onboard.alerts.plan import Alert
from onboard.core.db import Database
from onboard.core.errors import UsageError
from onboard.core.run_logs import mark_interrupted as mark_runs_interrupted
from onboard.core.run_logs import save_run_row

SCHEMA = "alerts"
LOG = f"{SCHEMA}.alert_log"
RUNS = f"{SCHEMA}.alert_runs"
MART = "stall_alerts"
MART_COLUMNS = (
    "alert_rank",
    "customer_id",
    "stall_severity",
    "alert_delivery",
    "arr",
    "stall_hours",
    "stall_step",
    "stalled_since",
    "milestones_reached",
    "milestones_missing",
    "last_progress_at",
    "track",
    "csm_owner",
    "company_name",
    "email",
    "recovery_subject",
    "recovery_body",
)

DDL = (
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {LOG} (
        customer_id text not null,
        stalled_since timestamp not null,
        severity text,
        delivery text not null,
        posted_at timestamp not null,
        run_id text not null,
        primary key (customer_id, stalled_since)
    )""",
    f"""create table if not exists {RUNS} (
        run_id text primary key,
        started_at timestamp not null,
        finished_at timestamp,
        status text not null,
        stalled bigint not null,
        skipped bigint not null,
        realtime_posted bigint not null,
        digest_alerts bigint not null,
        digest_messages bigint not null,
        overflow bigint not null,
        waiting bigint not null,
        failed_messages bigint not null,
        digest_date date,
        digest_complete boolean not null,
        message text
    )""",
)


def ensure_tables(db: Database) -> None:
    """Create the alerts schema and tables if missing."""
    for statement in DDL:
        db.execute(statement)


def mart_relation(db: Database) -> str:
    """schema.stall_alerts: the marts live in the target's schema."""
    return f"{db.target.settings['schema']}.{MART}"


def _names(text: Any) -> tuple[str, ...]:
    return tuple(str(text).split(",")) if text else ()


def _alert(row: Sequence[Any]) -> Alert:
    values = dict(zip((*MART_COLUMNS, "is_holdout", "already_alerted"), row, strict=True))
    return Alert(
        alert_rank=int(values["alert_rank"]),
        customer_id=str(values["customer_id"]),
        stall_severity=values["stall_severity"],
        alert_delivery=values["alert_delivery"],
        arr=None if values["arr"] is None else float(values["arr"]),
        stall_hours=float(values["stall_hours"]),
        stall_step=values["stall_step"],
        stalled_since=values["stalled_since"],
        milestones_reached=_names(values["milestones_reached"]),
        milestones_missing=_names(values["milestones_missing"]),
        last_progress_at=values["last_progress_at"],
        track=values["track"],
        csm_owner=values["csm_owner"],
        company_name=values["company_name"],
        email=values["email"],
        recovery_subject=values["recovery_subject"],
        recovery_body=values["recovery_body"],
        is_holdout=bool(values["is_holdout"]),
        already_alerted=bool(values["already_alerted"]),
    )


def read_alerts(db: Database) -> list[Alert]:
    """Every row of stall_alerts by alert_rank, each flagged when its stall is in alert_log."""
    schema = str(db.target.settings["schema"])
    if not db.table_exists(schema, MART):
        raise UsageError(
            f"{db.target.describe()} has no {MART} in schema {schema}: run `onboard build` first"
        )
    columns = ", ".join(f"mart.{column}" for column in MART_COLUMNS)
    # is_holdout: only a build with var `experiments` has it (docs/definitions.md#holdout-suppression)
    held = "is_holdout" in db.columns(schema, MART)
    columns += ", coalesce(mart.is_holdout, false)" if held else ", false"
    if db.table_exists(SCHEMA, "alert_log"):
        sql = (
            f"select {columns}, logged.customer_id is not null as already_alerted "
            f"from {mart_relation(db)} as mart left join {LOG} as logged "
            "on logged.customer_id = mart.customer_id and logged.stalled_since = mart.stalled_since "
            "order by mart.alert_rank"
        )
    else:
        sql = (
            f"select {columns}, false as already_alerted from {mart_relation(db)} as mart "
            "order by mart.alert_rank"
        )
    return [_alert(row) for row in db.rows(sql)]


def record_posted(
    db: Database, alerts: Sequence[Alert], delivery: str, run_id: str, posted_at: datetime
) -> None:
    """The alerts of one message Slack accepted, in one transaction."""
    rows = [
        (alert.customer_id, alert.stalled_since, alert.stall_severity, delivery, posted_at, run_id)
        for alert in alerts
    ]
    with db.transaction():
        db.executemany(
            f"insert into {LOG} (customer_id, stalled_since, severity, delivery, posted_at, run_id) "
            "values (?, ?, ?, ?, ?, ?)",
            rows,
        )


def digest_done(db: Database, day: date) -> bool:
    """Whether a run completed the digest of this UTC day."""
    if not db.table_exists(SCHEMA, "alert_runs"):
        return False
    return bool(db.value(f"select count(*) from {RUNS} where digest_date = ? and digest_complete", [day]))


@dataclass
class AlertRunRow:
    """One row of alert_runs."""

    run_id: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"
    stalled: int = 0
    skipped: int = 0
    realtime_posted: int = 0
    digest_alerts: int = 0
    digest_messages: int = 0
    overflow: int = 0
    waiting: int = 0
    failed_messages: int = 0
    digest_date: date | None = None
    digest_complete: bool = False
    message: str | None = None


def save_run(db: Database, run: AlertRunRow) -> None:
    """Insert or update a run row."""
    save_run_row(db, RUNS, run)


def mark_interrupted(db: Database) -> int:
    """Runs left `running` by a killed process become `interrupted`; how many."""
    return mark_runs_interrupted(db, RUNS)
