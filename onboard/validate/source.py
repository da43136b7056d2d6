"""The rows to validate, read from the warehouse's raw tables in bounded chunks.

Events are judged by staging's own rules, not a copy of them: the queries are the dbt macro
`validation_event_queries` (macros/staging/product_events_validation.sql), built from the
macros base_product__events calls (macros/staging/product_events.sql: how a raw copy is
read, which copy of an event_id is kept, why it is unusable). `render_queries` renders
them through dbt once per run, for the warehouse's adapter, so timestamps and JSON are read
by the same SQL as staging reads them (on PostgreSQL, the `onboard_try_*` functions the dbt
project installs).

An event_id with a copy loaded in the window is judged over all its copies loaded so far;
each property of the plan becomes one text column, read only on the usable events that
declare it, with malformed JSON values kept visible for GX's set and pattern checks, and
`hours_ahead` is how far occurred_at is after received_at (future-dated events).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from onboard.core.db import Database
from onboard.core.dbt import render_inline
from onboard.core.paths import PROJECT_DIR
from onboard.core.raw_tables import LOADED_AT_COLUMN, RAW_TABLES
from onboard.core.targets import Target
from onboard.validate.suites import FUTURE_DATED_HOURS

CHUNK_ROWS = 500_000
RAW_SCHEMA = "raw"

#: The session's temporary table of the event_ids sent more than once.
RESENT_IDS = "onboard_resent_event_ids"

#: On Spark, validation reads the raw files through the DuckDB state store: DuckDB's SQL.
STATE_STORE_SQL = Target("duckdb", "duckdb", {"type": "duckdb", "path": ":memory:", "schema": "main"})


@dataclass(frozen=True)
class EventQueries:
    """One run's event SQL, rendered from the dbt macros (named parameters $since, $until).

    resent_ids creates the temporary table RESENT_IDS and runs first; each of `events` is
    one result of classified events (each its own query: see the macro); volume counts the
    usable events per event type and day.
    """

    resent_ids: str
    events: tuple[str, ...]
    volume: str


def sql_target(db: Database) -> Target:
    """The target whose SQL the database runs (Spark's raw tables are read through DuckDB)."""
    return STATE_STORE_SQL if db.kind == "spark" else db.target


def render_queries(
    target: Target, every_load: bool, schema: str = RAW_SCHEMA, project_dir: Path = PROJECT_DIR
) -> EventQueries:
    """The event queries in target's SQL (sql_target), rendered through dbt from project_dir's macros.

    every_load: the window holds every load of events (a first run), so every event_id
    qualifies and the queries skip finding which arrived in it.
    """
    arguments = {
        "raw_schema": schema,
        "resent_table": RESENT_IDS,
        "every_load": every_load,
        "future_dated_hours": FUTURE_DATED_HOURS,
    }
    call = ", ".join(f"{name}={json.dumps(value)}" for name, value in arguments.items())
    code = f"{{{{ tojson(validation_event_queries({call})) }}}}"
    rendered = json.loads(render_inline(target, code, project_dir))
    return EventQueries(rendered["resent_ids"], tuple(rendered["events"]), rendered["volume"])


def event_frames(
    db: Database, queries: EventQueries, since: datetime, until: datetime, rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """The deduplicated, classified events with a copy loaded in (since, until] as pandas frames."""
    db.execute(queries.resent_ids, {"since": since, "until": until})
    try:
        for sql in queries.events:
            yield from chunks(db, sql, since, until, rows)
    finally:
        db.execute(f"drop table if exists {RESENT_IDS}")


def table_sql(table: str, schema: str = RAW_SCHEMA) -> str:
    """A raw table beside events, rows loaded in ($since, $until], every column as text (empty = null)."""
    columns = [f"nullif({c}, '') as {c}" for c in RAW_TABLES[table]]
    return (
        f"select {', '.join(columns)} from {schema}.{table} "
        f"where {LOADED_AT_COLUMN} > $since and {LOADED_AT_COLUMN} <= $until"
    )


def window_holds_every_load(db: Database, since: datetime, schema: str = RAW_SCHEMA) -> bool:
    """Whether every event row was loaded after since (a first run): no event_id predates the window."""
    if "events" not in db.tables(schema):
        return False
    earliest = db.value(f"select min({LOADED_AT_COLUMN}) from {schema}.events")
    return isinstance(earliest, datetime) and earliest > since


def latest_loaded_at(db: Database, schema: str = RAW_SCHEMA) -> datetime | None:
    """The latest _loaded_at over every raw table that exists."""
    tables = [t for t in RAW_TABLES if t in db.tables(schema)]
    if not tables:
        return None
    union = " union all ".join(f"select max({LOADED_AT_COLUMN}) as m from {schema}.{t}" for t in tables)
    value = db.value(f"select max(m) from ({union}) as loaded")
    return value if isinstance(value, datetime) else None


def chunks(
    db: Database, sql: str, since: datetime, until: datetime, rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """The result of sql as pandas frames of at most `rows` rows."""
    yield from db.stream(sql, {"since": since, "until": until}, rows)
