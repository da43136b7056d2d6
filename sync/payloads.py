"""Model rows as destination payloads, and their hashes.

Each destination converts values its own way (its plug-in's `value`, written in
sync/destinations/<name>/values.py: one wants every value a string, another JSON types).
A record that left the model in `clear` mode gets every mapped property blank and the
suppression field set, in the destination's own blank and true values.

The payload hash is over the canonical JSON of the payload, so a record is resent exactly
when what the destination would receive changes; the guarded hash is over the guarded
fields only (the circuit breaker).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sync.destinations.base import SUPPRESS_FIELD, DestinationConfig, Plugin


def payload(destination: DestinationConfig, plugin: Plugin, row: dict[str, Any]) -> dict[str, Any]:
    """The properties / attributes of one model row."""
    convert = plugin.value
    return {f.property: convert(f, row.get(f.column)) for f in destination.fields}


def cleared_payload(destination: DestinationConfig, plugin: Plugin) -> dict[str, Any]:
    """What a record that left the model gets in `clear` mode: blank, and suppressed."""
    return {
        f.property: plugin.suppressed if f.property == SUPPRESS_FIELD else plugin.blank
        for f in destination.fields
    }


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
