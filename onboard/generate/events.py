"""Clean product events: one batch per event name, before any defect is added.

A batch holds numbers (customer index, occurred_at, user number) and, per property, the
JSON value text of each row (null leaves the key out). Properties stay split by key until
the chunk is assembled, so schema breaks can drop a key without parsing JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from onboard.generate.customers import (
    SIZE_ABSENT,
    SIZE_AS_STRING,
    SIZE_FRACTION,
    SIZE_ZERO,
    Customers,
)
from onboard.generate.milestones import NOT_REACHED, milestone_event_names
from onboard.generate.text import DAY, HOUR, concat, json_integer, json_string, pick
from onboard.generate.vocabulary import (
    INDUSTRIES,
    INTEGRATIONS,
    ROLES,
    SIGNUP_SOURCES,
    TIERS,
    UTM_SOURCES,
)

# Repeats of a milestone event after its first occurrence, per day of activity.
REPEATS_PER_DAY = {
    "data_imported": 0.05,
    "query_run": 0.35,
    "teammate_invited": 0.03,
    "integration_connected": 0.01,
    "tutorial_completed": 0.004,
}
SESSIONS_PER_DAY = 0.38
SIGNUP_SESSION_SHARE = 0.95
PRICING_VIEWER_SHARE = 0.35
DOWNGRADE_VIEWER_SHARE = 0.08
SUPPORT_CUSTOMER_SHARE = 0.10
RESOLVED_SHARE = 0.70
REOPENED_SHARE = 0.15
ANONYMOUS_USER_SHARE = 0.03
NULL_STRING = pa.scalar(None, pa.string())


@dataclass
class EventBatch:
    """Events of one name: row i is customer[i]'s event at occurred[i]."""

    name: str
    customer: np.ndarray  # local customer index
    occurred: np.ndarray  # epoch seconds
    user: np.ndarray  # user number in the workspace, 0 = no user_id
    properties: dict[str, pa.Array] = field(default_factory=dict)  # key -> JSON value text

    def __len__(self) -> int:
        return len(self.customer)


