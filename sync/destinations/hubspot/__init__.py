"""HubSpot as a sync destination: contacts upserted by email, every value a string.

- `client.py`: batch upserts, whole-batch 400s halved until the bad input is isolated
- `setup.py`: the property group and properties (`--setup`), and the check before sending
- `values.py`: model values as HubSpot property strings
- `rate_limit.py`: HubSpot's rate-limit headers, for a 429 without Retry-After
- `config.py`: its keys of mappings.yml (property_group) and its environment variables
"""

from __future__ import annotations

from typing import Any, ClassVar

from onboard.core.http import RetryPolicy
from sync.destinations.base import Credentials, Destination, DestinationConfig
from sync.destinations.hubspot import config as settings
from sync.destinations.hubspot import values
from sync.destinations.hubspot.client import HubSpot


class HubSpotPlugin:
    """What the engine needs of HubSpot (sync/destinations/base.py, `Plugin`)."""

    config_model: ClassVar[type[DestinationConfig]] = settings.HubSpotConfig
    blank: ClassVar[Any] = values.BLANK
    suppressed: ClassVar[Any] = values.SUPPRESSED

    #: the conversion itself, not a wrapper: it runs for every field of every row
    value = staticmethod(values.property_value)

    def credentials(self) -> Credentials:
        return settings.credentials()

    def open(
        self, config: DestinationConfig, creds: Credentials | None = None, policy: RetryPolicy | None = None
    ) -> Destination:
        if not isinstance(config, settings.HubSpotConfig):
            raise TypeError(f"HubSpot needs a HubSpotConfig, got {type(config).__name__}")
        return HubSpot(config, creds or self.credentials(), policy)


PLUGIN = HubSpotPlugin()
