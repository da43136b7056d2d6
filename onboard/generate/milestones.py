"""The onboarding funnel: when each customer first reaches each milestone.

The milestones, their events and their step order are seeds/milestones.csv's
(docs/definitions.md#seed-milestones); the funnel's shape per milestone event is the
simulation's own. Steps follow one another with drop-off at each and log-normal delays
(hours to weeks). A milestone that would be reached after as_of is not reached yet. A few
customers skip the event of a step they went through (the import happened through a path
that sends no event), and a few invite teammates without having activated (var
`team_invite_milestone` without var `activation_milestone`): later milestones without the
earlier ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from onboard.core.project_config import ConfigError
from onboard.generate.customers import Customers
from onboard.generate.rules import milestone_event, milestone_events, project_vars
from onboard.generate.text import HOUR

NOT_REACHED = -1


@dataclass(frozen=True)
class Step:
    """How the simulated customers go through one milestone of the funnel."""

    reach_share: float  # of the customers who went through the previous step
    median_hours: float  # delay after the previous step (after signup for the first)
    sigma: float  # log-normal spread of that delay
    skip_share: float  # went through the step but sent no event


#: The funnel's shape, by the event that reaches each milestone of the seed.
FUNNEL = {
    "data_imported": Step(0.80, 3.0, 1.6, 0.04),
    "query_run": Step(0.58, 22.0, 1.9, 0.0),
    "teammate_invited": Step(0.60, 48.0, 1.3, 0.03),
    "integration_connected": Step(0.55, 72.0, 1.2, 0.0),
    "tutorial_completed": Step(0.60, 24.0, 1.4, 0.0),
}
INVITE_WITHOUT_ACTIVATION_SHARE = 0.06


@cache
def steps() -> tuple[tuple[str, Step], ...]:
    """(event name, its step) of every milestone of the seed, in step order."""
    events = tuple(milestone_events().values())
    unknown = [event for event in events if event not in FUNNEL]
    if unknown:
        raise ConfigError(
            f"seeds/milestones.csv: event_name: expected one of {list(FUNNEL)} "
            f"(onboard/generate/milestones.py FUNNEL), got {', '.join(map(repr, unknown))}"
        )
    return tuple((event, FUNNEL[event]) for event in events)


def milestone_event_names() -> tuple[str, ...]:
    """The milestones' events in step order: the columns of draw_milestones' result."""
    return tuple(event for event, _ in steps())


def draw_milestones(rng: np.random.Generator, customers: Customers, as_of: int) -> np.ndarray:
    """First reach time (epoch seconds) per customer and step: shape (n, steps), -1 when not reached."""
    n = len(customers)
    funnel = steps()
    reached = np.full((n, len(funnel)), NOT_REACHED, dtype=np.int64)
    moment = customers.signup_at.astype(np.float64)
    going = np.ones(n, dtype=bool)
    first_step_at = np.full(n, np.inf)
    for index, (_, step) in enumerate(funnel):
        going &= rng.random(n) < step.reach_share
        moment = moment + rng.lognormal(np.log(step.median_hours), step.sigma, n) * HOUR
        sent = going & (moment <= as_of) & (rng.random(n) >= step.skip_share)
        reached[sent, index] = moment[sent].astype(np.int64)
        if index == 0:
            first_step_at = np.where(going, moment, np.inf)
    # a few invite teammates without having activated (after the first step)
    names = milestone_event_names()
    variables = project_vars()
    invite = names.index(milestone_event(variables.team_invite_milestone))
    activation = names.index(milestone_event(variables.activation_milestone))
    rogue = (reached[:, 0] != NOT_REACHED) & (reached[:, activation] == NOT_REACHED)
    rogue &= rng.random(n) < INVITE_WITHOUT_ACTIVATION_SHARE
    invited_at = first_step_at + rng.lognormal(np.log(72.0), 1.0, n) * HOUR
    rogue &= invited_at <= as_of
    reached[rogue, invite] = invited_at[rogue].astype(np.int64)
    return reached
