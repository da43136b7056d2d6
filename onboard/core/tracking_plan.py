"""The tracking plan (docs/definitions.md#tracking-plan-events), read from the `tracking_plan` var of
dbt_project.yml.

The staging SQL reads the same structure when dbt parses, so the plan has one home. Read
through the project's one configuration reader (onboard/core/project_config.py): a mistake
is one line, `dbt_project.yml:97: vars.tracking_plan.signup_completed.required.email.type:
expected ...`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import ValidationError, field_validator

from onboard.core.paths import DBT_PROJECT_FILE
from onboard.core.project_config import ConfigError, ConfigModel, dbt_vars_as, describe_error

PropertyType = Literal["text", "email", "tier", "positive_integer", "non_negative_integer"]
PROPERTY_TYPES: tuple[str, ...] = get_args(PropertyType)
PROPERTY_KINDS = ("required", "optional")


class PropertySpec(ConfigModel):
    """One property of an event in the plan: its type, and its staging column (default: its name)."""

    type: PropertyType
    column: str | None = None


class EventSpec(ConfigModel):
    """One event of the plan: its required and optional properties."""

    required: dict[str, PropertySpec] | None = None
    optional: dict[str, PropertySpec] | None = None


class PlanVars(ConfigModel):
    """The vars of dbt_project.yml that make up the tracking plan."""

    tracking_plan: dict[str, EventSpec | None]
    plan_tiers: tuple[str, ...] = ()
    email_pattern: str

    @field_validator("tracking_plan")
    @classmethod
    def _has_events(cls, value: dict[str, EventSpec | None]) -> dict[str, EventSpec | None]:
        if not value:
            raise ValueError("at least one event")
        return value


@dataclass(frozen=True)
class Property:
    """One property of one event in the plan."""

    name: str
    type: str
    required: bool
    column: str


@dataclass(frozen=True)
class TrackingPlan:
    """Every event of the plan, its properties, the valid tiers and the email pattern."""

    events: dict[str, tuple[Property, ...]]
    plan_tiers: tuple[str, ...]
    email_pattern: str

    @property
    def event_names(self) -> tuple[str, ...]:
        return tuple(self.events)

    def required(self, event_name: str) -> tuple[Property, ...]:
        return tuple(p for p in self.events[event_name] if p.required)

    def is_valid_email(self, value: str) -> bool:
        return re.fullmatch(self.email_pattern, value) is not None


def _error(path: Path, loc: tuple[str, ...], expected: str, got: Any) -> ConfigError:
    """A check across events, worded as the reader words a model's: file:line: vars.key: expected ..."""
    problem = ValueError(expected)
    error = ValidationError.from_exception_data(
        "PlanVars", [{"type": "value_error", "loc": loc, "input": got, "ctx": {"error": problem}}]
    )
    root = yaml.compose(path.read_text(), Loader=yaml.SafeLoader)
    variables = None
    if isinstance(root, yaml.MappingNode):
        variables = next((value for key, value in root.value if key.value == "vars"), None)
    return ConfigError(describe_error(error, str(path), variables, prefix="vars."))


def tracking_plan(variables: PlanVars, path: Path = DBT_PROJECT_FILE) -> TrackingPlan:
    """The TrackingPlan of checked vars; a property has one type and column on every event, and a
    column belongs to one property (staging makes one column per property)."""
    events: dict[str, tuple[Property, ...]] = {}
    seen: dict[str, tuple[str, str]] = {}
    owners: dict[str, str] = {}
    for event_name, spec in variables.tracking_plan.items():
        properties: list[Property] = []
        for kind in PROPERTY_KINDS:
            declared = (getattr(spec, kind) if spec is not None else None) or {}
            for name, prop in declared.items():
                column = prop.column or name
                loc = ("tracking_plan", event_name, kind, name)
                first = seen.setdefault(name, (prop.type, column))
                if first != (prop.type, column):
                    raise _error(
                        path,
                        loc,
                        f"the type and column {name} has on the events before ({first[0]}, {first[1]})",
                        {"type": prop.type, "column": column},
                    )
                owner = owners.setdefault(column, name)
                if owner != name:
                    expected = f"a column no other property has ({owner} has it)"
                    raise _error(path, (*loc, "column"), expected, column)
                properties.append(Property(name, prop.type, kind == "required", column))
        events[event_name] = tuple(properties)
    return TrackingPlan(events=events, plan_tiers=variables.plan_tiers, email_pattern=variables.email_pattern)


@cache
def load_tracking_plan(path: Path = DBT_PROJECT_FILE) -> TrackingPlan:
    """The project's tracking plan."""
    return tracking_plan(dbt_vars_as(PlanVars, path), path)
