"""The tracking plan (SPEC section 4), read from the `tracking_plan` var of dbt_project.yml.

The staging SQL reads the same structure when dbt parses, so the plan has one home.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from onboard.core.paths import DBT_PROJECT_FILE

PROPERTY_TYPES = ("text", "email", "tier", "positive_integer", "non_negative_integer")


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


class TrackingPlanError(ValueError):
    """The tracking plan in dbt_project.yml is not well formed."""


def parse_tracking_plan(project: dict) -> TrackingPlan:
    """Build a TrackingPlan from the parsed dbt_project.yml, checking its shape."""
    variables = project.get("vars") or {}
    raw_plan = variables.get("tracking_plan")
    if not isinstance(raw_plan, dict) or not raw_plan:
        raise TrackingPlanError("dbt_project.yml: vars.tracking_plan is missing or empty")
    events: dict[str, tuple[Property, ...]] = {}
    types_by_name: dict[str, tuple[str, str]] = {}
    for event_name, spec in raw_plan.items():
        spec = spec or {}
        properties: list[Property] = []
        for kind in ("required", "optional"):
            for name, prop in (spec.get(kind) or {}).items():
                prop_type = (prop or {}).get("type")
                if prop_type not in PROPERTY_TYPES:
                    raise TrackingPlanError(
                        f"dbt_project.yml: tracking_plan.{event_name}.{kind}.{name}: type "
                        f"{prop_type!r} is not one of {', '.join(PROPERTY_TYPES)}"
                    )
                column = (prop or {}).get("column", name)
                seen = types_by_name.setdefault(name, (prop_type, column))
                if seen != (prop_type, column):
                    raise TrackingPlanError(
                        f"dbt_project.yml: tracking_plan property {name!r} has type/column "
                        f"{seen} on one event and {(prop_type, column)} on {event_name}"
                    )
                properties.append(Property(name, prop_type, kind == "required", column))
        events[event_name] = tuple(properties)
    return TrackingPlan(
        events=events,
        plan_tiers=tuple(variables.get("plan_tiers") or ()),
        email_pattern=str(variables.get("email_pattern")),
    )


@cache
def load_tracking_plan(path: Path = DBT_PROJECT_FILE) -> TrackingPlan:
    """The project's tracking plan."""
    with path.open() as handle:
        return parse_tracking_plan(yaml.safe_load(handle))
