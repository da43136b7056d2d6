"""Current-state tables: accounts (billing/CRM), subscriptions and monthly routing audits.

accounts and subscriptions have one row per customer, except about 1 % of customers with
no row and about 2 % with an extra, older row (earlier updated_at, different values: the
latest updated_at wins).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from onboard.core.raw_tables import SUBSCRIPTION_STATUSES
from onboard.generate.customers import Customers
from onboard.generate.text import DAY, HOUR, iso_seconds, money, pick
from onboard.generate.vocabulary import (
    ACTIVE,
    AUDITORS,
    CANCELLED,
    CSM_OWNERS,
    DELETED,
    HIGH_TOUCH,
    PAST_DUE,
    STANDARD,
    TRACKS,
    TRIAL,
    TRIALING,
)

ACCOUNT_COLUMNS = ("customer_id", "company_name", "arr", "csm_owner", "updated_at")
SUBSCRIPTION_COLUMNS = ("customer_id", "status", "trial_ends_at", "updated_at")
AUDIT_COLUMNS = ("customer_id", "audited_track", "audited_at", "auditor")
MISSING_ROW_SHARE = 0.01
OLDER_ROW_SHARE = 0.02
STANDARD_CSM_SHARE = 0.5
TRIAL_DAYS = 14
AUDITED_SHARE = 0.02  # of the existing customers, each month
AUDIT_AGREEMENT = 0.92


def row_presence(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Which customers have a row, and which of those also have an older one."""
    present = rng.random(n) >= MISSING_ROW_SHARE
    return present, present & (rng.random(n) < OLDER_ROW_SHARE)


def _updated_at(rng: np.random.Generator, customers: Customers, as_of: int) -> np.ndarray:
    age = as_of - customers.signup_at
    return customers.signup_at + (rng.random(len(customers)) * (age + 1)).astype(np.int64)


def accounts(
    rng: np.random.Generator,
    customers: Customers,
    present: np.ndarray,
    older: np.ndarray,
    track: np.ndarray,
    as_of: int,
) -> pa.Table:
    """accounts rows: ARR as decimal text (null when unknown); a CSM for high_touch customers
    and about half of the standard ones."""
    n = len(customers)
    arr = customers.arr
    updated = _updated_at(rng, customers, as_of)
    has_csm = (track == HIGH_TOUCH) | ((track == STANDARD) & (rng.random(n) < STANDARD_CSM_SHARE))
    csm = pick(CSM_OWNERS, rng.integers(0, len(CSM_OWNERS), n), ~has_csm)
    step = 100 * rng.integers(1, 100, n)
    older_arr = np.where(np.isnan(arr), step, np.where(arr >= step + 1000, arr - step, arr + step))
    latest, earlier = np.flatnonzero(present), np.flatnonzero(older)
    rows = np.concatenate([latest, earlier])
    is_older = np.repeat([False, True], [len(latest), len(earlier)])
    arr_rows = np.where(is_older, older_arr[rows], arr[rows])
    updated_rows = np.where(is_older, updated[rows] - rng.integers(HOUR, 60 * DAY, len(rows)), updated[rows])
    index = pa.array(rows)
    return pa.table(
        {
            "customer_id": customers.customer_id.take(index),
            "company_name": customers.company_name.take(index),
            "arr": money(np.nan_to_num(arr_rows).astype(np.int64), np.isnan(arr_rows)),
            "csm_owner": csm.take(index),
            "updated_at": iso_seconds(updated_rows),
        }
    )


def subscriptions(
    rng: np.random.Generator,
    customers: Customers,
    present: np.ndarray,
    older: np.ndarray,
    as_of: int,
) -> pa.Table:
    """subscriptions rows: trialing for the trial tier (trial_ends_at = signup + 14 days), else
    mostly active, with past_due (3 %), cancelled (5 %) and deleted (1 %)."""
    n = len(customers)
    u = rng.random(n)
    status = np.select(
        [u < 0.03, u < 0.08, u < 0.09, customers.current_tier == TRIAL],
        [PAST_DUE, CANCELLED, DELETED, TRIALING],
        ACTIVE,
    )
    was_trial = (customers.signup_tier == TRIAL) | (customers.current_tier == TRIAL)
    trial_ends = customers.signup_at + TRIAL_DAYS * DAY
    updated = np.where(
        status == TRIALING,
        np.minimum(customers.signup_at + rng.integers(0, 120, n), as_of),
        _updated_at(rng, customers, as_of),
    )
    older_status = np.where(status == ACTIVE, np.where(was_trial, TRIALING, PAST_DUE), ACTIVE)
    latest, earlier = np.flatnonzero(present), np.flatnonzero(older)
    rows = np.concatenate([latest, earlier])
    is_older = np.repeat([False, True], [len(latest), len(earlier)])
    updated_rows = np.where(is_older, updated[rows] - rng.integers(HOUR, 30 * DAY, len(rows)), updated[rows])
    return pa.table(
        {
            "customer_id": customers.customer_id.take(pa.array(rows)),
            "status": pick(SUBSCRIPTION_STATUSES, np.where(is_older, older_status[rows], status[rows])),
            "trial_ends_at": iso_seconds(trial_ends[rows], null=~was_trial[rows]),
            "updated_at": iso_seconds(updated_rows),
        }
    )


def month_starts(first: int, last: int) -> list[int]:
    """Epoch seconds of the first instant of every calendar month from `first`'s to `last`'s."""
    moment = datetime.fromtimestamp(first, UTC).replace(day=1, hour=0, minute=0, second=0)
    starts = []
    while int(moment.timestamp()) <= last:
        starts.append(int(moment.timestamp()))
        moment = moment.replace(year=moment.year + moment.month // 12, month=moment.month % 12 + 1)
    return starts


def routing_audits(
    rng: np.random.Generator, customers: Customers, track: np.ndarray, first: int, as_of: int
) -> pa.Table:
    """Each calendar month from `first` to as_of, about 2 % of the customers signed up by then are
    hand-checked; the auditor agrees with the customer's track 92 % of the time."""
    starts = month_starts(first, as_of)
    ends = [*(start - 1 for start in starts[1:]), as_of]
    parts = []
    for start, end in zip(starts, ends, strict=True):
        begin = np.maximum(customers.signup_at, start)
        chosen = np.flatnonzero((begin <= end) & (rng.random(len(customers)) < AUDITED_SHARE))
        at = begin[chosen] + (rng.random(len(chosen)) * (end - begin[chosen] + 1)).astype(np.int64)
        parts.append((chosen, at))
    who = np.concatenate([part[0] for part in parts])
    at = np.concatenate([part[1] for part in parts])
    m = len(who)
    agrees = rng.random(m) < AUDIT_AGREEMENT
    other = (track[who] + rng.integers(1, len(TRACKS), m)) % len(TRACKS)
    return pa.table(
        {
            "customer_id": customers.customer_id.take(pa.array(who)),
            "audited_track": pick(TRACKS, np.where(agrees, track[who], other)),
            "audited_at": iso_seconds(at),
            "auditor": pick(AUDITORS, rng.integers(0, len(AUDITORS), m)),
        }
    )
