"""Expansion after onboarding: customers who reach more milestones early upgrade more often.

The relation the dashboard's score-vs-expansion panel shows (docs/definitions.md#score-vs-expansion),
recorded in the manifest so a test can assert the marts recover it. A customer whose tier
never changed and has a higher tier to go to (free or trial to pro, pro to enterprise)
upgrades with probability BASE_RATE + PER_MILESTONE_RATE x the milestones it reached within
var `checkpoint_day` days of signup. The upgrade falls uniformly after day `checkpoint_day`
and by day var `expansion_window_days` after signup, and is not made when that moment is
after as_of. ARR is left as drawn.

Draws come from a random stream of their own, so every other draw is unchanged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from onboard.generate.customers import Customers
from onboard.generate.rules import project_vars
from onboard.generate.text import DAY
from onboard.generate.vocabulary import ENTERPRISE, FREE, PRO, TRIAL

NOT_REACHED = -1
BASE_RATE = 0.01
PER_MILESTONE_RATE = 0.06
#: the stream of these draws: (seed, chunk index, EXPANSION_STREAM), apart from the chunk's own
EXPANSION_STREAM = 2_029
UPGRADE_TO = {FREE: PRO, TRIAL: PRO, PRO: ENTERPRISE}


@dataclass(frozen=True)
class Expansion:
    """What apply_expansion did to a chunk, by milestones reached within checkpoint_day days.

    candidates: customers who could upgrade (tier never changed, a higher tier exists) and are
    at least expansion_window_days old, so their whole window is in the data; upgraded: those
    of them given an upgrade inside the window.
    """

    candidates: Counter[str]
    upgraded: Counter[str]


def milestones_within(reached: np.ndarray, signup_at: np.ndarray, days: int) -> np.ndarray:
    """Milestones each customer reached at or before signup_at + days (reached: epoch seconds or -1)."""
    early = (reached != NOT_REACHED) & (reached - signup_at[:, None] <= days * DAY)
    return np.asarray(early.sum(axis=1), dtype=np.int64)


def apply_expansion(
    rng: np.random.Generator, customers: Customers, reached: np.ndarray, as_of: int
) -> tuple[Customers, Expansion]:
    """The customers with the injected upgrades (current tier and plan change moment), and the counts."""
    variables = project_vars()
    start, end = variables.checkpoint_day * DAY, variables.expansion_window_days * DAY
    n = len(customers)
    signup = customers.signup_at
    early = milestones_within(reached, signup, variables.checkpoint_day)
    draw = rng.random(n)
    moment = signup + start + 1 + (rng.random(n) * max(end - start - 1, 0)).astype(np.int64)
    can = (customers.plan_changed_at < 0) & np.isin(customers.current_tier, list(UPGRADE_TO))
    chosen = can & (draw < BASE_RATE + PER_MILESTONE_RATE * early) & (moment <= as_of)
    tier = customers.current_tier.copy()
    for before, after in UPGRADE_TO.items():
        tier[chosen & (customers.current_tier == before)] = after
    upgraded = replace(
        customers,
        current_tier=tier,
        plan_changed_at=np.where(chosen, moment, customers.plan_changed_at),
    )
    whole_window = can & (as_of - signup >= end)
    return upgraded, Expansion(
        candidates=Counter(
            {str(k): int(c) for k, c in zip(*np.unique(early[whole_window], return_counts=True), strict=True)}
        ),
        upgraded=Counter(
            {
                str(k): int(c)
                for k, c in zip(*np.unique(early[whole_window & chosen], return_counts=True), strict=True)
            }
        ),
    )
