"""Moments delivered exactly once: journey events, CSM tasks (docs/definitions.md#moment-delivery).

A destination's `moments:` entry (sync/mappings.yml, `MomentsConfig`) names a model whose rows
are moments, each with a stable id. After a run's records (so the destination's filters see
fresh attributes), the sync:

- plans in SQL: the model's moments not yet delivered or skipped (`sync.moment_deliveries`),
  each one `send`, `skipped_stale` (it occurred more than max_age_hours before it was first
  seen, at the as_of of the build the run read: turning the feature on never fires months of
  history), `skipped_suppressed`
  (the model's suppressed_column says the customer may not be reached) or `disabled` (its
  name is switched off under `send:`; not recorded, so switching it on later sends only what
  is still fresh then);
- records the skipped ones and marks the new `send` ones `pending` with when they were first
  seen (a real run only; a dry run writes nothing);
- sends the `send` ones in occurred_at order, at most one moment of a record per request, and
  records each as `delivered` only when the destination acknowledged it (one transaction per
  batch). A moment it refused goes to sync_errors and stays pending, and the record's later
  moments wait for the next run, so a record's moments arrive in order. A kill loses nothing:
  the pending moments are sent again next run, and the destination's own de-duplication (the
  moment id as Customer.io's event id, our task id property in HubSpot) makes that harmless.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from onboard.core.db import Database
from onboard.core.project_config import ConfigError
from onboard.core.sql_literal import quote_literal
from sync.destinations.base import DestinationConfig, Moment, MomentOutcome, MomentsConfig
from sync.state import DELIVERIES, SCHEMA, record_errors, upsert_frame, utc_now

#: what a plan does with a moment; the first three are recorded in DELIVERIES as such
SEND, STALE, SUPPRESSED, DISABLED = "send", "skipped_stale", "skipped_suppressed", "disabled"
PENDING, DELIVERED = "pending", "delivered"
SAMPLES = 3
#: the model's columns that are not the moment's data
_ENGINE_COLUMNS = ("as_of",)


@dataclass
class MomentPlan:
    """What one run would do with a destination's moments."""

    destination: str
    model: str
    in_model: int = 0
    done_before: int = 0
    to_send: int = 0
    stale: int = 0
    suppressed: int = 0
    disabled: int = 0
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class MomentCounts:
    """What one run did with them."""

    sent: int = 0
    failed: int = 0
    held: int = 0
    errors: list[tuple[str, int | None, str]] = field(default_factory=list)


def moments_relation(db: Database, moments: MomentsConfig) -> str:
    return f"{db.target.settings['schema']}.{moments.model}"


def work_table(destination: str) -> str:
    return f"{SCHEMA}.moments_{destination}"


def check_moments(db: Database, destination: DestinationConfig, describe: Any) -> None:
    """Refuse moments the build lacks, a column the model lacks, or a name `send:` does not list
    (a new kind of moment is never sent, or dropped, unasked); each one line naming mappings.yml's key.

    `describe(loc, expected, got)` words it (SyncConfig.describe).
    """
    moments = _moments(destination)
    relation = moments_relation(db, moments)
    where = ("destinations", destination.name, "moments")
    held_columns = _columns(db, relation)
    if not held_columns:
        raise ConfigError(
            describe((*where, "model"), "a model the build has: run `onboard build` first", moments.model)
        )
    for key in ("id_column", "key_column", "name_column", "time_column", "suppressed_column"):
        column = getattr(moments, key)
        if column is not None and column not in held_columns:
            expected = f"a column of {relation} (columns: {', '.join(held_columns)})"
            raise ConfigError(describe((*where, key), expected, column))
    held = {
        str(name)
        for (name,) in db.rows(f"select distinct {moments.name_column} from {moments_relation(db, moments)}")
    }
    unknown = sorted(held - set(moments.send))
    if unknown:
        raise ConfigError(
            describe(
                (*where, "send"),
                f"true or false for every name {moments.model} holds (missing: {', '.join(unknown)})",
                sorted(moments.send),
            )
        )


