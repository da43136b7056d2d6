"""What the warehouse holds after a build: the figures `onboard demo` and `build` print."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from onboard.core.db import database
from onboard.core.targets import Target


@dataclass(frozen=True)
class WarehouseSummary:
    """Customers and events as of an instant."""

    customers: int
    usable_events: int
    unusable_by_reason: dict[str, int]
    #: the earliest occurred_at of a usable event (UTC, naive), None when there is none
    first_event_at: datetime | None = None
    #: whether stg_product__events exists (a selective build may not have built it yet)
    events_built: bool = True

    @property
    def unusable_events(self) -> int:
        return sum(self.unusable_by_reason.values())

    def as_of_problem(self, as_of: datetime) -> str | None:
        """Why marts built as of `as_of` are empty for want of events, or None.

        docs/definitions.md#as-of-before-data: an as_of before the first usable event counts
        no event and no customer; the build goes ahead and says so.
        """
        if not self.events_built:
            return None
        if self.first_event_at is None:
            return f"no usable event: every mart is empty (as of {as_of:%Y-%m-%d %H:%M} UTC)"
        first = self.first_event_at.replace(tzinfo=UTC)
        if as_of.astimezone(UTC) < first:
            return (
                f"as_of {as_of:%Y-%m-%d %H:%M} UTC is before the first usable event "
                f"({first:%Y-%m-%d %H:%M} UTC): no event counts and every mart is empty; "
                "build with a later --as-of"
            )
        return None


def staging_schema(target: Target) -> str:
    return f"{target.settings['schema']}_staging"


def summarise(target: Target) -> WarehouseSummary:
    """Customers (the rows of onboarding_customers, as of the build's as_of) and events by usability.

    Counted from what the build wrote, so "a customer" is the marts' own definition; a model a
    selective build has not built yet counts 0. Only reads: the warehouse is opened read-only.
    """
    marts = str(target.settings["schema"])
    schema = staging_schema(target)
    with database(target, read_only=True) as db:
        built = {(marts, t) for t in db.tables(marts)} | {(schema, t) for t in db.tables(schema)}
        customers = 0
        if (marts, "onboarding_customers") in built:
            customers = int(db.value(f"select count(*) from {marts}.onboarding_customers"))
        usable, first = 0, None
        events_built = (schema, "stg_product__events") in built
        if events_built:
            usable, first = db.rows(f"select count(*), min(occurred_at) from {schema}.stg_product__events")[0]
        unusable: dict[str, int] = {}
        if (schema, "stg_product__events_unusable") in built:
            rows = db.rows(
                f"select reason, count(*) from {schema}.stg_product__events_unusable "
                "group by reason order by reason"
            )
            unusable = {str(reason): int(count) for reason, count in rows}
    first_event_at = first.replace(tzinfo=None) if isinstance(first, datetime) else None
    return WarehouseSummary(customers, int(usable), unusable, first_event_at, events_built)
