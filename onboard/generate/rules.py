"""The project's rules the generator follows, read from the dbt vars and seeds, never copied.

The generator simulates a product: its funnel, segments and tier mix are its own. What ties
the data to the models is the project's: the plan tiers and tracks (vars `plan_tiers`,
`tracks`), the routing thresholds that decide each customer's track (var `routing`, which
the manifest's customers_by_track applies as int_customers_routed does), the milestones'
events in step order (seeds/milestones.csv) and which of them is activation and the team
invite (vars `activation_milestone`, `team_invite_milestone`). All come through the
project's one configuration reader (onboard/core/project_config.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from onboard.core.project_config import ConfigError, ConfigModel, dbt_vars_as, read_seed


class Routing(ConfigModel):
    """Var `routing` (docs/definitions.md#routing)."""

    high_touch_tiers: tuple[str, ...]
    high_touch_min_arr: float
    self_serve_tiers: tuple[str, ...]
    self_serve_max_arr: float
    self_serve_max_company_size: float


class GeneratorVars(ConfigModel):
    """The vars of dbt_project.yml the generator reads."""

    plan_tiers: tuple[str, ...]
    tracks: tuple[str, ...]
    routing: Routing
    activation_milestone: str
    team_invite_milestone: str
    checkpoint_day: int
    expansion_window_days: int


@cache
def project_vars() -> GeneratorVars:
    """The generator's vars, as dbt_project.yml writes them (the defaults a build uses)."""
    return dbt_vars_as(GeneratorVars)


@cache
def milestone_events() -> dict[str, str]:
    """Milestone -> its event name, in step order (seeds/milestones.csv)."""
    rows = sorted(read_seed("milestones"), key=lambda row: int(row["step"]))
    return {row["milestone"]: row["event_name"] for row in rows}


def milestone_event(milestone: str) -> str:
    """The event whose first occurrence reaches `milestone`; ConfigError when the seed lacks it."""
    events = milestone_events()
    if milestone not in events:
        raise ConfigError(
            f"seeds/milestones.csv: milestone: expected a row for {milestone!r} (a var names it)"
        )
    return events[milestone]


def codes(names: Sequence[str], wanted: Sequence[str], where: str) -> tuple[int, ...]:
    """The positions of `wanted` in `names`, a var's values; ConfigError naming `where` if one is missing."""
    missing = [name for name in wanted if name not in names]
    if missing:
        raise ConfigError(
            f"dbt_project.yml: {where}: expected {', '.join(map(repr, missing))} among {list(names)!r}"
        )
    return tuple(names.index(name) for name in wanted)
