"""What the warehouse holds after a build: the figures `onboard demo` and `build` print."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from onboard.core.as_of import dbt_as_of
from onboard.core.targets import Target
from onboard.core.warehouse import connect


@dataclass(frozen=True)
class WarehouseSummary:
    """Customers and events as of an instant."""

    customers: int
    usable_events: int
    unusable_by_reason: dict[str, int]

    @property
    def unusable_events(self) -> int:
        return sum(self.unusable_by_reason.values())


def staging_schema(target: Target) -> str:
    return f"{target.settings['schema']}_staging"


def summarise(target: Target, as_of: datetime) -> WarehouseSummary:
    """Count customers (a usable signup at or before as_of) and events by usability."""
    schema = staging_schema(target)
    stamp = dbt_as_of(as_of)
    with connect(target) as connection:
        cursor = connection.cursor()
        cursor.execute(
            f"select count(distinct customer_id) from {schema}.stg_product__events "
            f"where event_name = 'signup_completed' and occurred_at <= timestamp '{stamp}'"
        )
        customers = int(cursor.fetchone()[0])
        cursor.execute(f"select count(*) from {schema}.stg_product__events")
        usable = int(cursor.fetchone()[0])
        cursor.execute(
            f"select reason, count(*) from {schema}.stg_product__events_unusable "
            "group by reason order by reason"
        )
        unusable = {str(reason): int(count) for reason, count in cursor.fetchall()}
    return WarehouseSummary(customers, usable, unusable)
