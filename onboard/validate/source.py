"""The rows to validate, read from the warehouse's raw tables in bounded chunks.

Events are de-duplicated on event_id as staging does (SPEC section 9: earliest
received_at, then occurred_at, then properties), over every copy of each event_id that
has a copy loaded in the window, then classified with the first unusable reason that
applies (SPEC section 4). Each property of the plan becomes one text column, read only
on the events that declare it: null when absent, JSON null or an empty string; the
string itself for a JSON string; for other JSON values the literal (integers) or a
`json:<type>` marker, so GX's set and pattern expectations see them as malformed.
`hours_ahead` is how far occurred_at is after received_at (future-dated events).

Timestamps and JSON are read as staging reads them: DuckDB's own functions, and on
PostgreSQL the `onboard_try_timestamp` / `onboard_try_json_object` functions that the
dbt project installs (macros/cross_db/udfs.sql).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from onboard.core.db import Database
from onboard.core.raw_tables import LOADED_AT_COLUMN, RAW_TABLES
from onboard.core.sql_literal import quote_literal
from onboard.core.tracking_plan import TrackingPlan

CHUNK_ROWS = 500_000
RAW_SCHEMA = "raw"


def _list(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(quote_literal(v) for v in values)


@dataclass(frozen=True)
class Dialect:
    """How one warehouse reads timestamps and JSON properties."""

    name: str
    udf_schema: str = ""
    string_kind: str = "VARCHAR"
    scalar_kinds: tuple[str, ...] = ("VARCHAR", "BIGINT", "UBIGINT", "HUGEINT", "DOUBLE")
    null_kind: str = "NULL"

    def timestamp(self, expr: str) -> str:
        """staging's try_cast_timestamp: null when the text does not parse."""
        if self.name == "postgres":
            return f"{self.udf_schema}.onboard_try_timestamp({expr})"
        return (
            f"case when {expr} like '____-__-__T__:__:__Z' or {expr} like '____-__-__ __:__:__' "
            f"then try_cast({expr} as timestamp) "
            f"else cast(timezone('UTC', try_cast({expr} as timestamptz)) as timestamp) end"
        )

    def json_object(self, expr: str) -> str:
        """The text as a JSON object, null when it is not one."""
        if self.name == "postgres":
            return f"{self.udf_schema}.onboard_try_json_object({expr})"
        return f"case when json_type(try(cast({expr} as json))) = 'OBJECT' then try(cast({expr} as json)) end"

    def kind(self, obj: str, name: str) -> str:
        if self.name == "postgres":
            return f"jsonb_typeof({obj} -> {quote_literal(name)})"
        return f"json_type({obj}, {quote_literal(f'$.{chr(34)}{name}{chr(34)}')})"

    def string(self, obj: str, name: str) -> str:
        if self.name == "postgres":
            return f"({obj} ->> {quote_literal(name)})"
        return f"json_extract_string({obj}, {quote_literal(f'$.{chr(34)}{name}{chr(34)}')})"

    def literal(self, obj: str, name: str) -> str:
        if self.name == "postgres":
            return f"cast({obj} -> {quote_literal(name)} as text)"
        return f"cast(json_extract({obj}, {quote_literal(f'$.{chr(34)}{name}{chr(34)}')}) as varchar)"

    def epoch(self, expr: str) -> str:
        if self.name == "postgres":
            return f"cast(extract(epoch from {expr}) as double precision)"
        return f"epoch({expr})"

    def bytewise(self, expr: str) -> str:
        return f'{expr} collate "C"' if self.name == "postgres" else expr


DUCKDB = Dialect("duckdb")

#: The columns of one raw copy of an event, as events_sql parses them.
COPY_COLUMNS = (
    "event_id",
    "event_name",
    "customer_id",
    "user_id",
    "properties",
    "occurred_ts",
    "received_ts",
)


def dialect(db: Database) -> Dialect:
    """The dialect of the database's target."""
    if db.kind == "postgres":
        return Dialect(
            "postgres",
            udf_schema=str(db.target.settings["schema"]),
            string_kind="string",
            scalar_kinds=("string", "number"),
            null_kind="null",
        )
    return DUCKDB


def _property(d: Dialect, obj: str, name: str, prop_type: str) -> str:
    kind, text = d.kind(obj, name), d.string(obj, name)
    if prop_type == "text":
        return f"case when {kind} in ({_list(d.scalar_kinds)}) then nullif({text}, '') end"
    if prop_type in ("email", "tier"):
        return (
            f"case when {kind} = '{d.string_kind}' then nullif({text}, '') when {kind} = '{d.null_kind}' "
            f"then null else 'json:' || lower({kind}) end"
        )
    return (
        f"case when {kind} = '{d.string_kind}' then case when {text} = '' then null else 'json:string' end "
        f"when {kind} = '{d.null_kind}' then null else {d.literal(obj, name)} end"
    )


#: The session's temporary table of the event_ids sent more than once (about 1 % of them).
RESENT_IDS = "onboard_resent_event_ids"


