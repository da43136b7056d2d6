"""Everything that makes the demo data raw: schema breaks, arrival times, duplicates, unusable rows.

- Schema breaks (on the clean batches, before JSON): a small tolerated share (a fixed
  count per chunk, never above 0.6 % of the event's rows, so never above validation's 1 %) of
  integration_connected without `integration`, support_ticket_opened without `ticket_id`
  and plan_changed with an invalid `to_tier`; plus every `--break FIELD:SHARE`, which drops
  FIELD from each event requiring it with probability SHARE (Bernoulli per row).
  signup_completed.plan_tier and .email are never broken unless asked.
- Arrival: received_at is seconds to minutes after occurred_at; about 2 % of events arrive
  1-10 days late (an event less than a day before as_of cannot be late and is not); about
  0.05 % are future-dated (client clock skew: occurred_at 2-48 h after received_at; never a
  signup or a plan change). received_at is never after as_of.
- Duplicates: about 1 % of the usable events are sent again: same event_id and content,
  later received_at (<= as_of).
- Unusable rows: extra copies of random non-signup usable events with a fresh event_id and
  exactly one defect: a fixed 0.06-0.1 % of the chunk's usable events per reason, 0.4 %
  in all. Never duplicated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from onboard.core.raw_tables import GENERATED_UNUSABLE_REASONS as UNUSABLE_REASONS
from onboard.generate.events import NULL_STRING, EventBatch
from onboard.generate.rows import TIME_NULL, EventRows
from onboard.generate.text import DAY, HOUR, json_string, pick
from onboard.generate.vocabulary import (
    BAD_PROPERTIES,
    BAD_TIMESTAMPS,
    INVALID_TIERS,
    UNKNOWN_EVENT_NAMES,
)

# (event, property) -> share of rows where the property is left out
TOLERATED_ABSENT = {
    ("integration_connected", "integration"): 0.003,
    ("support_ticket_opened", "ticket_id"): 0.003,
}
INVALID_TO_TIER_SHARE = 0.004
MAX_TOLERATED_SHARE = 0.006
LATE_SHARE = 0.02
FUTURE_DATED_SHARE = 0.0005
NEVER_FUTURE_DATED = ("signup_completed", "plan_changed")
DUPLICATE_SHARE = 0.01
# share of the usable events copied as unusable rows, per reason (UNUSABLE_REASONS order)
UNUSABLE_SHARES = (0.0006, 0.0007, 0.0009, 0.0008, 0.001)
MAX_NORMAL_DELAY = 900  # seconds


def _exactly(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    """A mask of about share x n random rows (rounded), never more than 0.6 % of them:
    a tolerated break stays under validation's 1 % at any size."""
    count = min(round(share * n), int(MAX_TOLERATED_SHARE * n))
    mask = np.zeros(n, dtype=bool)
    mask[rng.permutation(n)[:count]] = True
    return mask


def _drop(batch: EventBatch, key: str, selected: np.ndarray) -> int:
    """Leave `key` out of the selected rows that have it; the number of rows changed."""
    values = batch.properties.get(key)
    if values is None:
        return 0
    removed = selected & ~np.asarray(values.is_null())
    batch.properties[key] = pc.if_else(pa.array(removed), NULL_STRING, values)
    return int(removed.sum())


def break_properties(
    rng: np.random.Generator,
    batches: list[EventBatch],
    required: Mapping[str, tuple[str, ...]],
    breaks: Mapping[str, float],
) -> Counter[tuple[str, str]]:
    """Apply the tolerated breaks and the requested `--break`s to the batches, in place.

    `required` maps each event name to its required properties. Returns, per (field,
    event name), the number of rows a requested break removed the key from.
    """
    removed: Counter[tuple[str, str]] = Counter()
    for batch in batches:
        n = len(batch)
        for (event_name, key), share in TOLERATED_ABSENT.items():
            if batch.name == event_name:
                _drop(batch, key, _exactly(rng, n, share))
        if batch.name == "plan_changed" and "to_tier" in batch.properties:
            invalid = _exactly(rng, n, INVALID_TO_TIER_SHARE)
            wrong = json_string(pick(INVALID_TIERS, rng.integers(0, len(INVALID_TIERS), n)))
            batch.properties["to_tier"] = pc.if_else(pa.array(invalid), wrong, batch.properties["to_tier"])
        for key in required.get(batch.name, ()):
            if key in breaks:
                removed[(key, batch.name)] += _drop(batch, key, rng.random(n) < breaks[key])
    return removed


