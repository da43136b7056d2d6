"""Every value the sync-facing marts can hold in their coded columns, read from the dbt project.

The SQL models write these values from the same vars and seeds (dbt_project.yml `vars:`,
seeds/), and the marts' accepted_values and relationships tests
(models/marts/_marts__models.yml) hold every build to them, so the models, the tests and
the sync read one source. `onboard sync <destination> --setup` keeps a destination's
enumeration options in step with these, so a new track, milestone or severity is one edit
of dbt_project.yml or a seed, then `--setup`. tests/test_sync.py
(`test_the_values_the_sync_offers_follow_the_vars_a_build_uses`) builds with vars
overridden and checks that the sync's values and the built marts follow together.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from onboard.core.paths import DBT_PROJECT_FILE
from onboard.core.project_config import SEEDS_DIR, ConfigModel, dbt_vars_as, seed_column


class PriorityBand(ConfigModel):
    """One entry of var priority_score_bands."""

    priority: str
    below: float


class EnumerationVars(ConfigModel):
    """The dbt vars that name the values of the marts' coded columns (dbt_project.yml explains each)."""

    tracks: tuple[str, ...]
    plan_tiers: tuple[str, ...]
    #: from the most confident; int_customers_routed unpacks exactly three
    routing_confidences: tuple[str, str, str]
    #: in the order int_customers_suppressed checks them; it unpacks exactly seven
    suppression_reasons: tuple[str, str, str, str, str, str, str]
    risk_action_thresholds: dict[str, float]
    default_risk_action: str
    all_milestones_action: str
    priority_score_bands: tuple[PriorityBand, ...]
    lowest_priority: str
    #: in lifecycle order; int_customers_checkpointed unpacks exactly five
    checkpoint_states: tuple[str, str, str, str, str]
    max_recovery_cycles: Annotated[int, Field(ge=0)]


def enumeration_vars(
    overrides: Mapping[str, Any] | None = None, project_file: Path = DBT_PROJECT_FILE
) -> EnumerationVars:
    """The vars of dbt_project.yml, with `overrides` (what a build was given with --vars) over them."""
    return dbt_vars_as(EnumerationVars, project_file, overrides)


def checkpoint_states(variables: EnumerationVars) -> tuple[str, ...]:
    """checkpoint_state's values in lifecycle order, as macros/checkpoint_states.sql expands them."""
    onboarding, activated, recovery, win_back, exited = variables.checkpoint_states
    cycles = (f"{recovery}_{n}" for n in range(1, variables.max_recovery_cycles + 1))
    return (onboarding, activated, *cycles, win_back, exited)


def column_values(
    overrides: Mapping[str, Any] | None = None,
    project_file: Path = DBT_PROJECT_FILE,
    seeds: Path = SEEDS_DIR,
) -> dict[str, tuple[str, ...]]:
    """Column name -> the values the marts can hold in it (besides null), each once, in rule order."""
    variables = enumeration_vars(overrides, project_file)
    actions = (*seed_column("milestones", "next_action", seeds), variables.all_milestones_action)
    priorities = (*(band.priority for band in variables.priority_score_bands), variables.lowest_priority)
    return {
        "track": variables.tracks,
        "routing_confidence": variables.routing_confidences,
        "next_best_action": tuple(dict.fromkeys(actions)),
        "action_priority": priorities,
        "checkpoint_state": checkpoint_states(variables),
        "stall_step": seed_column("milestones", "milestone", seeds),
        "stall_severity": seed_column("stall_severity_rules", "severity", seeds),
        "risk_action": (*variables.risk_action_thresholds, variables.default_risk_action),
        "suppression_reason": variables.suppression_reasons,
        "plan_tier": variables.plan_tiers,
    }
