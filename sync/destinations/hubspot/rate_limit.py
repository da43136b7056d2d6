"""HubSpot's rate-limit headers: how long a 429 without Retry-After asks to wait.

HubSpot's 429s from its per-app limiter carry `X-HubSpot-RateLimit-Interval-Milliseconds`
(the window) and `X-HubSpot-RateLimit-Remaining`; when the remaining count is 0 the window
must clear before the next request. The core client asks this after the standard
Retry-After (onboard/core/http.py, `wait_hint`).
"""

from __future__ import annotations

import requests

INTERVAL_HEADER = "X-HubSpot-RateLimit-Interval-Milliseconds"
REMAINING_HEADER = "X-HubSpot-RateLimit-Remaining"


def wait_hint(response: requests.Response) -> float | None:
    """Seconds until HubSpot's exhausted window clears, or None when the headers do not say."""
    interval = response.headers.get(INTERVAL_HEADER)
    if not interval or response.headers.get(REMAINING_HEADER) != "0":
        return None
    try:
        return float(interval) / 1000.0
    except ValueError:
        return None
