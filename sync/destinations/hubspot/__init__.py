"""HubSpot as a sync destination: contacts upserted by email, every value a string.

- `client.py`: batch upserts, whole-batch 400s halved until the bad input is isolated
- `setup.py`: the property group and properties (`--setup`), and the check before sending
- `values.py`: model values as HubSpot property strings
- `rate_limit.py`: HubSpot's rate-limit headers, for a 429 without Retry-After
- `config.py`: its keys of mappings.yml (property_group) and its environment variables
"""

from __future__ import annotations

from sync.destinations.base import Plugin
from sync.destinations.hubspot import config, values
from sync.destinations.hubspot.client import HubSpot

PLUGIN = Plugin(
    config_model=config.HubSpotConfig,
    blank=values.BLANK,
    suppressed=values.SUPPRESSED,
    value=values.property_value,
    credentials=config.credentials,
    client=HubSpot,
)
