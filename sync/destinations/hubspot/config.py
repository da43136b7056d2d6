"""HubSpot's configuration: its keys of sync/mappings.yml, and its environment variables.

The private app token is a secret: it comes only from HUBSPOT_ACCESS_TOKEN and is never
printed (errors name the variable). HUBSPOT_BASE_URL points the client elsewhere (the
tests' local fake); plain http is refused except on loopback.
"""

from __future__ import annotations

from onboard.core.endpoints import base_url, secret_env
from onboard.core.project_config import ConfigModel
from sync.destinations.base import Credentials, DestinationConfig

TOKEN_ENV = "HUBSPOT_ACCESS_TOKEN"
URL_ENV = "HUBSPOT_BASE_URL"
DEFAULT_URL = "https://api.hubapi.com"


class PropertyGroup(ConfigModel):
    """The contact property group `--setup` creates the mapped properties in."""

    name: str
    label: str


class HubSpotConfig(DestinationConfig):
    """HubSpot's entry of mappings.yml: the common keys, and the property group."""

    property_group: PropertyGroup


def credentials() -> Credentials:
    """HUBSPOT_BASE_URL (default the public API) and the private app token."""
    return Credentials(base_url(URL_ENV, DEFAULT_URL), token=secret_env(TOKEN_ENV))
