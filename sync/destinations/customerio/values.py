"""Model values as Customer.io attributes: JSON types.

Booleans and numbers stay JSON booleans and numbers (whole numbers as integers),
datetimes and dates become unix seconds, and null stays null (which removes the
attribute).
"""

from __future__ import annotations

import math
from typing import Any

from sync.destinations.base import FieldMapping
from sync.destinations.convert import as_utc_datetime, is_null

#: a blanked attribute (removes it), and suppress_onboarding on a record that left the model
BLANK = None
SUPPRESSED = True


def attribute_value(mapping: FieldMapping, value: Any) -> Any:
    """A value as Customer.io wants it: JSON types, datetimes as unix seconds."""
    if is_null(value):
        return BLANK
    if mapping.type == "bool":
        return bool(value)
    if mapping.type == "number":
        number = float(value)
        return int(number) if math.isfinite(number) and number.is_integer() else number
    if mapping.type in ("datetime", "date"):
        return int(as_utc_datetime(value).timestamp())
    return str(value)
