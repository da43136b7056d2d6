"""Local HTTP fakes of HubSpot, Customer.io and Slack webhooks, as strict as the real APIs, for tests.

Each fake is a real HTTP/1.1 server on 127.0.0.1 (see ``server`` for the shared pipeline, faults
and rate limiter; ``hubspot`` and ``customerio`` for each API's rules and their sources).
The fakes are imported lazily so ``python -m tests.fakes.hubspot`` runs without a double import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .server import Fault, RateLimit, RecordedRequest

if TYPE_CHECKING:
    from .customerio import FakeCustomerIO
    from .hubspot import FakeHubSpot
    from .slack import FakeSlack

__all__ = ["FakeCustomerIO", "FakeHubSpot", "FakeSlack", "Fault", "RateLimit", "RecordedRequest"]
_LAZY = {"FakeCustomerIO": ".customerio", "FakeHubSpot": ".hubspot", "FakeSlack": ".slack"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
