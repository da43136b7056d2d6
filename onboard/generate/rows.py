"""The events table of one chunk: clean batches become rows, rows become text columns.

Rows stay numeric (event number, customer index, name code, epoch seconds) while defects
are added; only `to_table` turns them into the raw tables' text columns (docs/definitions.md#raw-tables).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from onboard.core.raw_tables import GENERATED_UNUSABLE_REASONS as UNUSABLE_REASONS
from onboard.core.raw_tables import RAW_TABLES
from onboard.generate.events import NULL_STRING, EventBatch
from onboard.generate.text import concat, iso_seconds, json_integer, json_objects, padded
from onboard.generate.vocabulary import BAD_TIMESTAMPS, UNKNOWN_EVENT_NAMES

EVENT_COLUMNS = RAW_TABLES["events"]
EVENT_ID_PREFIX = "evt_"
EVENT_ID_DIGITS = 13
EVENTS_PER_CHUNK_LIMIT = 10**8  # event numbers of chunk k are k * 10**8 + 0, 1, ...
NULL_PROPERTIES_SHARE = 0.3  # events without properties: null instead of {}

# `defect` codes: 0 = usable, else 1 + index into UNUSABLE_REASONS (docs/definitions.md#unusable-rows order)
USABLE = 0
# `time_text` codes: 0 = occurred_at is the timestamp, 1 = null, 2 + k = BAD_TIMESTAMPS[k]
TIME_OK, TIME_NULL = 0, 1


@dataclass(frozen=True)
class EventRows:
    """Event rows of one chunk, one entry per row in every array."""

    seq: np.ndarray  # event number in the chunk (event_id), -1 for a null event_id
    customer: np.ndarray  # local customer index
    name: np.ndarray  # index into the event names: the plan's, then UNKNOWN_EVENT_NAMES
    user: np.ndarray  # user number in the workspace, 0 = null user_id
    occurred: np.ndarray  # epoch seconds
    received: np.ndarray  # epoch seconds
    properties: pa.Array  # JSON text or null
    defect: np.ndarray  # USABLE or 1 + index into UNUSABLE_REASONS
    time_text: np.ndarray  # TIME_OK, TIME_NULL or 2 + index into BAD_TIMESTAMPS

    def __len__(self) -> int:
        return len(self.seq)

    def take(self, index: np.ndarray) -> EventRows:
        """The rows at `index`, in that order."""
        picked = {f.name: getattr(self, f.name)[index] for f in fields(self) if f.name != "properties"}
        return EventRows(properties=self.properties.take(pa.array(index)), **picked)

    def with_(self, **changes: object) -> EventRows:
        """A copy with some arrays replaced."""
        return replace(self, **changes)  # type: ignore[arg-type]


def concat_rows(parts: list[EventRows]) -> EventRows:
    """The rows of every part, in order."""
    arrays = {
        f.name: np.concatenate([getattr(part, f.name) for part in parts])
        for f in fields(EventRows)
        if f.name != "properties"
    }
    properties = pa.concat_arrays([part.properties for part in parts])
    return EventRows(properties=properties, **arrays)


def event_names(plan_events: tuple[str, ...]) -> tuple[str, ...]:
    """Name codes: the plan's event names, then the unknown ones used by unusable rows."""
    return (*plan_events, *UNKNOWN_EVENT_NAMES)


def clean_rows(rng: np.random.Generator, batches: list[EventBatch], names: tuple[str, ...]) -> EventRows:
    """Usable rows from the batches, numbered 0..n-1; received_at is set later (defects)."""
    properties = []
    for batch in batches:
        text = json_objects(batch.properties, len(batch))
        if not batch.properties:
            absent = pa.array(rng.random(len(batch)) < NULL_PROPERTIES_SHARE)
            text = pc.if_else(absent, NULL_STRING, text)
        properties.append(text)
    occurred = np.concatenate([batch.occurred for batch in batches]).astype(np.int64)
    n = len(occurred)
    return EventRows(
        seq=np.arange(n, dtype=np.int64),
        customer=np.concatenate([batch.customer for batch in batches]).astype(np.int64),
        name=np.concatenate(
            [np.full(len(batch), names.index(batch.name), dtype=np.int16) for batch in batches]
        ),
        user=np.concatenate([batch.user for batch in batches]).astype(np.int64),
        occurred=occurred,
        received=occurred.copy(),
        properties=pa.concat_arrays(properties),
        defect=np.zeros(n, dtype=np.int8),
        time_text=np.zeros(n, dtype=np.int8),
    )


def _occurred_text(rows: EventRows) -> pa.Array:
    text = iso_seconds(rows.occurred, null=rows.time_text == TIME_NULL)
    bad = rows.time_text >= 2
    if not bad.any():
        return text
    bad_text = pa.array(BAD_TIMESTAMPS, pa.string()).take(pa.array(np.maximum(rows.time_text - 2, 0)))
    return pc.if_else(pa.array(bad), bad_text, text)


def to_table(rows: EventRows, customer_id: pa.Array, names: tuple[str, ...], chunk_index: int) -> pa.Table:
    """The raw events table (every column text), ordered by received_at as an extract would be."""
    rows = rows.take(np.argsort(rows.received, kind="stable"))
    customer_text = customer_id.take(pa.array(rows.customer))
    reason = rows.defect - 1
    event_number = chunk_index * EVENTS_PER_CHUNK_LIMIT + rows.seq
    columns = {
        "event_id": padded(EVENT_ID_PREFIX, event_number, EVENT_ID_DIGITS, null=rows.seq < 0),
        "event_name": pa.array(names, pa.string()).take(pa.array(rows.name)),
        "customer_id": pc.if_else(
            pa.array(reason == UNUSABLE_REASONS.index("null_customer_id")),
            NULL_STRING,
            customer_text,
        ),
        "user_id": concat(customer_text, "-u", json_integer(rows.user, null=rows.user == 0)),
        "occurred_at": _occurred_text(rows),
        "received_at": iso_seconds(rows.received),
        "properties": rows.properties,
    }
    return pa.table(columns)
