"""What the destinations' value conversions share: telling null from a value, and reading a moment.

Model values arrive as the warehouse drivers give them (None, NaN / NaT from pandas,
datetime or date, pandas Timestamps); each destination turns them into its own types.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any


def is_null(value: Any) -> bool:
    """None, NaN or NaT."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT
    except (TypeError, ValueError):
        return False


def as_utc_datetime(value: Any) -> datetime:
    """A timestamp or date as an aware UTC datetime (the warehouse's naive timestamps are UTC)."""
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
