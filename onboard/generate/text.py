"""Vectorised text: ISO-8601 timestamps, padded ids, words from lists, JSON objects.

Every helper takes numpy arrays and returns a pyarrow string array, without a Python loop
over rows: values are looked up in small tables (`take`) and glued with
`binary_join_element_wise`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY = 86_400
HOUR = 3_600


@cache
def _clock() -> pa.Array:
    """`HH:MM:SSZ` for every second of a day."""
    seconds = pa.array(np.arange(DAY, dtype=np.int64), pa.timestamp("s"))
    return pc.strftime(seconds, format="%H:%M:%SZ")


def iso_seconds(epoch: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """UTC `YYYY-MM-DDTHH:MM:SSZ` for each epoch second; null where `null` is true."""
    epoch = np.asarray(epoch, dtype=np.int64)
    if len(epoch) == 0:
        return pa.array([], pa.string())
    day = epoch // DAY
    first = int(day.min())
    days = pa.array(np.arange(first, int(day.max()) + 1, dtype=np.int64) * DAY, pa.timestamp("s"))
    dates = pc.strftime(days, format="%Y-%m-%dT")
    date_text = dates.take(pa.array(day - first, mask=null))
    return pc.binary_join_element_wise(date_text, _clock().take(pa.array(epoch - day * DAY)), "")


def padded(prefix: str, numbers: np.ndarray, width: int, null: np.ndarray | None = None) -> pa.Array:
    """`prefix` + each number left-padded with zeros to `width` digits; null where `null`."""
    digits = pc.utf8_lpad(
        pc.cast(pa.array(np.asarray(numbers, np.int64), mask=null), pa.string()), width, "0"
    )
    return pc.binary_join_element_wise(prefix, digits, "")


def pick(words: Sequence[str], codes: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """The word at each code (an index into `words`); null where `null` is true."""
    return pa.array(words, pa.string()).take(pa.array(np.asarray(codes, np.int64), mask=null))


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and scalars (null if any part is null)."""
    return pc.binary_join_element_wise(*parts, "")


def json_string(values: pa.Array) -> pa.Array:
    """JSON string literals of plain text (no quotes, backslashes or control characters)."""
    return concat('"', values, '"')


def json_integer(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """JSON integer literals; null where `null` is true."""
    return pc.cast(pa.array(np.asarray(values, np.int64), mask=null), pa.string())


def json_objects(fields: Mapping[str, pa.Array], rows: int) -> pa.Array:
    """A JSON object text per row from JSON value texts per key (null leaves the key out)."""
    if not fields:
        return pa.array(np.full(rows, "{}", dtype=object), pa.string())
    # `binary_join_element_wise(..., null_handling="skip")` would be the natural call, but
    # pyarrow 26 drops the rows where every member is null; so each member carries its
    # leading comma, absent ones become "", and the first comma is cut off.
    members = [pc.fill_null(concat(f',"{key}":', values), "") for key, values in fields.items()]
    body = concat(*members) if len(members) > 1 else members[0]
    return concat("{", pc.utf8_slice_codeunits(body, 1), "}")


def money(dollars: np.ndarray, null: np.ndarray) -> pa.Array:
    """Decimal text with two places (`12000.00`) for whole dollars; null where `null`."""
    return concat(json_integer(np.where(null, 0, dollars), null), ".00")
