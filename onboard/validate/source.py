"""The rows to validate, read from the warehouse's raw tables in bounded Arrow chunks.

Events are de-duplicated on event_id as staging does (SPEC section 9: earliest
received_at, then occurred_at, then properties), over every copy of each event_id that
has a copy loaded in the window, then classified with the first unusable reason that
applies (SPEC section 4). Each property of the plan becomes one text column, read only
on the events that declare it: null when absent, JSON null or an empty string; the
string itself for a JSON string; for other JSON values the literal (integers) or a
`json:<type>` marker, so GX's set and pattern expectations see them as malformed.

DuckDB only for now (the JSON functions are DuckDB's).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pandas as pd

from onboard.errors import UsageError
from onboard.raw_tables import LOADED_AT_COLUMN, RAW_TABLES
from onboard.tracking_plan import TrackingPlan
from onboard.warehouse import Target

CHUNK_ROWS = 500_000
RAW_SCHEMA = "raw"
STRING_KINDS = ("VARCHAR",)
SCALAR_KINDS = ("VARCHAR", "BIGINT", "UBIGINT", "HUGEINT", "DOUBLE")


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _list(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(_text(v) for v in values)


def _timestamp(expr: str) -> str:
    """staging's try_cast_timestamp on DuckDB: null when the text does not parse."""
    return (
        f"case when {expr} like '____-__-__T__:__:__Z' or {expr} like '____-__-__ __:__:__' "
        f"then try_cast({expr} as timestamp) "
        f"else cast(timezone('UTC', try_cast({expr} as timestamptz)) as timestamp) end"
    )


def _property(obj: str, name: str, prop_type: str) -> str:
    path = _text(f'$."{name}"')
    kind = f"json_type({obj}, {path})"
    text = f"json_extract_string({obj}, {path})"
    if prop_type == "text":
        return f"case when {kind} in ({_list(SCALAR_KINDS)}) then nullif({text}, '') end"
    if prop_type in ("email", "tier"):
        return (
            f"case when {kind} = 'VARCHAR' then nullif({text}, '') when {kind} = 'NULL' then null "
            f"else 'json:' || lower({kind}) end"
        )
    return (
        f"case when {kind} = 'VARCHAR' then case when {text} = '' then null else 'json:varchar' end "
        f"when {kind} = 'NULL' then null else cast(json_extract({obj}, {path}) as varchar) end"
    )


def events_sql(plan: TrackingPlan, schema: str = RAW_SCHEMA) -> str:
    """Deduplicated, classified events with a copy loaded in (?, ?], one column per property."""
    declared: dict[str, tuple[str, list[str]]] = {}
    for event, props in plan.events.items():
        for prop in props:
            declared.setdefault(prop.name, (prop.type, []))[1].append(event)
    columns = ",\n".join(
        f"case when event_name in ({_list(events)}) and unusable_reason is null "
        f'then {_property("properties_object", name, prop_type)} end as "{name}"'
        for name, (prop_type, events) in declared.items()
    )
    nulls = ", ".join(f'null as "{name}"' for name in declared)
    order = (
        "received_ts asc nulls last, occurred_ts asc nulls last, properties asc nulls last, "
        "event_name asc nulls last, customer_id asc nulls last, user_id asc nulls last"
    )
    return f"""
with
arrived as (
    select distinct event_id from {schema}.events
    where event_id <> '' and {LOADED_AT_COLUMN} > $since and {LOADED_AT_COLUMN} <= $until
),
copies as (
    select
        events.event_id,
        nullif(events.event_name, '') as event_name,
        nullif(events.customer_id, '') as customer_id,
        nullif(events.user_id, '') as user_id,
        nullif(events.properties, '') as properties,
        {_timestamp("events.occurred_at")} as occurred_ts,
        {_timestamp("events.received_at")} as received_ts
    from {schema}.events as events
    inner join arrived on events.event_id = arrived.event_id
    where events.{LOADED_AT_COLUMN} <= $until
),
kept as (
    select * from copies
    qualify row_number() over (partition by event_id order by {order}) = 1
),
parsed as (
    select
        *,
        case
            when json_type(try(cast(coalesce(properties, '{{}}') as json))) = 'OBJECT'
                then try(cast(coalesce(properties, '{{}}') as json))
        end as properties_object
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
{columns}
from classified
union all
select null as event_id, nullif(event_name, '') as event_name, 'null_event_id' as unusable_reason, {nulls}
from {schema}.events
where (event_id is null or event_id = '') and {LOADED_AT_COLUMN} > $since and {LOADED_AT_COLUMN} <= $until
"""


def table_sql(table: str, schema: str = RAW_SCHEMA) -> str:
    """A raw table beside events, rows loaded in (?, ?], keys and codes as text, arr as a number."""
    columns = [f"nullif({c}, '') as {c}" for c in RAW_TABLES[table] if c != "arr"]
    if "arr" in RAW_TABLES[table]:
        columns.append("try_cast(nullif(arr, '') as double) as arr")
    return (
        f"select {', '.join(columns)} from {schema}.{table} "
        f"where {LOADED_AT_COLUMN} > $since and {LOADED_AT_COLUMN} <= $until"
    )


def latest_loaded_at(connection: Any, schema: str = RAW_SCHEMA) -> datetime | None:
    """The latest _loaded_at over every raw table that exists."""
    present = {
        row[0]
        for row in connection.execute(
            "select table_name from information_schema.tables where table_schema = ?", [schema]
        ).fetchall()
    }
    tables = [t for t in RAW_TABLES if t in present]
    if not tables:
        return None
    union = " union all ".join(f"select max({LOADED_AT_COLUMN}) as m from {schema}.{t}" for t in tables)
    value = connection.execute(f"select max(m) from ({union})").fetchone()[0]
    return value if isinstance(value, datetime) else None


def chunks(
    connection: Any, sql: str, since: datetime, until: datetime, rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """The result of sql as pandas frames of at most `rows` rows (Arrow record batches)."""
    reader = connection.execute(sql, {"since": since, "until": until}).fetch_record_batch(rows)
    for batch in reader:
        if batch.num_rows:
            yield batch.to_pandas()


def require_duckdb(target: Target) -> None:
    """Refuse targets this increment cannot read yet."""
    if target.type != "duckdb":
        raise UsageError(f"onboard validate: target {target.name} ({target.type}) is not supported yet")
