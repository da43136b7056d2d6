"""Journey events as Customer.io person events (docs/definitions.md#moment-delivery).

A v2 batch item `{"type": "person", "identifiers": {"id": <customer_id>}, "action": "event",
"name": ..., "id": <ULID>, "timestamp": <unix seconds>, "attributes": {...}}`. Customer.io
processes an event id once and documents the id as a ULID, so the id is a ULID made from the
moment: its time part is occurred_at (milliseconds), its 80 random bits the first 80 bits of
sha256(moment id). The same moment always gets the same id, so a resend after a lost answer
or a kill is ignored by Customer.io. The data is the moment's non-null columns in JSON types
(timestamps as unix seconds, like the attributes).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sync.destinations.base import FieldMapping, Moment
from sync.destinations.customerio.values import attribute_value

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def moment_ulid(moment: Moment) -> str:
    """A ULID (26 Crockford base32 characters) that only this moment has."""
    millis = int(moment.occurred_at.replace(tzinfo=UTC).timestamp() * 1000)
    randomness = int(hashlib.sha256(moment.moment_id.encode()).hexdigest()[:20], 16)
    value = (millis << 80) | randomness
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def event_item(moment: Moment) -> dict[str, Any]:
    """The batch item of a journey event."""
    return {
        "type": "person",
        "identifiers": {"id": moment.key},
        "action": "event",
        "name": moment.name,
        "id": moment_ulid(moment),
        "timestamp": int(moment.occurred_at.replace(tzinfo=UTC).timestamp()),
        "attributes": {name: _json(value) for name, value in moment.data.items() if value is not None},
    }


def _json(value: Any) -> Any:
    """A model value in JSON's types, converted as the attributes are."""
    if isinstance(value, bool):
        kind = "bool"
    elif isinstance(value, datetime | date):
        kind = "datetime"
    elif isinstance(value, int | float | Decimal):
        kind = "number"
    else:
        kind = "string"
    return attribute_value(FieldMapping("", "", kind, ""), value)
