"""Model rows as destination payloads, and their hashes.

HubSpot property values are strings: booleans "true"/"false", numbers in plain decimal
notation (no exponent), datetimes ISO-8601 UTC with milliseconds, dates YYYY-MM-DD, and
null as "" (which clears the property). Customer.io attributes keep JSON types: booleans,
numbers, datetimes as unix seconds, and null (which removes the attribute).

The payload hash is over the canonical JSON of the payload, so a record is resent exactly
when what the destination would receive changes; the guarded hash is over the guarded
fields only (the circuit breaker).
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sync.config import SUPPRESS_FIELD, DestinationConfig, FieldMapping


def _is_null(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT
    except (TypeError, ValueError):
        return False


def _as_datetime(value: Any) -> datetime:
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _plain_number(value: Any) -> str:
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    return format(number.normalize(), "f")


def hubspot_value(mapping: FieldMapping, value: Any) -> str:
    """A value as HubSpot wants it: always a string."""
    if _is_null(value):
        return ""
    if mapping.type == "bool":
        return "true" if bool(value) else "false"
    if mapping.type == "number":
        return _plain_number(value)
    if mapping.type == "datetime":
        moment = _as_datetime(value)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if mapping.type == "date":
        return _as_datetime(value).strftime("%Y-%m-%d")
    return str(value)


def customerio_value(mapping: FieldMapping, value: Any) -> Any:
    """A value as Customer.io wants it: JSON types, datetimes as unix seconds."""
    if _is_null(value):
        return None
    if mapping.type == "bool":
        return bool(value)
    if mapping.type == "number":
        number = float(value)
        return int(number) if math.isfinite(number) and number.is_integer() else number
    if mapping.type in ("datetime", "date"):
        return int(_as_datetime(value).timestamp())
    return str(value)


def payload(destination: DestinationConfig, row: dict[str, Any]) -> dict[str, Any]:
    """The properties / attributes of one model row."""
    convert = hubspot_value if destination.name == "hubspot" else customerio_value
    return {f.property: convert(f, row.get(f.column)) for f in destination.fields}


def cleared_payload(destination: DestinationConfig) -> dict[str, Any]:
    """What a record that left the model gets in `clear` mode: blank, and suppressed."""
    blank: Any = "" if destination.name == "hubspot" else None
    suppressed: Any = "true" if destination.name == "hubspot" else True
    return {f.property: suppressed if f.property == SUPPRESS_FIELD else blank for f in destination.fields}


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def text_digest(text: str) -> str:
    """SHA-256 of a text, hex (first 32 characters)."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def digest(value: Any) -> str:
    """SHA-256 of the canonical JSON of a value."""
    return text_digest(canonical(value))


def guarded_digest(destination: DestinationConfig, body: dict[str, Any]) -> str:
    """Hash of the guarded fields of a payload."""
    names = {f.column: f.property for f in destination.fields}
    return digest({names[column]: body.get(names[column]) for column in destination.guarded})
