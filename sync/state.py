"""The sync's tables in the warehouse (schema `sync`): state, runs, errors, and each run's plan.

- `sync_state`: per destination and record key, the hash of the last payload the
  destination acknowledged (and the payload, for diffs), its guarded-fields hash, when,
  and status `synced` or `cleared` (left the model, blanked and suppressed). Written only
  for acknowledged records, as each batch completes, in its own transaction.
- `sync_runs`: one row per run (planned, sent, succeeded, failed, skipped-unchanged,
  removed, status, forced, dry run; moments sent, skipped stale / suppressed, failed). A run
  killed mid-way stays `running` until the next run marks it `interrupted`.
- `moment_deliveries`: per destination and moment id (a journey event, a CSM task), its
  status: `pending` (seen, not yet acknowledged), `delivered` (acknowledged), `skipped_stale`
  or `skipped_suppressed` (never sent); sync/moments.py.
- `sync_errors`: one row per record (or moment, by its id) a destination refused, with the
  HTTP status and message.
- `plan_<destination>` / `work_<destination>`: scratch tables of the current run (one run per
  destination at a time: sync/runner.py holds a lock named for it, `Database.exclusive`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime

import pandas as pd

from onboard.core.db import Database
from onboard.core.run_logs import mark_interrupted as mark_runs_interrupted
from onboard.core.run_logs import save_run_row

SCHEMA = "sync"
STATE = f"{SCHEMA}.sync_state"
RUNS = f"{SCHEMA}.sync_runs"
ERRORS = f"{SCHEMA}.sync_errors"
DELIVERIES = f"{SCHEMA}.moment_deliveries"

DDL = (
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {STATE} (
        destination text not null,
        record_key text not null,
        payload_hash text not null,
        guarded_hash text not null,
        payload text not null,
        status text not null,
        acknowledged_at timestamp not null,
        run_id text not null,
        primary key (destination, record_key)
    )""",
    f"""create table if not exists {RUNS} (
        run_id text primary key,
        destination text not null,
        started_at timestamp not null,
        finished_at timestamp,
        as_of timestamp,
        planned bigint not null,
        sent bigint not null,
        succeeded bigint not null,
        failed bigint not null,
        skipped_unchanged bigint not null,
        removed bigint not null,
        status text not null,
        forced boolean not null,
        dry_run boolean not null,
        message text,
        moments_sent bigint default 0,
        moments_skipped_stale bigint default 0,
        moments_skipped_suppressed bigint default 0,
        moments_failed bigint default 0
    )""",
    f"""create table if not exists {DELIVERIES} (
        destination text not null,
        moment_id text not null,
        record_key text not null,
        name text not null,
        occurred_at timestamp not null,
        status text not null,
        first_seen_at timestamp not null,
        updated_at timestamp not null,
        run_id text not null,
        primary key (destination, moment_id)
    )""",
    f"""create table if not exists {ERRORS} (
        run_id text not null,
        destination text not null,
        record_key text not null,
        http_status integer,
        message text not null,
        occurred_at timestamp not null
    )""",
)


