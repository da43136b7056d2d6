"""The readout's statistics: small pure functions over counts and per-customer values.

Every test and interval comes from statsmodels or scipy, never a hand-rolled formula
(docs/definitions.md#experiment-statistics):

- an arm's own rate: Wilson's score interval (`proportion_confint(method='wilson')`); its own
  mean: the t interval (`DescrStatsW.tconfint_mean`);
- a rate: Newcombe's hybrid score interval of the difference
  (`confint_proportions_2indep(method='newcomb')`) and the pooled two-sided two-proportion
  z-test (`proportions_ztest`);
- a mean: Welch's unequal-variance t-test and its interval (`scipy.stats.ttest_ind`,
  `equal_var=False`);
- sample-ratio mismatch: chi-square goodness of fit against the weights (`scipy.stats.chisquare`);
- the minimum detectable difference at 80 % power: statsmodels' power solvers
  (docs/definitions.md#experiment-mdd).

A figure that cannot be computed (no customer, no variance) is None, never NaN.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest
from statsmodels.stats.weightstats import DescrStatsW

ALPHA = 0.05
POWER = 0.8
#: below this SRM p-value the arms are out of proportion (docs/definitions.md#experiment-srm)
SRM_ALPHA = 0.001


@dataclass(frozen=True)
class Comparison:
    """An arm against its control: difference (arm - control), its 95 % interval, p-value, MDD."""

    diff: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    mdd: float | None = None


def finite(value: object) -> float | None:
    """A float, or None for None / NaN / infinity (what cannot be computed)."""
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def rate(successes: int, units: int) -> float | None:
    """successes / units; None without units."""
    return successes / units if units else None


def rate_interval(successes: int, units: int, *, alpha: float = ALPHA) -> tuple[float | None, float | None]:
    """Wilson's score interval of one arm's rate; (None, None) without units."""
    if units < 1:
        return None, None
    low, high = proportion_confint(successes, units, alpha=alpha, method="wilson")
    return finite(low), finite(high)


def mean_interval(values: np.ndarray, *, alpha: float = ALPHA) -> tuple[float | None, float | None]:
    """The t interval of one arm's mean; (None, None) under two values."""
    if len(values) < 2:
        return None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no variance: NaN -> None
        low, high = DescrStatsW(np.asarray(values, dtype=np.float64)).tconfint_mean(alpha=alpha)
    return finite(low), finite(high)


def rate_mdd(
    control_rate: float, units: int, control_units: int, *, alpha: float = ALPHA, power: float = POWER
) -> float | None:
    """The smallest increase over control_rate a two-sided pooled z-test detects with `power`.

    statsmodels' NormalIndPower solves for Cohen's h (h = 2·asin√p1 - 2·asin√p0) with
    nobs1 = units, ratio = control_units / units; the rate it reaches is
    p1 = sin(asin√p0 + h/2)², capped at 1; the MDD is p1 - p0.
    """
    if units < 1 or control_units < 1:
        return None
    h = NormalIndPower().solve_power(
        effect_size=None,
        nobs1=units,
        alpha=alpha,
        power=power,
        ratio=control_units / units,
        alternative="two-sided",
    )
    angle = min(math.asin(math.sqrt(control_rate)) + float(h) / 2, math.pi / 2)
    return finite(math.sin(angle) ** 2 - control_rate)


def compare_rates(
    successes: int, units: int, control_successes: int, control_units: int, *, alpha: float = ALPHA
) -> Comparison:
    """An arm's rate against its control's: Newcombe interval, pooled z-test, MDD."""
    if units < 1 or control_units < 1:
        return Comparison()
    low, high = confint_proportions_2indep(
        successes, units, control_successes, control_units, method="newcomb", compare="diff", alpha=alpha
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no variance (all 0 or all 1): p is NaN -> None
        _, p_value = proportions_ztest(
            [successes, control_successes], [units, control_units], alternative="two-sided"
        )
    control_rate = control_successes / control_units
    return Comparison(
        diff=successes / units - control_rate,
        ci_low=finite(low),
        ci_high=finite(high),
        p_value=finite(p_value),
        mdd=rate_mdd(control_rate, units, control_units, alpha=alpha),
    )


def mean_mdd(
    values: np.ndarray, control_values: np.ndarray, *, alpha: float = ALPHA, power: float = POWER
) -> float | None:
    """The smallest difference of means a two-sided t-test detects with `power`.

    statsmodels' TTestIndPower solves for Cohen's d with nobs1 = len(values), ratio =
    len(control_values) / len(values); the MDD is d x the pooled standard deviation.
    """
    n, m = len(values), len(control_values)
    if n < 2 or m < 2:
        return None
    pooled = math.sqrt(
        ((n - 1) * np.var(values, ddof=1) + (m - 1) * np.var(control_values, ddof=1)) / (n + m - 2)
    )
    d = TTestIndPower().solve_power(
        effect_size=None, nobs1=n, alpha=alpha, power=power, ratio=m / n, alternative="two-sided"
    )
    return finite(float(d) * pooled)


def compare_means(values: np.ndarray, control_values: np.ndarray, *, alpha: float = ALPHA) -> Comparison:
    """An arm's mean against its control's: Welch's t-test and interval, MDD."""
    values = np.asarray(values, dtype=np.float64)
    control_values = np.asarray(control_values, dtype=np.float64)
    if len(values) < 1 or len(control_values) < 1:
        return Comparison()
    diff = float(values.mean() - control_values.mean())
    if len(values) < 2 or len(control_values) < 2:
        return Comparison(diff=diff)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no variance in either arm: NaN -> None
        result = stats.ttest_ind(values, control_values, equal_var=False)
        interval = result.confidence_interval(confidence_level=1 - alpha)
    return Comparison(
        diff=diff,
        ci_low=finite(interval.low),
        ci_high=finite(interval.high),
        p_value=finite(result.pvalue),
        mdd=mean_mdd(values, control_values, alpha=alpha),
    )


def srm_p_value(counts: Sequence[int], weights: Sequence[float]) -> float | None:
    """Chi-square goodness of fit of the arms' assigned customers against the weights; None without any."""
    total = sum(counts)
    if total == 0 or len(counts) < 2:
        return None
    expected = np.asarray(weights, dtype=np.float64) * total
    expected *= total / expected.sum()  # weights sum to 1 within 1e-9: scipy wants equal sums
    return finite(stats.chisquare(np.asarray(counts, dtype=np.float64), f_exp=expected).pvalue)


def srm_flag(p_value: float | None) -> bool:
    """Arms out of proportion: p < 0.001 (docs/definitions.md#experiment-srm)."""
    return p_value is not None and p_value < SRM_ALPHA


def median(values: np.ndarray) -> float | None:
    """The continuous (interpolated) median, like percentile_cont(0.5); None when empty."""
    return float(np.median(values)) if len(values) else None


def verdict(*, enough_sample: bool, srm: bool, comparison: Comparison, alpha: float = ALPHA) -> str:
    """The verdict of an arm on the primary metric (docs/definitions.md#experiment-verdict)."""
    if not enough_sample:
        return "collecting"
    if srm:
        return "invalid_srm"
    if comparison.p_value is not None and comparison.diff is not None and comparison.p_value < alpha:
        return "better" if comparison.diff > 0 else "worse"
    return "no_detectable_difference"