def plan_moments(db: Database, destination: DestinationConfig, now: datetime | None = None) -> MomentPlan:
    """Classify every moment not yet done into the run's work table (sync.moments_<destination>)."""
    moments = _moments(destination)
    name = destination.name
    relation, work = moments_relation(db, moments), work_table(name)
    now = now or build_time(db, relation)
    enabled = [moment for moment, on in moments.send.items() if on] or ["\x00none"]
    seconds = int(moments.max_age_hours * 3600)
    suppressed = (
        f"coalesce(model.{moments.suppressed_column}, false)" if moments.suppressed_column else "false"
    )
    db.execute(f"drop table if exists {work}")
    db.execute(
        f"""
        create table {work} as
        with
        deliveries as (select * from {DELIVERIES} where destination = ?),
        open_moments as (
            select
                model.{moments.id_column} as moment_id,
                model.{moments.key_column} as record_key,
                model.{moments.name_column} as name,
                model.{moments.time_column} as occurred_at,
                {suppressed} as is_suppressed,
                deliveries.first_seen_at
            from {relation} as model
            left join deliveries on model.{moments.id_column} = deliveries.moment_id
            where deliveries.moment_id is null or deliveries.status = '{PENDING}'
        ),
        classified as (
            select
                *,
                case
                    when name not in ({", ".join(quote_literal(n) for n in enabled)}) then '{DISABLED}'
                    when occurred_at < coalesce(first_seen_at, ?) - interval '{seconds} seconds'
                        then '{STALE}'
                    when is_suppressed then '{SUPPRESSED}'
                    else '{SEND}'
                end as action
            from open_moments
        )
        select row_number() over (order by occurred_at, record_key, moment_id) as seq, classified.*
        from classified
        """,
        [name, now],
    )
    plan = MomentPlan(name, moments.model)
    plan.in_model = int(db.value(f"select count(*) from {relation}") or 0)
    counts = dict(db.rows(f"select action, count(*) from {work} group by action"))
    plan.to_send, plan.stale = int(counts.get(SEND, 0)), int(counts.get(STALE, 0))
    plan.suppressed, plan.disabled = int(counts.get(SUPPRESSED, 0)), int(counts.get(DISABLED, 0))
    plan.done_before = plan.in_model - sum(int(n) for n in counts.values())
    for action in (SEND, STALE, SUPPRESSED):
        plan.samples[action] = [
            {"moment_id": m, "key": k, "name": n, "occurred_at": f"{t:%Y-%m-%dT%H:%M:%SZ}"}
            for m, k, n, t in db.rows(
                f"select moment_id, record_key, name, occurred_at from {work} "
                f"where action = ? order by seq limit {SAMPLES}",
                [action],
            )
        ]
    return plan


def build_time(db: Database, relation: str) -> datetime:
    """The time a moment is first seen at: the as_of the moments model was built for (the time the
    marts describe, within max_as_of_age_hours of now: the sync refuses older marts), so a replayed
    day judges staleness as that day did; now when the model has no as_of."""
    if "as_of" in _columns(db, relation):
        built = db.value(f"select max(as_of) from {relation}")
        if isinstance(built, datetime):
            return built
    return utc_now()


def record_plan(db: Database, destination: DestinationConfig, run_id: str) -> None:
    """A real run's plan into DELIVERIES: the skipped ones as such, the new ones to send as pending."""
    now = build_time(db, moments_relation(db, _moments(destination)))
    with db.transaction():
        db.execute(
            f"""
            insert into {DELIVERIES} (
                destination, moment_id, record_key, name, occurred_at, status, first_seen_at, updated_at,
                run_id
            )
            select
                ?, moment_id, record_key, name, occurred_at,
                case when action = '{SEND}' then '{PENDING}' else action end,
                coalesce(first_seen_at, ?), ?, ?
            from {work_table(destination.name)}
            where action in ('{SEND}', '{STALE}', '{SUPPRESSED}')
            on conflict (destination, moment_id) do update set
                status = excluded.status, updated_at = excluded.updated_at, run_id = excluded.run_id
            """,
            [destination.name, now, utc_now(), run_id],
        )


def send_moments(
    db: Database,
    client: Any,
    destination: DestinationConfig,
    run_id: str,
    held_keys: set[str],
    counts: MomentCounts,
    counted: Callable[[], None] = lambda: None,
) -> None:
    """Send the work table's `send` moments in order; record each batch as it completes (`counts`
    follows, and `counted()` is called after each batch, so a run stopped half-way says how far it got).

    `held_keys`: records whose moments wait for the next run (their attributes were refused
    this run, or an earlier moment of theirs was): pending, never sent out of order.
    """
    moments = _moments(destination)
    held = set(held_keys)
    for batch in _batches(_pending(db, destination), moments.batch_size, held, counts):
        outcome: MomentOutcome = client.send_moments(batch)
        failed_keys = {moment.key for moment, _, _ in outcome.failed}
        errors = [(moment.moment_id, status, message) for moment, status, message in outcome.failed]
        with db.transaction():
            _mark_delivered(db, destination.name, run_id, outcome.acknowledged)
            record_errors(db, destination.name, run_id, errors)
        counts.sent += len(outcome.acknowledged)
        counts.failed += len(outcome.failed)
        counts.errors.extend(errors[: max(0, 20 - len(counts.errors))])
        held |= failed_keys
        counted()


