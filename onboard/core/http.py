"""The one HTTP client of the syncs (and of the Slack alerts): paced, retried, bounded, quiet about secrets.

- **Pacing**: requests are spaced evenly at the destination's documented limit, with a 5 %
  margin (`RATE_MARGIN`), so the client never triggers the server's limiter on its own.
- **429**: wait what `Retry-After` says (seconds or an HTTP date); without it, what the
  API's own headers say, read by the `wait_hint` its caller passes (each API has its own,
  e.g. a rate-limit window's remaining count); else exponential backoff. At most
  `max_rate_limit_waits` times per request.
- **500/502/503/504 and connection errors** (including a connection dropped after the
  server applied the write): exponential backoff with full jitter, at most `max_attempts`
  tries, then `DestinationUnavailableError`. Resending is safe for the syncs' upserts and
  for events carrying a de-duplication id; a Slack message is at least once (docs/alerts.md).
  A request marked `idempotent=False` (a create) is never resent after such an answer: it
  raises `UncertainOutcomeError` at once, and its caller checks what landed.
- **Any other 4xx** is returned at once, never retried: the caller records it.
- A timeout on every request (connect, read). The Authorization header is never logged.
- Bodies are compact UTF-8 JSON, the bytes the destinations' size limits count.

Retry timing can be tightened for tests with ONBOARD_SYNC_RETRY_BASE_SECONDS and
ONBOARD_SYNC_MAX_ATTEMPTS.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from onboard.core.errors import OnboardError, UsageError
from onboard.core.logs import log

RATE_MARGIN = 0.95
RETRY_STATUSES = (500, 502, 503, 504)
TIMEOUT = (5.0, 60.0)


class DestinationUnavailableError(OnboardError):
    """The destination kept failing (5xx, connection errors) after every retry."""

    exit_code = 1


class UncertainOutcomeError(DestinationUnavailableError):
    """A request that is not safe to resend (a create) got no clear answer: a 5xx or a dropped
    connection, after which the write may or may not have been applied. The caller finds out
    (e.g. searches for its own id) before sending it again."""


def _env_number(name: str, kind: type[int] | type[float], expected: str) -> int | float | None:
    """An environment variable read as a number >= 0, None when unset; UsageError when malformed."""
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        value = kind(text)
    except ValueError:
        raise UsageError(f"environment variable {name}={text!r}: expected {expected}") from None
    if value < 0:
        raise UsageError(f"environment variable {name}={text!r}: expected {expected}")
    return value


@dataclass
class RetryPolicy:
    """How often and how long to retry."""

    max_attempts: int = 6
    base_seconds: float = 0.5
    cap_seconds: float = 30.0
    max_rate_limit_waits: int = 20

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """Defaults, overridden by ONBOARD_SYNC_RETRY_BASE_SECONDS / ONBOARD_SYNC_MAX_ATTEMPTS."""
        policy = cls()
        base = _env_number("ONBOARD_SYNC_RETRY_BASE_SECONDS", float, "a number of seconds >= 0 such as 0.5")
        if base is not None:
            policy.base_seconds = base
            policy.cap_seconds = max(base * 8, base)
        attempts = _env_number("ONBOARD_SYNC_MAX_ATTEMPTS", int, "a whole number >= 1 such as 6")
        if attempts is not None:
            if attempts < 1:
                raise UsageError(f"environment variable ONBOARD_SYNC_MAX_ATTEMPTS={attempts}: expected >= 1")
            policy.max_attempts = int(attempts)
        return policy

    def backoff(self, attempt: int) -> float:
        """Full jitter: a random wait up to base x 2^attempt, capped."""
        return random.uniform(0, min(self.cap_seconds, self.base_seconds * 2**attempt))


class Pacer:
    """Evenly spaced requests: at most `requests` per `per_seconds` (times RATE_MARGIN)."""

    def __init__(self, requests_per_window: int, per_seconds: float, sleep: Callable[[float], None]) -> None:
        self.interval = per_seconds / (max(1, requests_per_window) * RATE_MARGIN)
        self._next = 0.0
        self._lock = threading.Lock()
        self._sleep = sleep

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self._sleep(start - now)

    def hold(self, seconds: float) -> None:
        """Send nothing for `seconds` (after a 429)."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


