"""Every value the sync-facing models can produce in their coded columns, read from the dbt project.

`onboard sync hubspot --setup` keeps HubSpot's enumeration options in step with these, so
a new track, milestone or severity is one edit of dbt_project.yml or a seed, then `--setup`.
tests/test_sync_values.py checks them against the values a build really produces.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import yaml

from onboard.core.paths import DBT_PROJECT_FILE, PROJECT_DIR

SEEDS_DIR = PROJECT_DIR / "seeds"
#: int_customers_routed.sql
ROUTING_CONFIDENCES = ("high", "medium", "low")
#: int_customers_suppressed.sql, in the order the reasons are checked
SUPPRESSION_REASONS = ("deleted", "churned", "unsubscribed", "payment_failed", "trial_expired", "activated")
#: int_customers_at_risk.sql: below every threshold
DEFAULT_RISK_ACTION = "normal_onboarding"


def _seed(name: str, column: str, seeds: Path) -> list[str]:
    with (seeds / f"{name}.csv").open(newline="") as handle:
        return [row[column] for row in csv.DictReader(handle)]


@cache
def column_values(
    project_file: Path = DBT_PROJECT_FILE, seeds: Path = SEEDS_DIR
) -> dict[str, tuple[str, ...]]:
    """Column name -> the values the marts can hold in it (besides null)."""
    with project_file.open() as handle:
        variables = (yaml.safe_load(handle) or {}).get("vars") or {}
    milestones = _seed("milestones", "milestone", seeds)
    actions = [*_seed("milestones", "next_action", seeds), str(variables["all_milestones_action"])]
    priorities = [str(band["priority"]) for band in variables["priority_score_bands"]]
    cycles = int(variables["max_recovery_cycles"])
    return {
        "track": tuple(str(t) for t in variables["tracks"]),
        "routing_confidence": ROUTING_CONFIDENCES,
        "next_best_action": tuple(dict.fromkeys(actions)),
        "action_priority": (*priorities, str(variables["lowest_priority"])),
        "checkpoint_state": (
            "onboarding",
            "activated",
            *(f"recovery_{n}" for n in range(1, cycles + 1)),
            "win_back",
            "exited",
        ),
        "stall_step": tuple(milestones),
        "stall_severity": tuple(dict.fromkeys(_seed("stall_severity_rules", "severity", seeds))),
        "risk_action": (*(str(k) for k in variables["risk_action_thresholds"]), DEFAULT_RISK_ACTION),
        "suppression_reason": SUPPRESSION_REASONS,
        "plan_tier": tuple(str(t) for t in variables["plan_tiers"]),
    }
