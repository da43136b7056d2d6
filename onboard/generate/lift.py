"""`--lift EXPERIMENT:ARM:DELTA`: a known effect of an experiment's arm on 14-day activation.

The arm of each customer is the project's assignment (docs/definitions.md#experiment-assignment,
`ExperimentConfig.arm_index` of onboard/core/project_config.py), and
eligibility is the experiment's window and its tier / source lists applied to what the
generator drew for the signup. In the lifted arm, a customer not activated within 14 days
of signup is made to activate within them with probability DELTA / (1 - p), p being the
chunk's share activated within 14 days among the matured, so the arm's 14-day activation
rate moves by about DELTA (a negative DELTA removes activations with probability
|DELTA| / p). The new activation falls uniformly in the 14 days after signup (and is not
reached yet when after as_of); the first milestone is moved before it when needed.

Draws come from a random stream of their own, so without --lift the output is unchanged.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC

import numpy as np

from onboard.core.errors import UsageError
from onboard.core.project_config import ExperimentConfig
from onboard.generate.customers import Customers
from onboard.generate.text import DAY, HOUR
from onboard.generate.vocabulary import SIGNUP_SOURCES, TIERS

NOT_REACHED = -1
WINDOW_DAYS = 14
#: the stream of the lift's draws: (seed, chunk index, LIFT_STREAM), apart from the chunk's own
LIFT_STREAM = 1_017


@dataclass(frozen=True)
class Lift:
    """`--lift EXPERIMENT:ARM:DELTA`."""

    experiment: str
    arm: str
    delta: float

    @property
    def key(self) -> str:
        return f"{self.experiment}:{self.arm}"


def parse_lift(text: str) -> Lift:
    """Parse `EXPERIMENT:ARM:DELTA` (e.g. `global_holdout:automated:+0.08`); UsageError otherwise."""
    parts = [part.strip() for part in text.strip().split(":")]
    if len(parts) != 3 or not all(parts):
        raise UsageError(
            f"--lift {text!r}: expected EXPERIMENT:ARM:DELTA, e.g. global_holdout:automated:+0.08"
        )
    try:
        delta = float(parts[2])
    except ValueError:
        raise UsageError(f"--lift {text!r}: delta {parts[2]!r} is not a number in [-1, 1]") from None
    if not (math.isfinite(delta) and -1 <= delta <= 1 and delta != 0):
        raise UsageError(f"--lift {text!r}: delta {parts[2]} is not a non-zero number in [-1, 1]")
    return Lift(parts[0], parts[1], delta)


@dataclass(frozen=True)
class LiftPlan:
    """A lift and the experiment whose assignment picks its customers."""

    lift: Lift
    experiment: ExperimentConfig


def plan_lifts(lifts: tuple[Lift, ...], experiments: tuple[ExperimentConfig, ...]) -> tuple[LiftPlan, ...]:
    """Each lift with its experiment; UsageError for an experiment or arm not configured, or a repeat."""
    by_name = {experiment.name: experiment for experiment in experiments}
    plans: list[LiftPlan] = []
    for lift in lifts:
        experiment = by_name.get(lift.experiment)
        if experiment is None:
            known = ", ".join(by_name) or "none is configured"
            raise UsageError(
                f"--lift {lift.key}: no experiment {lift.experiment!r} in var experiments ({known})"
            )
        arms = [arm.name for arm in experiment.arms]
        if lift.arm not in arms:
            raise UsageError(
                f"--lift {lift.key}: experiment {lift.experiment} has no arm {lift.arm!r} ({arms})"
            )
        if any(plan.lift.key == lift.key for plan in plans):
            raise UsageError(f"--lift {lift.key} is given more than once")
        plans.append(LiftPlan(lift, experiment))
    return tuple(plans)


def arm_indexes(experiment: ExperimentConfig, customer_ids: list[str]) -> np.ndarray:
    """Each customer's arm (index in config order): ExperimentConfig.arm_index, the project's assignment."""
    return np.fromiter(
        (experiment.arm_index(cid) for cid in customer_ids), dtype=np.int64, count=len(customer_ids)
    )


def eligible(experiment: ExperimentConfig, customers: Customers) -> np.ndarray:
    """Whether each customer enters the experiment: signup in the window, tier and source listed."""
    start = experiment.starts_at.replace(tzinfo=UTC).timestamp()
    inside = customers.signup_at >= start
    if experiment.ends_at is not None:
        inside &= customers.signup_at < experiment.ends_at.replace(tzinfo=UTC).timestamp()
    if experiment.eligible.plan_tiers is not None:
        tiers = [TIERS.index(tier) for tier in experiment.eligible.plan_tiers if tier in TIERS]
        inside &= np.isin(customers.signup_tier, tiers)
    if experiment.eligible.signup_sources is not None:
        sources = [SIGNUP_SOURCES.index(s) for s in experiment.eligible.signup_sources if s in SIGNUP_SOURCES]
        inside &= np.isin(customers.signup_source, sources)
    return np.asarray(inside, dtype=bool)


def apply_lifts(
    rng: np.random.Generator,
    plans: tuple[LiftPlan, ...],
    customers: Customers,
    reached: np.ndarray,
    activation: int,
    as_of: int,
) -> tuple[Counter[str], Counter[str]]:
    """Move the lifted arms' 14-day activation in `reached` (in place); (customers, changed) per lift."""
    in_arm: Counter[str] = Counter()
    changed: Counter[str] = Counter()
    if not plans:
        return in_arm, changed
    ids = [str(cid) for cid in customers.customer_id.to_pylist()]
    signup = customers.signup_at
    activated_at = reached[:, activation]
    within = (activated_at != NOT_REACHED) & (activated_at - signup <= WINDOW_DAYS * DAY)
    matured = as_of - signup >= WINDOW_DAYS * DAY
    base = float(within[matured].mean()) if matured.any() else 0.5
    for plan in plans:
        arm = [a.name for a in plan.experiment.arms].index(plan.lift.arm)
        members = eligible(plan.experiment, customers) & (arm_indexes(plan.experiment, ids) == arm)
        in_arm[plan.lift.key] += int(members.sum())
        draw = rng.random(len(signup))
        if plan.lift.delta > 0:
            chosen = members & ~within & (draw < plan.lift.delta / max(1 - base, 1e-9))
            moment = signup + rng.uniform(HOUR, WINDOW_DAYS * DAY, len(signup)).astype(np.int64)
            first = np.minimum(signup + (moment - signup) // 2, moment)
            reached[chosen, activation] = np.where(moment[chosen] <= as_of, moment[chosen], NOT_REACHED)
            step_one = reached[:, 0]
            earlier = chosen & (moment <= as_of) & ((step_one == NOT_REACHED) | (step_one > moment))
            reached[earlier, 0] = first[earlier]
        else:
            chosen = members & within & (draw < -plan.lift.delta / max(base, 1e-9))
            reached[chosen, activation] = NOT_REACHED
        changed[plan.lift.key] += int(chosen.sum())
        within = (reached[:, activation] != NOT_REACHED) & (
            reached[:, activation] - signup <= WINDOW_DAYS * DAY
        )
    return in_arm, changed