def write_moments_file(db: Database, destination: str, run_id: str, folder: Path) -> Path:
    """A dry run's moments, one JSON line each: what a real run would do with every open moment."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run_id}-moments.jsonl"
    with path.open("w") as handle:
        for action, moment_id, key, name, occurred_at in db.rows(
            f"select action, moment_id, record_key, name, occurred_at "
            f"from {work_table(destination)} order by seq"
        ):
            line = {"action": action, "moment_id": moment_id, "key": key, "name": name}
            handle.write(json.dumps({**line, "occurred_at": f"{occurred_at:%Y-%m-%dT%H:%M:%SZ}"}) + "\n")
    return path


def drop_scratch(db: Database, destination: str) -> None:
    db.execute(f"drop table if exists {work_table(destination)}")


def _moments(destination: DestinationConfig) -> MomentsConfig:
    if destination.active_moments is None:
        raise ValueError(f"{destination.name} has no moments to deliver")
    return destination.active_moments


def _pending(db: Database, destination: DestinationConfig, page_rows: int = 5_000) -> Iterator[Moment]:
    """The `send` moments in seq order with the model's columns (keyset pages, no open cursor)."""
    moments = _moments(destination)
    relation, work = moments_relation(db, moments), work_table(destination.name)
    own = {moments.id_column, moments.key_column, moments.name_column, moments.time_column}
    skip = own | set(_ENGINE_COLUMNS) | {moments.suppressed_column}
    last = 0
    while True:
        result = db.rows(
            f"select work.seq, model.* from {work} as work "
            f"inner join {relation} as model on work.moment_id = model.{moments.id_column} "
            f"where work.action = '{SEND}' and work.seq > ? order by work.seq limit {int(page_rows)}",
            [last],
        )
        if not result:
            return
        columns = ["seq", *_columns(db, relation)]
        for values in result:
            row = dict(zip(columns, values, strict=True))
            yield Moment(
                str(row[moments.id_column]),
                str(row[moments.key_column]),
                str(row[moments.name_column]),
                row[moments.time_column],
                {column: value for column, value in row.items() if column not in skip and column != "seq"},
            )
        last = int(result[-1][0])


def _columns(db: Database, relation: str) -> list[str]:
    schema, table = relation.split(".", 1)
    return db.columns(schema, table)


def _batches(
    pending: Iterator[Moment], size: int, held: set[str], counts: MomentCounts
) -> Iterator[list[Moment]]:
    """Consecutive batches of at most `size`, each holding at most one moment of a record (a request
    applies its items in no promised order); the moments of a held record are left pending.

    `held` is read as the batches are sent, so a failure holds back the record's later moments.
    """
    batch: list[Moment] = []
    for moment in pending:
        if moment.key in held:
            counts.held += 1
            continue
        if len(batch) >= size or any(queued.key == moment.key for queued in batch):
            yield batch
            batch = []
            if moment.key in held:  # the batch just sent failed one of its moments
                counts.held += 1
                continue
        batch.append(moment)
    if batch:
        yield batch


def _mark_delivered(db: Database, destination: str, run_id: str, moments: list[Moment]) -> None:
    """The acknowledged moments as delivered: one upsert by the table's key (an update per moment
    scanned the whole table on DuckDB, docs/benchmarks.md)."""
    if not moments:
        return
    now = utc_now()
    frame = pd.DataFrame(
        {
            "destination": destination,
            "moment_id": [m.moment_id for m in moments],
            "record_key": [m.key for m in moments],
            "name": [m.name for m in moments],
            "occurred_at": [m.occurred_at for m in moments],
            "status": DELIVERED,
            "first_seen_at": now,
            "updated_at": now,
            "run_id": run_id,
        }
    )
    upsert_frame(db, DELIVERIES, frame, ("destination", "moment_id"), keep=("first_seen_at",))
