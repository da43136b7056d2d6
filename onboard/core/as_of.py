"""Parsing and formatting the `as_of` instant (UTC) that every figure is computed as of."""

from __future__ import annotations

from datetime import UTC, datetime

from onboard.core.errors import UsageError


def parse_as_of(text: str) -> datetime:
    """An ISO-8601 instant as an aware UTC datetime; a text without offset is taken as UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--as-of {text!r}: expected an ISO-8601 time such as 2026-03-16T12:00:00Z"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def dbt_as_of(value: datetime) -> str:
    """The form the dbt var `as_of` takes: naive UTC `YYYY-MM-DD HH:MM:SS[.ffffff]`."""
    text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return text.removesuffix(".000000")


def now_to_the_hour() -> datetime:
    """The current UTC time truncated to the hour: the default as_of of generated data."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