def utc_now() -> datetime:
    """Now, naive UTC (the warehouse's timestamps are naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


#: columns sync_runs gained after its first release: added to a warehouse that lacks them
ADDED_RUN_COLUMNS = ("moments_sent", "moments_skipped_stale", "moments_skipped_suppressed", "moments_failed")


def ensure_tables(db: Database) -> None:
    """Create the sync schema and tables if missing (and the run columns a warehouse lacks)."""
    for statement in DDL:
        db.execute(statement)
    for column in ADDED_RUN_COLUMNS:
        db.execute(f"alter table {RUNS} add column if not exists {column} bigint default 0")


@dataclass
class SyncRunRow:
    """One row of sync_runs."""

    run_id: str
    destination: str
    started_at: datetime
    finished_at: datetime | None = None
    as_of: datetime | None = None
    planned: int = 0
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped_unchanged: int = 0
    removed: int = 0
    status: str = "running"
    forced: bool = False
    dry_run: bool = False
    message: str | None = None
    #: journey events / CSM tasks (sync/moments.py): acknowledged, recorded as skipped, refused
    moments_sent: int = 0
    moments_skipped_stale: int = 0
    moments_skipped_suppressed: int = 0
    moments_failed: int = 0


RUN_COLUMNS = tuple(f.name for f in fields(SyncRunRow))


def save_run(db: Database, run: SyncRunRow) -> None:
    """Insert or update a run row."""
    save_run_row(db, RUNS, run)


def mark_interrupted(db: Database, destination: str) -> int:
    """Runs of a destination left `running` by a killed process become `interrupted`."""
    return mark_runs_interrupted(db, RUNS, {"destination": destination})


def recent_runs(db: Database, limit: int = 10) -> list[SyncRunRow]:
    """The latest runs, newest first."""
    rows = db.rows(
        f"select {', '.join(RUN_COLUMNS)} from {RUNS} "
        f"order by started_at desc, run_id desc limit {int(limit)}"
    )
    return [SyncRunRow(**dict(zip(RUN_COLUMNS, row, strict=True))) for row in rows]


def pending_failures(db: Database) -> list[tuple[str, str, int | None, str]]:
    """Records (and moments) refused by a destination and not acknowledged (or skipped) since:
    (destination, key, status, message)."""
    return [
        (str(d), str(k), None if s is None else int(s), str(m))
        for d, k, s, m in db.rows(
            f"""
            select errors.destination, errors.record_key, errors.http_status, errors.message
            from {ERRORS} as errors
            left join {STATE} as state
                on errors.destination = state.destination and errors.record_key = state.record_key
                and state.acknowledged_at >= errors.occurred_at
            left join {DELIVERIES} as moments
                on errors.destination = moments.destination and errors.record_key = moments.moment_id
                and moments.status <> 'pending' and moments.updated_at >= errors.occurred_at
            where state.record_key is null and moments.moment_id is null
                and errors.occurred_at = (
                    select max(latest.occurred_at) from {ERRORS} as latest
                    where latest.destination = errors.destination and latest.record_key = errors.record_key
                )
            order by errors.destination, errors.record_key
            """
        )
    ]


@dataclass(frozen=True)
class Acknowledged:
    """A record the destination acknowledged, as it goes into sync_state."""

    record_key: str
    payload_hash: str
    guarded_hash: str
    payload: str
    status: str


def record_acknowledged(db: Database, destination: str, run_id: str, records: list[Acknowledged]) -> None:
    """Upsert the state of acknowledged records (one transaction)."""
    if not records:
        return
    now = utc_now()
    frame = pd.DataFrame(
        {
            "destination": destination,
            "record_key": [r.record_key for r in records],
            "payload_hash": [r.payload_hash for r in records],
            "guarded_hash": [r.guarded_hash for r in records],
            "payload": [r.payload for r in records],
            "status": [r.status for r in records],
            "acknowledged_at": now,
            "run_id": run_id,
        }
    )
    upsert_frame(db, STATE, frame, ("destination", "record_key"))


def upsert_frame(
    db: Database, table: str, frame: pd.DataFrame, key: tuple[str, ...], keep: tuple[str, ...] = ()
) -> None:
    """Insert a frame's rows, or update the row with the same key: every column but the key and
    `keep` (columns an existing row keeps). One statement, the key's index finding each row."""
    columns = list(frame.columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key and c not in keep)
    insert = f"insert into {table} ({', '.join(columns)}) "
    conflict = f" on conflict ({', '.join(key)}) do update set {updates}"
    if db.kind == "postgres":
        from psycopg2.extras import execute_values

        with db.connection.cursor() as cursor:
            execute_values(cursor, insert + "values %s" + conflict, list(frame.itertuples(index=False)))
        return
    db.connection.register("frame_to_upsert", frame)
    try:
        db.execute(insert + f"select {', '.join(columns)} from frame_to_upsert" + conflict)
    finally:
        db.connection.unregister("frame_to_upsert")


def record_errors(
    db: Database, destination: str, run_id: str, errors: list[tuple[str, int | None, str]]
) -> None:
    """Insert the refused records of a batch: (key, http status, message)."""
    if errors:
        now = utc_now()
        db.executemany(
            f"insert into {ERRORS} (run_id, destination, record_key, http_status, message, occurred_at) "
            "values (?, ?, ?, ?, ?, ?)",
            [(run_id, destination, key, status, message[:2000], now) for key, status, message in errors],
        )


def write_frame(db: Database, table: str, frame: pd.DataFrame) -> None:
    """Append a frame to an existing table (same column names)."""
    if frame.empty:
        return
    columns = ", ".join(frame.columns)
    if db.kind == "postgres":
        from psycopg2.extras import execute_values

        with db.connection.cursor() as cursor:
            execute_values(
                cursor,
                f"insert into {table} ({columns}) values %s",
                list(frame.itertuples(index=False)),
                page_size=5000,
            )
        return
    db.connection.register("frame_to_write", frame)
    try:
        db.execute(f"insert into {table} ({columns}) select {columns} from frame_to_write")
    finally:
        db.connection.unregister("frame_to_write")
