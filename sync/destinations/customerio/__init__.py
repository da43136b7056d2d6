"""Customer.io as a sync destination: people identified by customer_id, attributes in JSON types.

- `client.py`: `/api/v2/batch` identify calls within the size limits, item errors by index
- `values.py`: model values as Customer.io attributes
- `config.py`: its environment variables (it has no keys of mappings.yml of its own)

Customer.io's 429s carry only the standard Retry-After, so it needs no rate-limit hint.
"""

from __future__ import annotations

from typing import Any, ClassVar

from onboard.core.http import RetryPolicy
from sync.destinations.base import Credentials, Destination, DestinationConfig
from sync.destinations.customerio import config as settings
from sync.destinations.customerio import values
from sync.destinations.customerio.client import CustomerIO


class CustomerIOPlugin:
    """What the engine needs of Customer.io (sync/destinations/base.py, `Plugin`)."""

    config_model: ClassVar[type[DestinationConfig]] = DestinationConfig
    blank: ClassVar[Any] = values.BLANK
    suppressed: ClassVar[Any] = values.SUPPRESSED
    #: the conversion itself, not a wrapper: it runs for every field of every row
    value = staticmethod(values.attribute_value)

    def credentials(self) -> Credentials:
        return settings.credentials()

    def open(
        self, config: DestinationConfig, creds: Credentials | None = None, policy: RetryPolicy | None = None
    ) -> Destination:
        return CustomerIO(config, creds or self.credentials(), policy)


PLUGIN = CustomerIOPlugin()
