"""Customer.io as a sync destination: people identified by customer_id, attributes in JSON types.

- `client.py`: `/api/v2/batch` identify calls within the size limits, item errors by index
- `values.py`: model values as Customer.io attributes
- `config.py`: its environment variables (it has no keys of mappings.yml of its own)

Customer.io's 429s carry only the standard Retry-After, so it needs no rate-limit hint.
"""

from __future__ import annotations

from sync.destinations.base import DestinationConfig, Plugin
from sync.destinations.customerio import config, values
from sync.destinations.customerio.client import CustomerIO

PLUGIN = Plugin(
    config_model=DestinationConfig,
    blank=values.BLANK,
    suppressed=values.SUPPRESSED,
    value=values.attribute_value,
    credentials=config.credentials,
    client=CustomerIO,
)
