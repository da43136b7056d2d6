"""What the readout reads from the warehouse: per-customer rows of each experiment, the ROI inputs.

The marts (`experiment_assignments`, `onboarding_customers`, `esp_people` for `as_of`) are in
the target's schema; support tickets come from the staged usable events
(docs/definitions.md#experiment-metrics). Plain SQL that runs on DuckDB, PostgreSQL and
Spark's DuckDB state store alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from onboard.core.db import Database
from onboard.core.errors import UsageError
from onboard.core.sql_literal import quote_literal
from onboard.experiments.readout import FRAME_COLUMNS
from onboard.experiments.roi import DAYS_A_YEAR

ASSIGNMENTS = "experiment_assignments"
CUSTOMERS = "onboarding_customers"
TICKET_EVENT = "support_ticket_opened"
TICKET_WINDOW_DAYS = 14


def mart_schema(db: Database) -> str:
    """Where dbt builds the marts: the target's schema."""
    return str(db.target.settings["schema"])


def staging_schema(db: Database) -> str:
    """Where dbt builds the staging models: the target's schema with the `_staging` suffix."""
    return f"{mart_schema(db)}_staging"


def check_built(db: Database) -> None:
    """UsageError unless the marts the readout reads exist."""
    schema = mart_schema(db)
    missing = [name for name in (ASSIGNMENTS, CUSTOMERS) if not db.table_exists(schema, name)]
    if missing:
        raise UsageError(
            f"{db.target.describe()} has no {', '.join(missing)} in schema {schema}: "
            "run `onboard build` first"
        )


def built_as_of(db: Database) -> datetime:
    """The as_of the marts were built for: the one-row model build_as_of (docs/definitions.md#build-as-of),
    else esp_people's column; now when neither has a row."""
    schema = mart_schema(db)
    relation = "build_as_of" if db.table_exists(schema, "build_as_of") else "esp_people"
    value = db.value(f"select max(as_of) from {schema}.{relation}")
    return value if isinstance(value, datetime) else datetime.now(UTC).replace(tzinfo=None)


def customer_rows_sql(schema: str, staging: str, experiments: list[str]) -> str:
    """One row per assigned customer of the named experiments, with every metric's inputs."""
    names = ", ".join(quote_literal(name) for name in experiments)
    return f"""
        with assignments as (
            select experiment, customer_id, arm
            from {schema}.{ASSIGNMENTS}
            where experiment in ({names})
        ),
        assigned as (
            select distinct customer_id from assignments
        ),
        customers as (
            select
                c.customer_id, c.signup_at, c.age_hours, c.activated_within_7d,
                c.activated_within_14d, c.is_stalled, c.time_to_value_hours
            from {schema}.{CUSTOMERS} as c
            inner join assigned on c.customer_id = assigned.customer_id
        ),
        tickets as (
            select customers.customer_id, count(*) as support_tickets_14d
            from {staging}.stg_product__events as events
            inner join customers on events.customer_id = customers.customer_id
            where events.event_name = {quote_literal(TICKET_EVENT)}
                and events.occurred_at >= customers.signup_at
                and events.occurred_at <= customers.signup_at + interval '{TICKET_WINDOW_DAYS} days'
            group by customers.customer_id
        )
        select
            assignments.experiment,
            assignments.customer_id,
            assignments.arm,
            customers.age_hours,
            customers.activated_within_7d,
            customers.activated_within_14d,
            customers.is_stalled,
            customers.time_to_value_hours,
            coalesce(tickets.support_tickets_14d, 0) as support_tickets_14d
        from assignments
        inner join customers on assignments.customer_id = customers.customer_id
        left join tickets on assignments.customer_id = tickets.customer_id
    """


def customer_rows(db: Database, experiments: list[str]) -> pd.DataFrame:
    """The per-customer frame of the named experiments (readout.FRAME_COLUMNS plus experiment)."""
    columns = ["experiment", "customer_id", *FRAME_COLUMNS]
    if not experiments:
        return pd.DataFrame(columns=columns)
    sql = customer_rows_sql(mart_schema(db), staging_schema(db), experiments)
    frames = [
        frame.astype({"age_hours": "float64", "time_to_value_hours": "float64"})
        for frame in db.stream(sql, rows=250_000)
    ]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


@dataclass(frozen=True)
class RoiInputs:
    """What the ROI needs of every customer (not only the experiments')."""

    customers: int
    last_365_days: int
    first_signup_at: datetime | None
    mean_arr_of_activated: float | None


def roi_inputs(db: Database, as_of: datetime) -> RoiInputs:
    """Customers, signups of the last 365 days, the first signup, mean arr of the activated."""
    row = db.rows(
        f"""
        select
            count(*),
            sum(case when signup_at > ? then 1 else 0 end),
            min(signup_at),
            avg(case when is_activated and arr is not null then arr end)
        from {mart_schema(db)}.{CUSTOMERS}
        """,
        [as_of - timedelta(days=DAYS_A_YEAR)],
    )[0]
    return RoiInputs(
        customers=int(row[0] or 0),
        last_365_days=int(row[1] or 0),
        first_signup_at=row[2],
        mean_arr_of_activated=float(row[3]) if row[3] is not None else None,
    )