def _candidates(d: Dialect, schema: str, every_load: bool) -> str:
    """The CTEs `candidates`: every raw copy of an event_id with a copy loaded in ($since, $until].

    every_load: the window holds every load of events (a first run), so every event_id
    qualifies and the query skips finding which arrived in it (a set of every event_id).
    """
    arrived = (
        ""
        if every_load
        else f"""arrived as (
    select distinct event_id from {schema}.events
    where event_id <> '' and {LOADED_AT_COLUMN} > $since and {LOADED_AT_COLUMN} <= $until
),
"""
    )
    arrived_filter = "" if every_load else "and events.event_id in (select arrived.event_id from arrived)"
    # `not materialized`: each query reads candidates once today; should one read it twice, a
    # materialised copy of every raw event (at 260 M rows, 40+ GB spilled to disk) must not follow
    return f"""with
{arrived}candidates as not materialized (
    select
        events.event_id,
        nullif(events.event_name, '') as event_name,
        nullif(events.customer_id, '') as customer_id,
        nullif(events.user_id, '') as user_id,
        nullif(events.properties, '') as properties,
        {d.timestamp("events.occurred_at")} as occurred_ts,
        {d.timestamp("events.received_at")} as received_ts
    from {schema}.events as events
    where events.event_id <> '' and events.{LOADED_AT_COLUMN} <= $until {arrived_filter}
)"""


def resent_ids_sql(d: Dialect = DUCKDB, schema: str = RAW_SCHEMA, every_load: bool = False) -> str:
    """Create the session's temporary table of the candidate event_ids that have more than one copy."""
    return f"""create temporary table {RESENT_IDS} as
{_candidates(d, schema, every_load)}
select event_id from candidates group by event_id having count(*) > 1"""


def events_sql(
    plan: TrackingPlan, d: Dialect = DUCKDB, schema: str = RAW_SCHEMA, every_load: bool = False
) -> list[str]:
    """Deduplicated, classified events with a copy loaded in ($since, $until], one column per property.

    Three queries, run after resent_ids_sql: the ids sent once, the first copy of each id
    sent more than once (only those are ranked: a window over every copy sorts every event),
    and the rows without an event_id. Not one query with `union all`: DuckDB 1.4 streaming
    a union whose arms end in joins and windows stops, idle, once its result buffer fills
    (duckdb/duckdb#22215; here from about 8 M events).
    """
    declared: dict[str, tuple[str, list[str]]] = {}
    for event, props in plan.events.items():
        for prop in props:
            declared.setdefault(prop.name, (prop.type, []))[1].append(event)
    columns = ",\n".join(
        f"case when event_name in ({_list(events)}) and unusable_reason is null "
        f'then {_property(d, "properties_object", name, prop_type)} end as "{name}"'
        for name, (prop_type, events) in declared.items()
    )
    nulls = ", ".join(f'null as "{name}"' for name in declared)
    order = ", ".join(
        f"{column} asc nulls last"
        for column in (
            "received_ts",
            "occurred_ts",
            d.bytewise("properties"),
            d.bytewise("event_name"),
            d.bytewise("customer_id"),
            d.bytewise("user_id"),
        )
    )
    copy_columns = ", ".join(f"candidates.{name}" for name in COPY_COLUMNS)
    sent_once = f"""select {copy_columns}
    from candidates
    left join {RESENT_IDS} as resent on candidates.event_id = resent.event_id
    where resent.event_id is null"""
    first_copies = f"""select {", ".join(COPY_COLUMNS)}
    from (
        select {copy_columns},
            row_number() over (partition by candidates.event_id order by {order}) as copy_rank
        from candidates
        inner join {RESENT_IDS} as resent on candidates.event_id = resent.event_id
    ) as ranked
    where copy_rank = 1"""
    classified = [
        f"""{_candidates(d, schema, every_load)},
kept as (
    {kept}
),
parsed as (
    select *, {d.json_object("coalesce(properties, '{}')")} as properties_object
    from kept
),
classified as (
    select
        *,
        case
            when customer_id is null then 'null_customer_id'
            when occurred_ts is null then 'null_occurred_at'
            when event_name is null or event_name not in ({_list(plan.event_names)})
                then 'unknown_event_name'
            when properties_object is null then 'invalid_properties'
        end as unusable_reason
    from parsed
)
select event_id, event_name, unusable_reason,
    case when unusable_reason is null
        then ({d.epoch("occurred_ts")} - {d.epoch("received_ts")}) / 3600.0 end as hours_ahead,
{columns}
from classified"""
        for kept in (sent_once, first_copies)
    ]
    without_id = f"""select null as event_id, nullif(event_name, '') as event_name,
    'null_event_id' as unusable_reason, null as hours_ahead, {nulls}
from {schema}.events
where (event_id is null or event_id = '') and {LOADED_AT_COLUMN} > $since and {LOADED_AT_COLUMN} <= $until"""
    return [*classified, without_id]


def event_frames(
    db: Database,
    plan: TrackingPlan,
    since: datetime,
    until: datetime,
    every_load: bool,
    rows: int = CHUNK_ROWS,
) -> Iterator[pd.DataFrame]:
    """The deduplicated, classified events loaded in (since, until] as pandas frames (events_sql)."""
    d = dialect(db)
    db.execute(resent_ids_sql(d, every_load=every_load), {"since": since, "until": until})
    try:
        for sql in events_sql(plan, d, every_load=every_load):
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
