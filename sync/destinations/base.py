"""The contract between the sync's engine and its destinations.

The engine (plan, payloads, state, runner) knows a destination only through what is here:
its entry of sync/mappings.yml (`DestinationConfig`, which a destination may extend with
keys of its own), the `Plugin` registered under its name (value conversion, credentials,
opening a client), and the `Destination` client that sends records and says which were
acknowledged (`BatchOutcome`). A new destination is a folder beside hubspot/ and
customerio/ implementing these, one line in sync/destinations/__init__.py, and its entry
in mappings.yml.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Annotated, Any, Literal, Protocol

import requests
from pydantic import Field, PrivateAttr

from onboard.core.errors import UsageError
from onboard.core.http import HttpClient, RetryPolicy
from onboard.core.project_config import ConfigModel

#: the property every `removed: clear` destination sets on records that leave the model
SUPPRESS_FIELD = "suppress_onboarding"
FieldType = Literal["string", "number", "bool", "enumeration", "datetime", "date"]


# --- a destination's entry of mappings.yml ---------------------------------------------------


class FieldSpec(ConfigModel):
    """How one model column is sent, as mappings.yml writes it (every key optional)."""

    property: str | None = None
    type: FieldType = "string"
    label: str | None = None


class PrefixSpec(ConfigModel):
    """How every model column starting with a prefix is sent (columns a build may or may not have,
    such as one per configured experiment); property = property_prefix + the rest of the column."""

    property_prefix: str | None = None
    type: FieldType = "string"
    label: str | None = None


@dataclass(frozen=True)
class FieldMapping:
    """One model column sent as one destination property or attribute."""

    column: str
    property: str
    type: str
    label: str


class RateLimit(ConfigModel):
    """At most `requests` requests per `per_seconds` seconds."""

    requests: Annotated[int, Field(ge=1)] = 10
    per_seconds: Annotated[float, Field(gt=0)] = 1.0


class MomentsConfig(ConfigModel):
    """A destination's `moments:` of mappings.yml: a model of moments, each delivered exactly once.

    A moment (a journey event, a CSM task) is a row of `model` with a stable id. The sync
    sends each one once, after the destination acknowledged it never again; one first seen
    more than `max_age_hours` after it occurred is recorded as skipped_stale and never sent
    (docs/definitions.md#moment-delivery).
    """

    #: false: the moments are configured but not sent (HubSpot's CSM tasks ship switched off:
    #: each task needs its csm_owner to be a HubSpot owner)
    enabled: bool = True
    model: str
    #: the model's columns: the moment's id (the destination's de-duplication id), the record it
    #: belongs to (the key of the destination's records), its name and when it occurred
    id_column: str
    key_column: str = "customer_id"
    name_column: str = "name"
    time_column: str = "occurred_at"
    #: a boolean column: true means skipped_suppressed (the customer may no longer be reached)
    suppressed_column: str | None = None
    max_age_hours: Annotated[float, Field(gt=0)] = 48
    batch_size: Annotated[int, Field(ge=1)] = 100
    #: every name the model holds: sent (true) or not (false); a name not listed is an error
    send: dict[str, bool]


class DestinationConfig(ConfigModel):
    """One destination of mappings.yml; a destination with keys of its own subclasses it."""

    model: str
    key: str
    removed: Literal["keep", "clear"] = "clear"
    batch_size: Annotated[int, Field(ge=1)] = 100
    rate_limit: RateLimit = RateLimit()
    guarded: tuple[str, ...] = ()
    field_specs: dict[str, FieldSpec | None] = Field(alias="fields")
    #: model columns sent when the built model has them, by prefix (sync/mappings.yml explains)
    column_prefixes: dict[str, PrefixSpec | None] = Field(default_factory=dict)
    #: moments delivered once each after the records (journey events, CSM tasks); none when absent
    moments: MomentsConfig | None = None
    _name: str = PrivateAttr("")

    @property
    def name(self) -> str:
        """The destination's name: its key under `destinations:` (set by sync/config.py)."""
        return self._name

    def named(self, name: str) -> DestinationConfig:
        """This entry as the destination `name`."""
        copy = self.model_copy()
        copy._name = name
        return copy

    @property
    def active_moments(self) -> MomentsConfig | None:
        """The moments to deliver: `moments:` when present and enabled, else None."""
        return self.moments if self.moments is not None and self.moments.enabled else None

    @cached_property
    def fields(self) -> tuple[FieldMapping, ...]:
        """Every mapped column, in file order (property defaults to the column, label to the property)."""
        mappings = []
        for column, spec in self.field_specs.items():
            spec = spec or FieldSpec()
            prop = spec.property or column
            mappings.append(FieldMapping(column, prop, spec.type, spec.label or prop))
        return tuple(mappings)

    def with_columns(self, held: Sequence[str]) -> DestinationConfig:
        """This entry plus a field for each of the model's columns (`held`) that a `column_prefixes`
        entry matches and `fields` does not map; the same entry when there are none."""
        extra: dict[str, FieldSpec | None] = {}
        for prefix, spec in self.column_prefixes.items():
            spec = spec or PrefixSpec()
            start = prefix if spec.property_prefix is None else spec.property_prefix
            for column in held:
                if column.startswith(prefix) and column not in self.field_specs and column != self.key:
                    rest = column[len(prefix) :]
                    label = f"{spec.label} {rest.strip('_')}".strip() if spec.label else None
                    extra.setdefault(column, FieldSpec(property=start + rest, type=spec.type, label=label))
        if not extra:
            return self
        copy = self.model_copy(update={"field_specs": {**self.field_specs, **extra}})
        copy.__dict__.pop("fields", None)  # the cached field list is the original's
        return copy

    @property
    def columns(self) -> list[str]:
        """The model columns to read: the key, then every mapped column."""
        return [self.key, *(f.column for f in self.fields if f.column != self.key)]


# --- records and what a destination answers ---------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One record to send."""

    seq: int
    kind: str
    key: str
    payload: dict[str, Any]
    payload_hash: str
    guarded_hash: str


@dataclass
class BatchOutcome:
    """Which records of a batch the destination acknowledged, and which it refused."""

    acknowledged: list[Record] = field(default_factory=list)
    failed: list[tuple[Record, int | None, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Moment:
    """One moment to deliver once: a row of the destination's moments model (MomentsConfig)."""

    moment_id: str
    key: str
    name: str
    occurred_at: datetime
    #: the model's other columns, as read (None for null)
    data: dict[str, Any]


@dataclass
class MomentOutcome:
    """Which moments the destination acknowledged, and which it refused (status, message)."""

    acknowledged: list[Moment] = field(default_factory=list)
    failed: list[tuple[Moment, int | None, str]] = field(default_factory=list)


class AuthenticationError(UsageError):
    """The destination refused the credentials (401/403): the run stops."""


class EndpointNotFoundError(UsageError):
    """The destination has no such endpoint (404/405): its base URL is wrong, so the run stops."""


class SetupNeededError(UsageError):
    """The destination lacks a property or option the mapping needs: the run stops before sending."""


@dataclass(frozen=True)
class Credentials:
    """A destination's base URL and secrets, from the environment."""

    base_url: str
    token: str = ""
    user: str = ""

    def __repr__(self) -> str:
        return f"Credentials(base_url={self.base_url!r}, secrets hidden)"


class Destination(Protocol):
    """A destination client, open for one run."""

    name: str
    client: HttpClient

    def setup(self) -> list[str]: ...

    def preflight(self, values: dict[str, set[str]]) -> None: ...

    def send(self, records: list[Record]) -> BatchOutcome: ...

    def send_moments(self, moments: list[Moment]) -> MomentOutcome: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Plugin:
    """A destination as the engine sees it, registered by name in sync/destinations/__init__.py."""

    #: its entry of mappings.yml: DestinationConfig, or a subclass with the destination's own keys
    config_model: type[DestinationConfig]
    #: what a blanked property holds, and what SUPPRESS_FIELD holds, on a record that left the model
    blank: Any
    suppressed: Any
    #: value(mapping, value): a model value as the destination wants it in a payload (the
    #: conversion itself, not a wrapper: it runs for every field of every row)
    value: Callable[[FieldMapping, Any], Any]
    #: credentials(): the endpoint and secrets, from the destination's environment variables
    credentials: Callable[[], Credentials]
    #: client(config, credentials, policy): a client for one run
    client: Callable[[Any, Credentials, RetryPolicy | None], Destination]

    def open(
        self, config: DestinationConfig, creds: Credentials | None = None, policy: RetryPolicy | None = None
    ) -> Destination:
        """A client for one run (credentials from the environment unless given)."""
        if not isinstance(config, self.config_model):
            wanted, given = self.config_model.__name__, type(config).__name__
            raise TypeError(f"{config.name} needs a {wanted}, got {given}")
        return self.client(config, creds or self.credentials(), policy)


# --- reading answers ---------------------------------------------------------------------------


def error_message(response: requests.Response) -> str:
    """An error answer's message (JSON `message`, Customer.io's `meta.error`, else the body), shortened."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if not isinstance(body, dict):
        return str(body)[:1000]
    meta = body.get("meta")
    return str(body.get("message") or (isinstance(meta, dict) and meta.get("error")) or body)[:1000]


def check_auth(response: requests.Response, name: str, variables: str) -> None:
    """Stop on 401/403, naming the environment variables to check (never their values)."""
    if response.status_code in (401, 403):
        raise AuthenticationError(
            f"{name} answered {response.status_code} ({error_message(response)[:200]}); check {variables}"
        )


def check_endpoint(response: requests.Response, name: str, path: str, variable: str) -> None:
    """Stop on 404/405 from an endpoint every record goes through: the URL is wrong, not the records."""
    if response.status_code in (404, 405):
        raise EndpointNotFoundError(
            f"{name} answered {response.status_code} for {path} ({error_message(response)[:200]}); "
            f"check {variable}"
        )
