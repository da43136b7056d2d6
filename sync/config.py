"""The sync's configuration: sync/mappings.yml (or $ONBOARD_SYNC_CONFIG) and the destinations' env vars.

Secrets come only from the environment and are never printed: `Credentials.__repr__`
hides them, and errors name the variable, not its value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from onboard.core.errors import InputError, UsageError
from onboard.core.paths import PROJECT_DIR

CONFIG_FILE = PROJECT_DIR / "sync" / "mappings.yml"
DESTINATIONS = ("hubspot", "customerio")
FIELD_TYPES = ("string", "number", "bool", "enumeration", "datetime", "date")
REMOVAL_MODES = ("keep", "clear")
SUPPRESS_FIELD = "suppress_onboarding"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class FieldMapping:
    """One model column sent as one destination property or attribute."""

    column: str
    property: str
    type: str
    label: str


@dataclass(frozen=True)
class RateLimit:
    """At most `requests` requests per `per_seconds` seconds."""

    requests: int
    per_seconds: float


@dataclass(frozen=True)
class DestinationConfig:
    """One destination of mappings.yml."""

    name: str
    model: str
    key: str
    removed: str
    batch_size: int
    rate_limit: RateLimit
    guarded: tuple[str, ...]
    fields: tuple[FieldMapping, ...]
    property_group: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """The model columns to read: the key, then every mapped column."""
        return [self.key, *(f.column for f in self.fields if f.column != self.key)]


@dataclass(frozen=True)
class SyncConfig:
    """mappings.yml."""

    max_change_share: float
    max_as_of_age_hours: float
    destinations: dict[str, DestinationConfig]


def _require(raw: dict[str, Any], key: str, where: str) -> Any:
    if key not in raw:
        raise InputError(f"{where}: missing {key}")
    return raw[key]


def _destination(name: str, raw: Any, where: str) -> DestinationConfig:
    where = f"{where}: destinations.{name}"
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected a mapping")
    removed = str(raw.get("removed", "clear"))
    if removed not in REMOVAL_MODES:
        raise InputError(f"{where}.removed: expected keep or clear, got {removed}")
    fields = []
    for column, spec in (_require(raw, "fields", where) or {}).items():
        spec = spec or {}
        kind = str(spec.get("type", "string"))
        if kind not in FIELD_TYPES:
            raise InputError(
                f"{where}.fields.{column}.type: expected one of {', '.join(FIELD_TYPES)}, got {kind}"
            )
        prop = str(spec.get("property", column))
        fields.append(FieldMapping(str(column), prop, kind, str(spec.get("label", prop))))
    properties = [f.property for f in fields]
    if len(set(properties)) != len(properties):
        raise InputError(f"{where}.fields: two columns map to the same property")
    if removed == "clear" and SUPPRESS_FIELD not in properties:
        raise InputError(f"{where}: removed: clear needs a field mapped to {SUPPRESS_FIELD}")
    guarded = tuple(str(g) for g in raw.get("guarded") or ())
    unknown = [g for g in guarded if g not in {f.column for f in fields}]
    if unknown:
        raise InputError(f"{where}.guarded: not mapped columns: {', '.join(unknown)}")
    limit = raw.get("rate_limit") or {}
    batch_size = int(raw.get("batch_size", 100))
    if batch_size < 1:
        raise InputError(f"{where}.batch_size: expected a whole number >= 1")
    return DestinationConfig(
        name=name,
        model=str(_require(raw, "model", where)),
        key=str(_require(raw, "key", where)),
        removed=removed,
        batch_size=batch_size,
        rate_limit=RateLimit(int(limit.get("requests", 10)), float(limit.get("per_seconds", 1))),
        guarded=guarded,
        fields=tuple(fields),
        property_group={str(k): str(v) for k, v in (raw.get("property_group") or {}).items()},
    )


def load_sync_config(path: Path | None = None) -> SyncConfig:
    """The sync configuration (ONBOARD_SYNC_CONFIG, else sync/mappings.yml)."""
    path = path or Path(os.environ.get("ONBOARD_SYNC_CONFIG") or CONFIG_FILE)
    if not path.exists():
        raise InputError(f"{path}: sync configuration not found")
    where = str(path)
    try:
        return _parse(yaml.safe_load(path.read_text()) or {}, where)
    except (yaml.YAMLError, ValueError, TypeError, AttributeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"{where}: not a valid sync configuration ({first})") from None


def _parse(raw: dict[str, Any], where: str) -> SyncConfig:
    """The checked structure of a sync configuration."""
    destinations = raw.get("destinations") or {}
    unknown = set(destinations) - set(DESTINATIONS)
    if unknown:
        raise InputError(f"{where}: unknown destinations {', '.join(sorted(unknown))}")
    share = float(raw.get("max_change_share", 0.25))
    if not 0 <= share <= 1:
        raise InputError(f"{where}: max_change_share must be between 0 and 1")
    return SyncConfig(
        max_change_share=share,
        max_as_of_age_hours=float(raw.get("max_as_of_age_hours", 24)),
        destinations={name: _destination(name, spec, where) for name, spec in destinations.items()},
    )


@dataclass(frozen=True)
class Credentials:
    """A destination's base URL and secrets, from the environment."""

    base_url: str
    token: str = ""
    user: str = ""

    def __repr__(self) -> str:
        return f"Credentials(base_url={self.base_url!r}, secrets hidden)"


def _env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise UsageError(f"environment variable {name} is not set (needed to reach the destination)")
    return value


def _base_url(variable: str, default: str) -> str:
    url = (os.environ.get(variable) or default).rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UsageError(f"{variable}: expected an http(s) URL, got {url!r}")
    if parsed.scheme == "http" and parsed.hostname not in LOOPBACK_HOSTS:
        raise UsageError(f"{variable}: plain http is refused except on loopback; use https")
    return url


def credentials(destination: str) -> Credentials:
    """The destination's endpoint and secrets (SPEC section 8 env vars)."""
    if destination == "hubspot":
        url = _base_url("HUBSPOT_BASE_URL", "https://api.hubapi.com")
        return Credentials(url, token=_env("HUBSPOT_ACCESS_TOKEN"))
    url = _base_url("CUSTOMERIO_TRACK_URL", "https://track.customer.io")
    return Credentials(url, token=_env("CUSTOMERIO_API_KEY"), user=_env("CUSTOMERIO_SITE_ID"))
