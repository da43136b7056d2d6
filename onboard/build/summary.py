"""What the warehouse holds after a build: the figures `onboard demo` and `build` print."""

from __future__ import annotations

from dataclasses import dataclass

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


def summarise(target: Target) -> WarehouseSummary:
    """Customers (the rows of onboarding_customers, as of the build's as_of) and events by usability.

    Counted from what the build wrote, so "a customer" is the marts' own definition.
    """
    marts = target.settings["schema"]
    schema = staging_schema(target)
    with connect(target) as connection:
        cursor = connection.cursor()
        cursor.execute(f"select count(*) from {marts}.onboarding_customers")
        customers = int(cursor.fetchone()[0])
        cursor.execute(f"select count(*) from {schema}.stg_product__events")
        usable = int(cursor.fetchone()[0])
        cursor.execute(
            f"select reason, count(*) from {schema}.stg_product__events_unusable "
            "group by reason order by reason"
        )
        unusable = {str(reason): int(count) for reason, count in cursor.fetchall()}
    return WarehouseSummary(customers, usable, unusable)
