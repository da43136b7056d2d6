"""Where outside services are, and their secrets: both from the environment, checked, never printed.

Every client of an outside API (the sync's destinations, the Slack alerts) reads its base
URL and secrets through here, so one rule holds for all of them: a secret comes only from
the environment and an error names its variable, never its value; a URL is https, or
plain http on the loopback interface only (the tests' local fakes).
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

from onboard.core.errors import UsageError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def secret_env(name: str) -> str:
    """The value of a secret's environment variable; a UsageError naming it when unset."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise UsageError(f"environment variable {name} is not set (needed to reach the destination)")
    return value


def base_url(variable: str, default: str) -> str:
    """An API's base URL from `variable` (else `default`), without a trailing slash; https or loopback."""
    url = (os.environ.get(variable) or default).rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UsageError(f"{variable}: expected an http(s) URL, got {url!r}")
    if parsed.scheme == "http" and parsed.hostname not in LOOPBACK_HOSTS:
        raise UsageError(f"{variable}: plain http is refused except on loopback; use https")
    return url
