"""Customer.io's environment: the Track API's URL and its Basic-auth secrets.

CUSTOMERIO_SITE_ID and CUSTOMERIO_API_KEY are secrets: they come only from the environment
and are never printed (errors name the variables). CUSTOMERIO_TRACK_URL points the client
elsewhere (an EU account, the tests' local fake); plain http is refused except on loopback.
"""

from __future__ import annotations

from onboard.core.endpoints import base_url, secret_env
from sync.destinations.base import Credentials

SITE_ID_ENV = "CUSTOMERIO_SITE_ID"
API_KEY_ENV = "CUSTOMERIO_API_KEY"
URL_ENV = "CUSTOMERIO_TRACK_URL"
DEFAULT_URL = "https://track.customer.io"


def credentials() -> Credentials:
    """CUSTOMERIO_TRACK_URL (default the US region) and the site id / API key pair."""
    url = base_url(URL_ENV, DEFAULT_URL)
    return Credentials(url, token=secret_env(API_KEY_ENV), user=secret_env(SITE_ID_ENV))
