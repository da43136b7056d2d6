"""The sync's configuration: sync/mappings.yml (or $ONBOARD_SYNC_CONFIG).

Read through the project's one configuration reader (onboard/core/project_config.py), so
every mistake is one line naming the file, the line, the key and what was expected. Each
destination's entry is read into the model its plug-in declares (sync/destinations/), so a
destination's own keys are checked with the common ones. The checks that span keys (two
columns on one property, `removed: clear` without the suppression field, a guarded field
that is not mapped) come after, worded the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, Field, ValidationError, create_model

from onboard.core.paths import PROJECT_DIR
from onboard.core.project_config import ConfigError, ConfigModel, describe_error, parse_yaml, read_text
from sync.destinations import PLUGINS
from sync.destinations.base import SUPPRESS_FIELD, DestinationConfig

CONFIG_FILE = PROJECT_DIR / "sync" / "mappings.yml"
CONFIG_ENV = "ONBOARD_SYNC_CONFIG"
#: the destinations a configuration may name: those registered in sync/destinations/
DESTINATIONS = tuple(PLUGINS)


class SyncSettings(ConfigModel):
    """The keys of mappings.yml besides `destinations`."""

    max_change_share: Annotated[float, Field(ge=0, le=1)] = 0.25
    max_as_of_age_hours: Annotated[float, Field(gt=0)] = 24


#: `destinations:`, one optional key per registered destination, each read into its plug-in's model
DestinationsFile: type[BaseModel] = create_model(
    "DestinationsFile",
    __base__=ConfigModel,
    **{name: (plugin.config_model, None) for name, plugin in PLUGINS.items()},  # type: ignore[call-overload]
)
SyncFile: type[SyncSettings] = create_model(
    "SyncFile", __base__=SyncSettings, destinations=(DestinationsFile, DestinationsFile())
)


@dataclass(frozen=True)
class SyncConfig:
    """mappings.yml, checked."""

    max_change_share: float
    max_as_of_age_hours: float
    destinations: dict[str, DestinationConfig]
    #: where it was read from, and its text: a check made later (against the models) names file and line too
    source: str = str(CONFIG_FILE)
    text: str = field(default="", repr=False)

    def describe(self, loc: tuple[str | int, ...], expected: str, got: Any) -> str:
        """One line, `file:line: key: expected ..., got ...`, for a key of this configuration."""
        return _describe(self.text, self.source, loc, expected, got)


def config_path() -> Path:
    """ONBOARD_SYNC_CONFIG, else sync/mappings.yml."""
    return Path(os.environ.get(CONFIG_ENV) or CONFIG_FILE)


def load_sync_config(path: Path | None = None) -> SyncConfig:
    """The sync configuration (ONBOARD_SYNC_CONFIG, else sync/mappings.yml); ConfigError when broken."""
    path = path or config_path()
    if not path.exists():
        raise ConfigError(f"{path}: sync configuration not found")
    return parse_sync_config(read_text(path), str(path))


def parse_sync_config(text: str, source: str) -> SyncConfig:
    """A sync configuration's text, checked; errors name `source`, the line and the key."""
    raw = parse_yaml(text, SyncFile, source)
    entries = dict(dict(raw)["destinations"])
    destinations = {name: entry.named(name) for name, entry in entries.items() if entry is not None}
    for name, destination in destinations.items():
        problem = _problem(name, destination)
        if problem is not None:
            loc, expected, got = problem
            raise ConfigError(_describe(text, source, loc, expected, got))
    return SyncConfig(raw.max_change_share, raw.max_as_of_age_hours, destinations, source, text)


def _problem(name: str, destination: DestinationConfig) -> tuple[tuple[str | int, ...], str, Any] | None:
    """The first check spanning keys that an entry breaks: (key path, what was expected, the value)."""
    where: tuple[str | int, ...] = ("destinations", name)
    seen: dict[str, str] = {}
    for mapping in destination.fields:
        if mapping.property in seen:
            return (
                (*where, "fields", mapping.column, "property"),
                f"a property no other column maps to ({seen[mapping.property]} maps to it too)",
                mapping.property,
            )
        seen[mapping.property] = mapping.column
    if destination.removed == "clear" and SUPPRESS_FIELD not in seen:
        return (
            (*where, "removed"),
            f"keep, or a field mapped to {SUPPRESS_FIELD} (clear sets it on records that leave the model)",
            destination.removed,
        )
    mapped = {mapping.column for mapping in destination.fields}
    for index, column in enumerate(destination.guarded):
        if column not in mapped:
            return (*where, "guarded", index), "a column mapped under fields", column
    return None


def _describe(text: str, source: str, loc: tuple[str | int, ...], expected: str, got: Any) -> str:
    """One line, `file:line: key: expected ..., got ...`, as the configuration reader words its own."""
    problem = ValueError(f"expected {expected}")
    error = ValidationError.from_exception_data(
        "SyncConfig", [{"type": "value_error", "loc": loc, "input": got, "ctx": {"error": problem}}]
    )
    return describe_error(error, source, yaml.compose(text, Loader=yaml.SafeLoader))