def arrive(rng: np.random.Generator, rows: EventRows, names: tuple[str, ...], as_of: int) -> EventRows:
    """Set received_at: normal delays, late arrivals, future-dated occurred_at."""
    n = len(rows)
    occurred = rows.occurred.copy()
    delay = np.minimum(rng.lognormal(np.log(20.0), 1.2, n), MAX_NORMAL_DELAY).astype(np.int64)
    received = np.minimum(occurred + delay, as_of)
    u = rng.random(n)
    room = as_of - occurred
    late = (u < LATE_SHARE) & (room >= DAY)
    late_delay = rng.integers(DAY, np.clip(room, DAY, 10 * DAY) + 1)
    received[late] = occurred[late] + late_delay[late]
    excluded = np.isin(rows.name, [names.index(name) for name in NEVER_FUTURE_DATED])
    future = (u >= LATE_SHARE) & (u < LATE_SHARE + FUTURE_DATED_SHARE) & ~excluded
    occurred[future] = received[future] + rng.integers(2 * HOUR, 48 * HOUR + 1, n)[future]
    return rows.with_(occurred=occurred, received=received)


def duplicates(rng: np.random.Generator, rows: EventRows, as_of: int) -> EventRows:
    """Re-sent copies of about 1 % of the rows, received later (same event_id and content)."""
    n = len(rows)
    source = np.flatnonzero((rows.received < as_of) & (rng.random(n) < DUPLICATE_SHARE))
    copies = rows.take(source)
    gap = rng.integers(1, np.minimum(2 * DAY, as_of - copies.received) + 1)
    return copies.with_(received=copies.received + gap)


def unusable(rng: np.random.Generator, rows: EventRows, names: tuple[str, ...], first_seq: int) -> EventRows:
    """Extra unusable rows: copies of random non-signup rows with one defect each.

    Fresh event numbers start at `first_seq`; null_event_id rows have none (-1).
    """
    candidates = np.flatnonzero(rows.name != names.index("signup_completed"))
    counts = np.array([int(share * len(rows)) for share in UNUSABLE_SHARES], dtype=np.int64)
    if len(candidates) == 0:
        counts[:] = 0
    source = rng.choice(candidates, int(counts.sum())) if counts.sum() else np.zeros(0, np.int64)
    copies = rows.take(source)
    total = len(copies)
    reason = np.repeat(np.arange(len(UNUSABLE_REASONS)), counts)
    seq = np.where(reason == UNUSABLE_REASONS.index("null_event_id"), -1, first_seq + np.arange(total))
    time_text = np.where(
        reason == UNUSABLE_REASONS.index("null_occurred_at"),
        np.where(rng.random(total) < 0.5, TIME_NULL, 2 + rng.integers(0, len(BAD_TIMESTAMPS), total)),
        copies.time_text,
    ).astype(np.int8)
    unknown = reason == UNUSABLE_REASONS.index("unknown_event_name")
    unknown_code = len(names) - len(UNKNOWN_EVENT_NAMES) + rng.integers(0, len(UNKNOWN_EVENT_NAMES), total)
    invalid = pa.array(reason == UNUSABLE_REASONS.index("invalid_properties"))
    bad_properties = pick(BAD_PROPERTIES, rng.integers(0, len(BAD_PROPERTIES), total))
    return copies.with_(
        seq=seq,
        name=np.where(unknown, unknown_code, copies.name).astype(np.int16),
        time_text=time_text,
        properties=pc.if_else(invalid, bad_properties, copies.properties),
        defect=(1 + reason).astype(np.int8),
    )
