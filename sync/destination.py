"""What every destination shares: the batch outcome, the client protocol, reading error answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import requests

from onboard.core.errors import UsageError
from onboard.core.http import HttpClient
from sync.plan import Record


class AuthenticationError(UsageError):
    """The destination refused the credentials (401/403): the run stops."""


class SetupNeededError(UsageError):
    """The destination lacks a property or option the mapping needs: the run stops before sending."""


@dataclass
class BatchOutcome:
    """Which records of a batch the destination acknowledged, and which it refused."""

    acknowledged: list[Record] = field(default_factory=list)
    failed: list[tuple[Record, int | None, str]] = field(default_factory=list)


class Destination(Protocol):
    """A destination client."""

    name: str
    client: HttpClient

    def setup(self) -> list[str]: ...

    def preflight(self, values: dict[str, set[str]]) -> None: ...

    def send(self, records: list[Record]) -> BatchOutcome: ...

    def close(self) -> None: ...


def error_message(response: requests.Response) -> str:
    """The message of an error answer (JSON `message`, else the body), shortened."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    return str(body.get("message") or body)[:1000] if isinstance(body, dict) else str(body)[:1000]


def check_auth(response: requests.Response, name: str, variables: str) -> None:
    """Stop on 401/403, naming the environment variables to check (never their values)."""
    if response.status_code in (401, 403):
        raise AuthenticationError(
            f"{name} answered {response.status_code} ({error_message(response)[:200]}); check {variables}"
        )