def _spread(
    rng: np.random.Generator, start: np.ndarray, end: np.ndarray, count: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`count[i]` moments uniformly in [start[i], end[i]] for each customer i."""
    customer = np.repeat(np.arange(len(count)), count)
    low, high = start[customer], end[customer]
    return customer, low + (rng.random(len(customer)) * (high - low + 1)).astype(np.int64)


def _users(rng: np.random.Generator, customers: Customers, customer: np.ndarray) -> np.ndarray:
    """A random member of each row's workspace; 0 (no user_id) for a few rows."""
    user = rng.integers(1, customers.team_size[customer] + 1)
    return np.where(rng.random(len(customer)) < ANONYMOUS_USER_SHARE, 0, user)


def _batch(
    rng: np.random.Generator, customers: Customers, name: str, customer: np.ndarray, at: np.ndarray
) -> EventBatch:
    return EventBatch(name, customer, at, _users(rng, customers, customer))


def _company_size(customers: Customers) -> pa.Array:
    form = customers.company_size_form
    valid = json_integer(customers.company_size)
    text = pc.if_else(pa.array(form == SIZE_AS_STRING), json_string(valid), valid)
    text = pc.if_else(pa.array(form == SIZE_ZERO), "0", text)
    text = pc.if_else(pa.array(form == SIZE_FRACTION), concat(valid, ".5"), text)
    return pc.if_else(pa.array(form == SIZE_ABSENT), NULL_STRING, text)


def signups(customers: Customers) -> EventBatch:
    """One signup_completed per customer, by its first user."""
    n = len(customers)
    return EventBatch(
        "signup_completed",
        np.arange(n),
        customers.signup_at,
        np.ones(n, dtype=np.int64),
        {
            "email": json_string(customers.email),
            "plan_tier": json_string(pick(TIERS, customers.signup_tier)),
            "company_size": _company_size(customers),
            "industry": json_string(pick(INDUSTRIES, customers.industry)),
            "role": json_string(pick(ROLES, customers.role)),
            "signup_source": json_string(pick(SIGNUP_SOURCES, customers.signup_source)),
            "utm_source": json_string(
                pick(UTM_SOURCES, np.maximum(customers.utm_source, 0), customers.utm_source < 0)
            ),
        },
    )


def plan_changes(rng: np.random.Generator, customers: Customers) -> EventBatch:
    """plan_changed for the customers whose tier changed after signup."""
    customer = np.flatnonzero(customers.plan_changed_at >= 0)
    user = np.where(rng.random(len(customer)) < 0.6, 1, 0)
    return EventBatch(
        "plan_changed",
        customer,
        customers.plan_changed_at[customer],
        user,
        {
            "to_tier": json_string(pick(TIERS, customers.current_tier[customer])),
            "from_tier": json_string(pick(TIERS, customers.signup_tier[customer])),
        },
    )


def _milestone_properties(
    rng: np.random.Generator, customers: Customers, name: str, customer: np.ndarray
) -> dict[str, pa.Array]:
    n = len(customer)
    if name == "data_imported":
        rows = np.floor(rng.lognormal(np.log(5_000), 2.0, n)).astype(np.int64)
        return {"rows": json_integer(np.where(rng.random(n) < 0.02, 0, rows))}
    if name == "teammate_invited":
        invitee = concat(
            "teammate",
            json_integer(rng.integers(1, 30, n)),
            "@company",
            json_integer(customers.number[customer]),
            ".com",
        )
        absent = pa.array(rng.random(n) < 0.15)
        return {"invitee_email": pc.if_else(absent, NULL_STRING, json_string(invitee))}
    if name == "integration_connected":
        return {"integration": json_string(pick(INTEGRATIONS, rng.integers(0, len(INTEGRATIONS), n)))}
    return {}


def milestone_events(
    rng: np.random.Generator, customers: Customers, reached: np.ndarray, until: np.ndarray
) -> list[EventBatch]:
    """First occurrence of each reached milestone, then repeats until the customer goes quiet."""
    batches = []
    for index, name in enumerate(milestone_event_names()):
        first = reached[:, index]
        has = first != NOT_REACHED
        span_days = np.where(has, until - first, 0) / DAY
        repeats = rng.poisson(REPEATS_PER_DAY[name] * customers.engagement * span_days)
        again, again_at = _spread(rng, first, until, np.where(has, repeats, 0))
        customer = np.concatenate([np.flatnonzero(has), again])
        batch = _batch(rng, customers, name, customer, np.concatenate([first[has], again_at]))
        batches.append(replace(batch, properties=_milestone_properties(rng, customers, name, customer)))
    return batches


def sessions(rng: np.random.Generator, customers: Customers, until: np.ndarray, as_of: int) -> EventBatch:
    """session_started: one right after signup, then more over the customer's active days."""
    n = len(customers)
    at_signup = np.flatnonzero(rng.random(n) < SIGNUP_SESSION_SHARE)
    first_at = np.minimum(customers.signup_at[at_signup] + rng.integers(0, 300, len(at_signup)), as_of)
    span_days = (until - customers.signup_at) / DAY
    count = rng.poisson(SESSIONS_PER_DAY * customers.engagement * span_days)
    later, later_at = _spread(rng, customers.signup_at, until, count)
    customer = np.concatenate([at_signup, later])
    return _batch(rng, customers, "session_started", customer, np.concatenate([first_at, later_at]))


def page_views(
    rng: np.random.Generator,
    customers: Customers,
    until: np.ndarray,
    name: str,
    share: float,
    mean_extra: float,
) -> EventBatch:
    """`name` (a page view) for `share` of the customers, 1 + Poisson(mean_extra) times each."""
    n = len(customers)
    count = np.where(rng.random(n) < share, 1 + rng.poisson(mean_extra, n), 0)
    customer, at = _spread(rng, customers.signup_at, until, count)
    return _batch(rng, customers, name, customer, at)


def support_tickets(
    rng: np.random.Generator, customers: Customers, until: np.ndarray, as_of: int
) -> list[EventBatch]:
    """Tickets opened by a user; most resolved later, some reopened after the resolve, some open."""
    n = len(customers)
    count = np.where(rng.random(n) < SUPPORT_CUSTOMER_SHARE, 1 + rng.poisson(0.3, n), 0)
    customer, opened_at = _spread(rng, customers.signup_at, until, count)
    rows = len(customer)
    ordinal = np.arange(rows) - np.repeat(np.cumsum(count) - count, count) + 1
    ticket = json_string(
        concat("T-", customers.customer_id.take(pa.array(customer)), "-", json_integer(ordinal))
    )
    resolved_at = opened_at + (rng.lognormal(np.log(20.0), 1.2, rows) * HOUR).astype(np.int64)
    resolved = (rng.random(rows) < RESOLVED_SHARE) & (resolved_at <= as_of)
    reopened_at = resolved_at + rng.integers(HOUR, 5 * DAY, rows)
    reopened = resolved & (rng.random(rows) < REOPENED_SHARE) & (reopened_at <= as_of)
    again_at = reopened_at + (rng.lognormal(np.log(10.0), 1.0, rows) * HOUR).astype(np.int64)
    again = reopened & (rng.random(rows) < 0.5) & (again_at <= as_of)
    opens = np.concatenate([np.arange(rows), np.flatnonzero(reopened)])
    closes = np.concatenate([np.flatnonzero(resolved), np.flatnonzero(again)])
    opened = EventBatch(
        "support_ticket_opened",
        customer[opens],
        np.concatenate([opened_at, reopened_at[reopened]]),
        _users(rng, customers, customer[opens]),
        {"ticket_id": ticket.take(pa.array(opens))},
    )
    resolves = EventBatch(
        "support_ticket_resolved",
        customer[closes],
        np.concatenate([resolved_at[resolved], again_at[again]]),
        np.zeros(len(closes), dtype=np.int64),
        {"ticket_id": ticket.take(pa.array(closes))},
    )
    return [opened, resolves]


def product_events(
    rng: np.random.Generator, customers: Customers, reached: np.ndarray, as_of: int
) -> list[EventBatch]:
    """Every clean event of the chunk's customers, one batch per event name."""
    last_reached = reached.max(axis=1)
    until = np.maximum(customers.active_until, last_reached)
    return [
        signups(customers),
        plan_changes(rng, customers),
        *milestone_events(rng, customers, reached, until),
        sessions(rng, customers, until, as_of),
        page_views(rng, customers, until, "pricing_page_viewed", PRICING_VIEWER_SHARE, 0.8),
        page_views(rng, customers, until, "downgrade_page_viewed", DOWNGRADE_VIEWER_SHARE, 0.3),
        *support_tickets(rng, customers, until, as_of),
    ]
