"""The sync's destinations, registered by name: the only place the engine learns which exist.

Each destination is a folder here (client, value conversion, setup, credentials, its own
rate-limit headers) exposing a `PLUGIN` that meets `base.Plugin`. Adding one is a new
folder, one line in `PLUGINS`, and its entry under `destinations:` in sync/mappings.yml.
"""

from __future__ import annotations

from onboard.core.errors import UsageError
from sync.destinations import customerio, hubspot
from sync.destinations.base import Plugin

PLUGINS: dict[str, Plugin] = {
    "hubspot": hubspot.PLUGIN,
    "customerio": customerio.PLUGIN,
}


def plugin(name: str) -> Plugin:
    """The destination registered as `name`."""
    if name not in PLUGINS:
        raise UsageError(f"{name}: not a known destination (known: {', '.join(PLUGINS)})")
    return PLUGINS[name]
