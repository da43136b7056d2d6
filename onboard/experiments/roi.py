"""The ROI estimate of an automated arm over its holdout (docs/definitions.md#experiment-roi).

    roi = new customers a year x lift of the primary metric x ARPU
          + CSM hours saved a year x loaded hourly cost

computed three times — with the lift's 95 % interval low, the lift, and its high — so the
estimate is a range. Pure; the inputs are shown beside it. Settings: var `experiment_roi`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field

from onboard.core.project_config import ConfigModel

DAYS_A_YEAR = 365
MONTHS_A_YEAR = 12


class RoiSettings(ConfigModel):
    """Var `experiment_roi` of dbt_project.yml."""

    #: revenue a year per customer; null: the mean arr of activated customers with a known arr
    arpu: Annotated[float, Field(ge=0)] | None = None
    #: CSM hours the automation saves per monthly signup cohort
    csm_hours_per_monthly_cohort: Annotated[float, Field(ge=0)] = 2.5
    #: what one CSM hour costs, loaded (USD)
    loaded_hourly_cost: Annotated[float, Field(ge=0)] = 75.0


class RoiVars(ConfigModel):
    """The var the ROI reads (other vars ignored by dbt_vars_as)."""

    experiment_roi: RoiSettings = RoiSettings()


@dataclass(frozen=True)
class YearlySignups:
    """New customers a year, and how they were counted."""

    customers: float
    basis: str  # last_365_days, or annualised_from_<N>_days


@dataclass(frozen=True)
class Arpu:
    """Revenue a year per customer, and where it came from."""

    value: float | None
    basis: str  # var experiment_roi.arpu, or mean_arr_of_activated


@dataclass(frozen=True)
class Roi:
    """One arm's ROI estimate over its holdout control, with every input."""

    new_customers_per_year: float
    new_customers_basis: str
    lift: float | None
    lift_ci_low: float | None
    lift_ci_high: float | None
    arpu: float | None
    arpu_basis: str
    csm_hours_per_year: float
    loaded_hourly_cost: float
    roi_low: float | None
    roi: float | None
    roi_high: float | None


def yearly_signups(
    customers: int, last_365_days: int, first_signup_at: datetime | None, as_of: datetime
) -> YearlySignups:
    """Signups of the last 365 days when the data spans a year; else annualised from its span.

    customers: every customer; last_365_days: those with signup_at > as_of - 365 days;
    first_signup_at: the earliest signup_at (naive UTC, like as_of).
    """
    if not customers or first_signup_at is None:
        return YearlySignups(0.0, "no_signups")
    span = as_of - first_signup_at
    if span >= timedelta(days=DAYS_A_YEAR):
        return YearlySignups(float(last_365_days), "last_365_days")
    days = max(span.total_seconds() / 86_400, 1.0)
    return YearlySignups(customers * DAYS_A_YEAR / days, f"annualised_from_{days:.0f}_days")


def arpu(settings: RoiSettings, mean_arr_of_activated: float | None) -> Arpu:
    """The var's ARPU, else the mean arr of activated customers with a known arr."""
    if settings.arpu is not None:
        return Arpu(float(settings.arpu), "var experiment_roi.arpu")
    return Arpu(mean_arr_of_activated, "mean_arr_of_activated")


def roi(
    signups: YearlySignups,
    revenue: Arpu,
    settings: RoiSettings,
    lift: float | None,
    lift_ci_low: float | None,
    lift_ci_high: float | None,
) -> Roi:
    """The estimate at the lift's interval low, the lift, and its high."""
    hours = settings.csm_hours_per_monthly_cohort * MONTHS_A_YEAR
    saved = hours * settings.loaded_hourly_cost

    def at(value: float | None) -> float | None:
        if value is None or revenue.value is None:
            return None
        return signups.customers * value * revenue.value + saved

    return Roi(
        new_customers_per_year=signups.customers,
        new_customers_basis=signups.basis,
        lift=lift,
        lift_ci_low=lift_ci_low,
        lift_ci_high=lift_ci_high,
        arpu=revenue.value,
        arpu_basis=revenue.basis,
        csm_hours_per_year=hours,
        loaded_hourly_cost=settings.loaded_hourly_cost,
        roi_low=at(lift_ci_low),
        roi=at(lift),
        roi_high=at(lift_ci_high),
    )
