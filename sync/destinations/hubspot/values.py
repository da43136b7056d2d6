"""Model values as HubSpot property values: always strings.

Booleans "true"/"false", numbers in plain decimal notation (no exponent), datetimes
ISO-8601 UTC with milliseconds, dates YYYY-MM-DD, and null as "" (which clears the
property).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sync.destinations.base import FieldMapping
from sync.destinations.convert import as_utc_datetime, is_null

#: a blanked property (clears it), and suppress_onboarding on a record that left the model
BLANK = ""
SUPPRESSED = "true"


def plain_number(value: Any) -> str:
    """A number in plain decimal notation: integers without a point, others without an exponent."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    return format(number.normalize(), "f")


def property_value(mapping: FieldMapping, value: Any) -> str:
    """A value as HubSpot wants it: always a string."""
    if is_null(value):
        return BLANK
    if mapping.type == "bool":
        return "true" if bool(value) else "false"
    if mapping.type == "number":
        return plain_number(value)
    if mapping.type == "datetime":
        moment = as_utc_datetime(value)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if mapping.type == "date":
        return as_utc_datetime(value).strftime("%Y-%m-%d")
    return str(value)
