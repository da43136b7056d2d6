"""The onboarding funnel: when each customer first reaches each milestone (SPEC section 5).

Steps follow one another with drop-off at each and log-normal delays (hours to weeks).
A milestone that would be reached after as_of is not reached yet. A few customers skip
the event of a step they went through (the import happened through a path that sends no
event), and a few invite teammates without ever running a query: later milestones
without the earlier ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from onboard.generate.customers import Customers
from onboard.generate.text import HOUR

NOT_REACHED = -1


@dataclass(frozen=True)
class Step:
    """One milestone of the funnel."""

    event_name: str
    reach_share: float  # of the customers who went through the previous step
    median_hours: float  # delay after the previous step (after signup for the first)
    sigma: float  # log-normal spread of that delay
    skip_share: float  # went through the step but sent no event


STEPS = (
    Step("data_imported", 0.80, 3.0, 1.6, 0.04),
    Step("query_run", 0.58, 22.0, 1.9, 0.0),
    Step("teammate_invited", 0.60, 48.0, 1.3, 0.03),
    Step("integration_connected", 0.55, 72.0, 1.2, 0.0),
    Step("tutorial_completed", 0.60, 24.0, 1.4, 0.0),
)
MILESTONE_EVENTS = tuple(step.event_name for step in STEPS)
INVITE_WITHOUT_QUERY_SHARE = 0.06


def draw_milestones(rng: np.random.Generator, customers: Customers, as_of: int) -> np.ndarray:
    """First reach time (epoch seconds) per customer and step: shape (n, 5), -1 when not reached."""
    n = len(customers)
    reached = np.full((n, len(STEPS)), NOT_REACHED, dtype=np.int64)
    moment = customers.signup_at.astype(np.float64)
    going = np.ones(n, dtype=bool)
    imported_at = np.full(n, np.inf)
    for index, step in enumerate(STEPS):
        going &= rng.random(n) < step.reach_share
        moment = moment + rng.lognormal(np.log(step.median_hours), step.sigma, n) * HOUR
        sent = going & (moment <= as_of) & (rng.random(n) >= step.skip_share)
        reached[sent, index] = moment[sent].astype(np.int64)
        if index == 0:
            imported_at = np.where(going, moment, np.inf)
    # a few invite teammates without having run a query
    invite = MILESTONE_EVENTS.index("teammate_invited")
    rogue = (reached[:, 0] != NOT_REACHED) & (reached[:, 1] == NOT_REACHED)
    rogue &= rng.random(n) < INVITE_WITHOUT_QUERY_SHARE
    invited_at = imported_at + rng.lognormal(np.log(72.0), 1.0, n) * HOUR
    rogue &= invited_at <= as_of
    reached[rogue, invite] = invited_at[rogue].astype(np.int64)
    return reached
