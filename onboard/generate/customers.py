"""Customer profiles: signup moment, plan tier, ARR, company size, email, team and activity.

Each customer is drawn from an intended segment (the onboarding track it should route to,
docs/definitions.md#routing) so that the track shares land near high_touch 10 %, standard 65 %,
self_serve 25 %. ARR and tiers are the customer's *current* state; a plan change (about
5 % of customers) is drawn backwards from it: the signup tier is the tier before the change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from onboard.generate.text import DAY, HOUR, concat, padded, pick
from onboard.generate.vocabulary import (
    COMPANY_NOUNS,
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    ENTERPRISE,
    FIRST_NAMES,
    FREE,
    HIGH_TOUCH,
    INDUSTRIES,
    LAST_NAMES,
    PRO,
    ROLES,
    SELF_SERVE,
    SIGNUP_SOURCES,
    STANDARD,
    TIERS,
    TRACKS,
    TRIAL,
    UTM_SOURCES,
)

SEGMENT_SHARES = {HIGH_TOUCH: 0.10, STANDARD: 0.67, SELF_SERVE: 0.23}
TEAM_MEAN = {HIGH_TOUCH: 6.0, STANDARD: 2.5, SELF_SERVE: 1.0}  # users besides the first
ARR_UNKNOWN_SHARE = 0.05
COMPANY_SIZE_ABSENT_SHARE = 0.10
COMPANY_SIZE_MALFORMED_SHARE = 0.01
UPPERCASE_EMAIL_SHARE = 0.05
SHARED_EMAIL_SHARE = 0.003
UTM_ABSENT_SHARE = 0.40
PLAN_CHANGE_RATE = {FREE: 0.012, TRIAL: 0.0, PRO: 0.075, ENTERPRISE: 0.09}
MEAN_ACTIVE_DAYS = 40.0
STICKY_SHARE = 0.30  # customers who never stop using the product

# company_size forms in the signup properties
SIZE_ABSENT, SIZE_VALID, SIZE_AS_STRING, SIZE_ZERO, SIZE_FRACTION = range(5)


@dataclass(frozen=True)
class Customers:
    """One chunk of customers; every array has one entry per customer."""

    number: np.ndarray  # global customer number, 1-based
    customer_id: pa.Array  # `c0000001`
    signup_at: np.ndarray  # epoch seconds
    active_until: np.ndarray  # end of ordinary product activity (<= as_of)
    engagement: np.ndarray  # activity-rate multiplier, mean about 1
    team_size: np.ndarray  # users of the workspace, >= 1
    segment: np.ndarray  # intended track (TRACKS index)
    signup_tier: np.ndarray  # TIERS index at signup
    current_tier: np.ndarray  # TIERS index now
    plan_changed_at: np.ndarray  # epoch seconds of the plan change, -1 when none
    arr: np.ndarray  # current ARR in whole USD (float, NaN when unknown)
    company_size: np.ndarray  # employees (int)
    company_size_form: np.ndarray  # SIZE_* code: how company_size appears at signup
    email: pa.Array
    company_name: pa.Array
    industry: np.ndarray  # INDUSTRIES index
    role: np.ndarray  # ROLES index
    signup_source: np.ndarray  # SIGNUP_SOURCES index
    utm_source: np.ndarray  # UTM_SOURCES index, -1 when absent

    def __len__(self) -> int:
        return len(self.number)


def _by_code(values: dict[int, float], size: int) -> list[float]:
    """values laid out by code 0 .. size - 1 (a code the simulation does not draw: 0)."""
    return [values.get(code, 0.0) for code in range(size)]


def _log_uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    return np.exp(rng.uniform(np.log(low), np.log(high), n))


def _tiers(rng: np.random.Generator, segment: np.ndarray) -> np.ndarray:
    u = rng.random(len(segment))
    return np.select(
        [segment == HIGH_TOUCH, segment == STANDARD],
        [
            np.where(u < 0.6, ENTERPRISE, PRO),
            np.where(u < 0.75, PRO, np.where(u < 0.875, FREE, TRIAL)),
        ],
        np.where(u < 0.55, FREE, TRIAL),
    ).astype(np.int8)


def _arr(rng: np.random.Generator, segment: np.ndarray, tier: np.ndarray) -> np.ndarray:
    n = len(tier)
    paying = np.select(
        [tier == ENTERPRISE, segment == HIGH_TOUCH, tier == PRO],
        [
            _log_uniform(rng, 20_000, 300_000, n),
            _log_uniform(rng, 25_000, 120_000, n),
            _log_uniform(rng, 1_000, 24_900, n),
        ],
        np.where((segment == SELF_SERVE) & (rng.random(n) < 0.2), rng.uniform(100, 900, n), 0),
    )
    dollars = np.round(paying / 100) * 100
    dollars = np.where(segment == HIGH_TOUCH, np.maximum(dollars, 25_000), dollars)
    dollars = np.where((segment == STANDARD) & (tier == PRO), np.clip(dollars, 1_000, 24_900), dollars)
    return np.where(rng.random(n) < ARR_UNKNOWN_SHARE, np.nan, dollars)


def _company_size(rng: np.random.Generator, segment: np.ndarray, tier: np.ndarray) -> np.ndarray:
    n = len(tier)
    size = np.select(
        [tier == ENTERPRISE, segment == HIGH_TOUCH, tier == PRO, segment == STANDARD],
        [
            _log_uniform(rng, 200, 20_000, n),
            _log_uniform(rng, 20, 5_000, n),
            _log_uniform(rng, 5, 2_000, n),
            _log_uniform(rng, 50, 2_000, n),
        ],
        _log_uniform(rng, 1, 49.99, n),
    )
    return np.maximum(np.floor(size), 1).astype(np.int64)


def _size_forms(rng: np.random.Generator, n: int) -> np.ndarray:
    u = rng.random(n)
    malformed = SIZE_AS_STRING + rng.integers(0, 3, n)
    return np.select(
        [
            u < COMPANY_SIZE_ABSENT_SHARE,
            u < COMPANY_SIZE_ABSENT_SHARE + COMPANY_SIZE_MALFORMED_SHARE,
        ],
        [SIZE_ABSENT, malformed],
        SIZE_VALID,
    ).astype(np.int8)


def _plan_changes(
    rng: np.random.Generator, current: np.ndarray, signup_at: np.ndarray, as_of: int
) -> tuple[np.ndarray, np.ndarray]:
    """The signup tier and the moment of the change (-1 when the tier never changed)."""
    n = len(current)
    rate = np.choose(current, _by_code(PLAN_CHANGE_RATE, len(TIERS)))
    age = as_of - signup_at
    changed = (rng.random(n) < rate) & (age >= DAY)
    u = rng.random(n)
    before = np.select(
        [current == PRO, current == ENTERPRISE],
        [np.where(u < 0.45, FREE, np.where(u < 0.93, TRIAL, ENTERPRISE)), PRO],
        PRO,  # a free customer downgraded from pro
    )
    signup_tier = np.where(changed, before, current).astype(np.int8)
    offset = HOUR + (rng.random(n) * np.maximum(age - HOUR, 0)).astype(np.int64)
    return signup_tier, np.where(changed, signup_at + offset, -1)


def _emails(rng: np.random.Generator, number: np.ndarray) -> pa.Array:
    n = len(number)
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    local = concat(pick(FIRST_NAMES, first), ".", pick(LAST_NAMES, last))
    u = rng.random(n)
    local = pc.if_else(pa.array(u < UPPERCASE_EMAIL_SHARE * 0.7), pc.utf8_title(local), local)
    upper = (u >= UPPERCASE_EMAIL_SHARE * 0.7) & (u < UPPERCASE_EMAIL_SHARE)
    local = pc.if_else(pa.array(upper), pc.utf8_upper(local), local)
    email = concat(local, "@", padded("company", number, 1), ".com")
    # a few customers share an address with another customer of the chunk
    shared = (rng.random(n) < SHARED_EMAIL_SHARE) if n > 1 else np.zeros(n, bool)
    source = np.arange(n)
    offsets = rng.integers(1, max(n, 2), n)
    source[shared] = (source[shared] + offsets[shared]) % n
    email = email.take(pa.array(source))
    recased = shared & (rng.random(n) < 0.5)
    return pc.if_else(pa.array(recased), pc.utf8_swapcase(email), email)


def _company_names(rng: np.random.Generator, n: int) -> pa.Array:
    suffix = rng.integers(0, len(COMPANY_SUFFIXES), n)
    return concat(
        pick(COMPANY_WORDS, rng.integers(0, len(COMPANY_WORDS), n)),
        " ",
        pick(COMPANY_NOUNS, rng.integers(0, len(COMPANY_NOUNS), n)),
        " ",
        pick(COMPANY_SUFFIXES, suffix),
    )


def draw_customers(
    rng: np.random.Generator, number: np.ndarray, id_width: int, as_of: int, history_seconds: int
) -> Customers:
    """Draw the customers numbered `number`, signed up in the `history_seconds` before `as_of`."""
    n = len(number)
    signup_at = as_of - rng.integers(0, history_seconds, n)
    segment = rng.choice(len(TRACKS), n, p=_by_code(SEGMENT_SHARES, len(TRACKS))).astype(np.int8)
    current = _tiers(rng, segment)
    signup_tier, plan_changed_at = _plan_changes(rng, current, signup_at, as_of)
    team_mean = np.choose(segment, _by_code(TEAM_MEAN, len(TRACKS)))
    active_days = rng.exponential(MEAN_ACTIVE_DAYS, n)
    active_days[rng.random(n) < STICKY_SHARE] = np.inf
    active_until = np.minimum(signup_at + np.minimum(active_days * DAY, 1e12), as_of)
    utm = rng.integers(0, len(UTM_SOURCES), n)
    return Customers(
        number=number,
        customer_id=padded("c", number, id_width),
        signup_at=signup_at,
        active_until=active_until.astype(np.int64),
        engagement=rng.lognormal(-0.18, 0.6, n),
        team_size=1 + rng.poisson(team_mean),
        segment=segment,
        signup_tier=signup_tier,
        current_tier=current,
        plan_changed_at=plan_changed_at,
        arr=_arr(rng, segment, current),
        company_size=_company_size(rng, segment, current),
        company_size_form=_size_forms(rng, n),
        email=_emails(rng, number),
        company_name=_company_names(rng, n),
        industry=rng.integers(0, len(INDUSTRIES), n),
        role=rng.integers(0, len(ROLES), n),
        signup_source=rng.integers(0, len(SIGNUP_SOURCES), n),
        utm_source=np.where(rng.random(n) < UTM_ABSENT_SHARE, -1, utm),
    )