@dataclass
class ClientStats:
    """What the client did."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)


#: wait_hint(response): the seconds an API's own headers ask a 429 to wait, or None
WaitHint = Callable[[requests.Response], float | None]


def retry_after_seconds(response: requests.Response) -> float | None:
    """How long a 429 asks to wait by the standard Retry-After header (seconds or an HTTP date), or None."""
    header = response.headers.get("Retry-After")
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class HttpClient:
    """JSON over HTTPS to one API, paced and retried."""

    def __init__(
        self,
        base_url: str,
        name: str,
        rate_limit: tuple[int, float],
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        wait_hint: WaitHint | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.session = requests.Session()
        self.session.headers.update({"Content-Type": "application/json", "Accept": "application/json"})
        self.session.headers.update(headers or {})
        if auth is not None:
            self.session.auth = auth
        self.policy = policy or RetryPolicy.from_env()
        self.pacer = Pacer(rate_limit[0], rate_limit[1], sleep)
        self.stats = ClientStats()
        self._sleep = sleep
        self._wait_hint = wait_hint

    def close(self) -> None:
        self.session.close()

    def _wait(self, seconds: float) -> None:
        self.stats.waited_seconds += seconds
        self._sleep(seconds)

    def request(self, method: str, path: str, body: Any = None, idempotent: bool = True) -> requests.Response:
        """One call; retried as the module says. Returns the final response (2xx or a 4xx to record).

        Not `idempotent`: a 5xx or a connection error raises UncertainOutcomeError instead of a resend
        (a 429 is still waited out and resent: it says the request was not applied).
        """
        url = f"{self.base_url}{path}"
        # compact UTF-8 JSON: the bytes the destinations' size limits count
        data = None if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        attempt = 0
        rate_limit_waits = 0
        while True:
            self.pacer.wait()
            self.stats.requests += 1
            try:
                response = self.session.request(method, url, data=data, timeout=TIMEOUT)
            except (requests.ConnectionError, requests.Timeout) as error:
                if not idempotent:
                    raise UncertainOutcomeError(
                        f"{self.name}: {method} {path} got no answer ({type(error).__name__})"
                    ) from None
                attempt += 1
                if attempt >= self.policy.max_attempts:
                    raise DestinationUnavailableError(
                        f"{self.name}: {method} {path} failed {attempt} times: {type(error).__name__}"
                    ) from None
                self.stats.retries += 1
                wait = self.policy.backoff(attempt)
                log(
                    "sync.http_retry",
                    destination=self.name,
                    path=path,
                    error=type(error).__name__,
                    wait=round(wait, 2),
                )
                self._wait(wait)
                continue
            self.stats.statuses[response.status_code] = self.stats.statuses.get(response.status_code, 0) + 1
            if response.status_code == 429:
                self.stats.rate_limited += 1
                rate_limit_waits += 1
                if rate_limit_waits > self.policy.max_rate_limit_waits:
                    raise DestinationUnavailableError(
                        f"{self.name}: still rate limited after {rate_limit_waits - 1} waits "
                        f"({method} {path})"
                    )
                asked = retry_after_seconds(response)
                if asked is None and self._wait_hint is not None:
                    asked = self._wait_hint(response)
                wait = self.policy.backoff(rate_limit_waits) if asked is None else asked
                log("sync.rate_limited", destination=self.name, path=path, wait=round(wait, 2))
                self.pacer.hold(wait)
                continue
            if response.status_code in RETRY_STATUSES:
                if not idempotent:
                    raise UncertainOutcomeError(
                        f"{self.name}: {method} {path} answered {response.status_code}"
                    )
                attempt += 1
                if attempt >= self.policy.max_attempts:
                    raise DestinationUnavailableError(
                        f"{self.name}: {method} {path} answered {response.status_code} {attempt} times"
                    )
                self.stats.retries += 1
                wait = self.policy.backoff(attempt)
                log(
                    "sync.http_retry",
                    destination=self.name,
                    path=path,
                    status=response.status_code,
                    wait=round(wait, 2),
                )
                self._wait(wait)
                continue
            return response
