"""ESP reporting export: the onboarding campaign's sends and what happened to them.

Most customers get a send on a widening schedule (days 0, 1, 3, 7, 12, 18, 25);
about 10 % are on a daily schedule, so young ones reach 4 sends in 7 days. Sends stop a
day after activation, at an unsubscribe or spam report, and at as_of. Each send is
delivered (97 %) or bounced; delivered ones may be opened, opened ones clicked. About
2 % of customers unsubscribe and 0.3 % report spam after a send. About 1 % of the rows
are exported twice (same event_id, same content).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from onboard.core.raw_tables import EMAIL_EVENT_TYPES
from onboard.generate.customers import Customers
from onboard.generate.milestones import NOT_REACHED
from onboard.generate.text import DAY, HOUR, iso_seconds, padded, pick
from onboard.generate.vocabulary import (
    BOUNCED,
    CAMPAIGNS,
    CLICKED,
    DELIVERED,
    OPENED,
    SENT,
    SPAM_REPORTED,
    UNSUBSCRIBED,
)

EMAIL_COLUMNS = ("event_id", "customer_id", "campaign", "event_type", "occurred_at")
EMAIL_ID_PREFIX = "em_"
EMAIL_ID_DIGITS = 13
EMAILS_PER_CHUNK_LIMIT = 10**8
SCHEDULE_DAYS = (0, 1, 3, 7, 12, 18, 25)
DAILY_SCHEDULE_DAYS = tuple(range(len(CAMPAIGNS)))
DAILY_SHARE = 0.10
DELIVERED_SHARE = 0.97
OPENED_SHARE = 0.45
CLICKED_SHARE = 0.35
UNSUBSCRIBED_SHARE = 0.02
SPAM_SHARE = 0.003
DUPLICATE_SHARE = 0.01


@dataclass(frozen=True)
class EmailEvents:
    """The email_events rows of a chunk and how many of them are re-exported copies."""

    table: pa.Table
    duplicate_rows: int


def _send_times(rng: np.random.Generator, customers: Customers) -> np.ndarray:
    """Planned send moments, shape (n, len(CAMPAIGNS)), +inf where the schedule has none."""
    n = len(customers)
    width = len(CAMPAIGNS)
    regular = np.full(width, np.inf)
    regular[: len(SCHEDULE_DAYS)] = SCHEDULE_DAYS
    daily = np.asarray(DAILY_SCHEDULE_DAYS, dtype=np.float64)
    days = np.where((rng.random(n) < DAILY_SHARE)[:, None], daily[None, :], regular[None, :])
    jitter = rng.uniform(0, 6 * HOUR, (n, width))
    jitter[:, 0] = rng.uniform(60, 600, n)
    return customers.signup_at[:, None] + days * DAY + jitter


def email_events(
    rng: np.random.Generator,
    customers: Customers,
    reached: np.ndarray,
    activation_step: int,
    as_of: int,
    chunk_index: int,
) -> EmailEvents:
    """The chunk's email_events, ordered by occurred_at."""
    n = len(customers)
    send_at = _send_times(rng, customers)
    activated_at = np.where(reached[:, activation_step] == NOT_REACHED, np.inf, reached[:, activation_step])
    planned = (send_at <= as_of) & (send_at <= activated_at[:, None] + DAY)
    # unsubscribe or spam report after one of the sends; later sends are cancelled
    u = rng.random(n)
    leaves = (u < UNSUBSCRIBED_SHARE + SPAM_SHARE) & planned[:, 0]
    leave_type = np.where(u < SPAM_SHARE, SPAM_REPORTED, UNSUBSCRIBED)
    after = np.minimum((rng.random(n) * planned.sum(axis=1)).astype(np.int64), len(CAMPAIGNS) - 1)
    after_at = send_at[np.arange(n), after]
    leave_at = np.minimum(after_at + rng.lognormal(np.log(2.0), 1.0, n) * HOUR, as_of)
    planned &= ~(leaves[:, None] & (send_at > leave_at[:, None]))
    customer, campaign = np.nonzero(planned)
    sent_at = send_at[customer, campaign]
    sends = len(customer)
    delivered = rng.random(sends) < DELIVERED_SHARE
    result_at = sent_at + np.where(delivered, rng.uniform(1, 60, sends), rng.uniform(1, 300, sends))
    opened = delivered & (rng.random(sends) < OPENED_SHARE)
    opened_at = result_at + rng.lognormal(np.log(3.0), 1.5, sends) * HOUR
    clicked = opened & (rng.random(sends) < CLICKED_SHARE)
    clicked_at = opened_at + rng.uniform(5, 1800, sends)
    leaver = np.flatnonzero(leaves)
    parts = [
        (customer, campaign, np.full(sends, SENT), sent_at),
        (customer, campaign, np.where(delivered, DELIVERED, BOUNCED), result_at),
        (customer[opened], campaign[opened], np.full(int(opened.sum()), OPENED), opened_at[opened]),
        (
            customer[clicked],
            campaign[clicked],
            np.full(int(clicked.sum()), CLICKED),
            clicked_at[clicked],
        ),
        (leaver, after[leaver], leave_type[leaver], leave_at[leaver]),
    ]
    who, what, kind, at = (np.concatenate(column) for column in zip(*parts, strict=True))
    keep = at <= as_of
    who, what, kind, at = who[keep], what[keep], kind[keep], at[keep].astype(np.int64)
    seq = np.arange(len(who))
    again = np.flatnonzero(rng.random(len(who)) < DUPLICATE_SHARE)
    rows = np.concatenate([seq, again])
    rows = rows[np.argsort(at[rows], kind="stable")]
    table = pa.table(
        {
            "event_id": padded(
                EMAIL_ID_PREFIX, chunk_index * EMAILS_PER_CHUNK_LIMIT + seq[rows], EMAIL_ID_DIGITS
            ),
            "customer_id": customers.customer_id.take(pa.array(who[rows])),
            "campaign": pick(CAMPAIGNS, what[rows]),
            "event_type": pick(EMAIL_EVENT_TYPES, kind[rows]),
            "occurred_at": iso_seconds(at[rows]),
        }
    )
    return EmailEvents(table, len(again))
