"""Plan a sync: what to add, change and remove, against the state of what the destination acknowledged.

The model is read in bounded pages (in key order); each row becomes its payload in the
destination's own value types (sync/payloads.py), written with its hashes to
`sync.plan_<destination>`. One SQL pass against `sync_state` classifies every key:

- add: never acknowledged (or only failed so far)
- change: acknowledged with another payload hash
- unchanged: acknowledged with this very payload (skipped)
- remove: acknowledged and no longer in the model; in `clear` mode it gets the cleared
  payload (blank, suppressed), once; in `keep` mode nothing is sent

The records to send go to `sync.work_<destination>` numbered 1..N, read back page by page
while sending, so memory stays bounded for million-row models. The circuit breaker counts
changes of the guarded fields and removals among the records already synced; first-time
adds never count.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from onboard.core.db import Database
from sync.destinations import plugin
from sync.destinations.base import DestinationConfig, Record
from sync.payloads import canonical, cleared_payload, digest, guarded_digest, payload, text_digest
from sync.state import STATE, write_frame

READ_ROWS = 50_000
SAMPLE_DIFFS = 5


@dataclass
class Plan:
    """What one run would do for one destination."""

    destination: str
    model_rows: int = 0
    synced_before: int = 0
    adds: int = 0
    changes: int = 0
    unchanged: int = 0
    removals: int = 0
    kept_leavers: int = 0
    guarded_changes: int = 0
    as_of: datetime | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def to_send(self) -> int:
        return self.adds + self.changes + self.removals

    @property
    def guarded_share(self) -> float:
        return self.guarded_changes / self.synced_before if self.synced_before else 0.0


def plan_table(destination: str) -> str:
    return f"sync.plan_{destination}"


def work_table(destination: str) -> str:
    return f"sync.work_{destination}"


def model_relation(db: Database, destination: DestinationConfig) -> str:
    """schema.model of the destination's source model (the marts' schema of the target)."""
    return f"{db.target.settings['schema']}.{destination.model}"


def _frames(db: Database, destination: DestinationConfig, read_rows: int) -> Iterator[pd.DataFrame]:
    """The model's payloads, read in key order one page at a time.

    Keyset pages (`key > last order by key limit n`), not one streamed result: the plan
    table is written between pages on the same connection, which would end an open
    DuckDB result early.
    """
    columns = ", ".join(destination.columns)
    relation = model_relation(db, destination)
    destination_plugin = plugin(destination.name)
    key = destination.key
    last: str | None = None
    while True:
        after = "" if last is None else f"and {key} > ?"
        rows = db.rows(
            f"select {columns} from {relation} where {key} is not null {after} "
            f"order by {key} limit {int(read_rows)}",
            None if last is None else [last],
        )
        if not rows:
            return
        last = str(rows[-1][0])
        names = destination.columns
        keys, payloads, hashes, guarded = [], [], [], []
        for values in rows:
            row = dict(zip(names, values, strict=True))
            body = payload(destination, destination_plugin, row)
            text = canonical(body)
            keys.append(str(row[key]))
            payloads.append(text)
            hashes.append(text_digest(text))
            guarded.append(guarded_digest(destination, body))
        yield pd.DataFrame(
            {"record_key": keys, "payload": payloads, "payload_hash": hashes, "guarded_hash": guarded}
        )


def build_plan(db: Database, destination: DestinationConfig, read_rows: int = READ_ROWS) -> Plan:
    """Compute the payloads, classify every key, and fill the work table."""
    name = destination.name
    plan = Plan(name)
    plan_rel, work_rel = plan_table(name), work_table(name)
    relation = model_relation(db, destination)
    plan.as_of = db.value(f"select max(as_of) from {relation}")
    db.execute(f"drop table if exists {plan_rel}")
    db.execute(
        f"create table {plan_rel} (record_key text, payload text, payload_hash text, guarded_hash text)"
    )
    for frame in _frames(db, destination, read_rows):
        plan.model_rows += len(frame)
        write_frame(db, plan_rel, frame)

    cleared = cleared_payload(destination, plugin(name))
    cleared_text, cleared_hash = canonical(cleared), digest(cleared)
    cleared_guard = guarded_digest(destination, cleared)
    clear = destination.removed == "clear"
    db.execute(f"drop table if exists {work_rel}")
    db.execute(
        f"""
        create table {work_rel} as
        with
        state as (select * from {STATE} where destination = ?),
        candidates as (
            select
                case when state.record_key is null then 'add' else 'change' end as kind,
                plan.record_key, plan.payload, plan.payload_hash, plan.guarded_hash,
                case when state.record_key is not null and state.guarded_hash <> plan.guarded_hash
                    then 1 else 0 end as guarded_change
            from {plan_rel} as plan
            left join state on plan.record_key = state.record_key
            where state.record_key is null or state.payload_hash <> plan.payload_hash
            union all
            select 'remove' as kind, state.record_key, ? as payload, ? as payload_hash, ? as guarded_hash,
                case when state.guarded_hash <> ? then 1 else 0 end as guarded_change
            from state
            left join {plan_rel} as plan on state.record_key = plan.record_key
            where plan.record_key is null and state.payload_hash <> ? and {"true" if clear else "false"}
        )
        select row_number() over (order by kind, record_key) as seq, candidates.*
        from candidates
        """,
        [name, cleared_text, cleared_hash, cleared_guard, cleared_guard, cleared_hash],
    )
    counts = dict(db.rows(f"select kind, count(*) from {work_rel} group by kind"))
    plan.adds, plan.changes, plan.removals = (int(counts.get(k, 0)) for k in ("add", "change", "remove"))
    plan.guarded_changes = int(db.value(f"select coalesce(sum(guarded_change), 0) from {work_rel}") or 0)
    plan.synced_before = int(
        db.value(f"select count(*) from {STATE} where destination = ? and status = 'synced'", [name]) or 0
    )
    plan.unchanged = plan.model_rows - plan.adds - plan.changes
    if not clear:
        plan.kept_leavers = int(
            db.value(
                f"select count(*) from {STATE} as state left join {plan_rel} as plan "
                "on state.record_key = plan.record_key "
                "where state.destination = ? and plan.record_key is null",
                [name],
            )
            or 0
        )
    plan.samples = _samples(db, name)
    return plan


def _samples(db: Database, name: str) -> list[dict[str, Any]]:
    """A few changes with the fields that differ (old -> new)."""
    rows = db.rows(
        f"select work.kind, work.record_key, state.payload, work.payload from {work_table(name)} as work "
        f"left join {STATE} as state on state.destination = ? and state.record_key = work.record_key "
        f"where work.kind <> 'add' order by work.seq limit {SAMPLE_DIFFS}",
        [name],
    )
    samples = []
    for kind, key, old_text, new_text in rows:
        old, new = json.loads(old_text or "{}"), json.loads(new_text)
        diff = {k: [old.get(k), new.get(k)] for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}
        samples.append({"kind": kind, "key": key, "diff": diff})
    return samples


def pages(db: Database, destination: str, page_rows: int) -> Iterator[list[Record]]:
    """The work table in seq order, page_rows at a time (keyset pagination, no open cursor)."""
    last = 0
    while True:
        rows = db.rows(
            "select seq, kind, record_key, payload, payload_hash, guarded_hash "
            f"from {work_table(destination)} where seq > ? order by seq limit {int(page_rows)}",
            [last],
        )
        if not rows:
            return
        yield [Record(int(s), str(k), str(key), json.loads(p), str(h), str(g)) for s, k, key, p, h, g in rows]
        last = int(rows[-1][0])


def drop_scratch(db: Database, destination: str) -> None:
    """Remove the run's scratch tables."""
    db.execute(f"drop table if exists {plan_table(destination)}")
    db.execute(f"drop table if exists {work_table(destination)}")
