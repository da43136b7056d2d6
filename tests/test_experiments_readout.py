"""The experiments readout (onboard/experiments/) on synthetic per-customer frames, no dbt.

Every number of a readout row is recomputed here straight from statsmodels / scipy on the
same rows (docs/definitions.md#experiments-readout) and must agree to 1e-9; a known lift is
`better` with an interval excluding 0, no lift an interval covering 0, a 3 % tampering of the
assignment `invalid_srm`, a small sample `collecting`; the ROI is checked by hand.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from onboard import build as building
from onboard.core.errors import UsageError
from onboard.core.project_config import read_experiments
from onboard.core.targets import Target, resolve_target
from onboard.dashboard.experiments import experiments_panel
from onboard.dashboard.read import ReportData
from onboard.experiments import ReadoutResult, run_readout, summary_lines, to_json
from onboard.experiments.readout import METRICS, Design, ResultRow, readout
from onboard.experiments.roi import RoiSettings, arpu, roi, yearly_signups
from onboard.experiments.runner import select_experiments
from onboard.generate import GenerateOptions, generate, parse_lift
from onboard.generate.lift import Lift, arm_indexes, plan_lifts
from onboard.load import load

from .conftest import run_onboard

TOLERANCE = 1e-9
HOLDOUT = Design("global_holdout", "holdout", (("holdout", 0.1), ("automated", 0.9)), 100, ("holdout",))


def frame(
    arms: dict[str, int],
    rates: dict[str, float],
    *,
    seed: int = 1,
    ticket_rate: dict[str, float] | None = None,
) -> pd.DataFrame:
    """`arms[name]` customers per arm, each activated within 14 days with probability rates[name]."""
    rng = np.random.default_rng(seed)
    parts = []
    for name, n in arms.items():
        age = rng.uniform(0, 60 * 24, n)
        within_14 = rng.random(n) < rates[name]
        within_7 = within_14 & (rng.random(n) < 0.7)
        ttv = np.where(within_14, rng.uniform(0, 14 * 24, n), np.nan)
        parts.append(
            pd.DataFrame(
                {
                    "arm": name,
                    "age_hours": age,
                    "activated_within_7d": within_7,
                    "activated_within_14d": within_14,
                    "is_stalled": ~within_14 & (rng.random(n) < 0.4),
                    "time_to_value_hours": ttv,
                    "support_tickets_14d": rng.poisson((ticket_rate or {}).get(name, 0.3), n),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def row(rows: list[ResultRow], arm: str, metric: str) -> ResultRow:
    return next(r for r in rows if r.arm == arm and r.metric == metric)


def close(actual: float | None, expected: float) -> bool:
    return actual is not None and math.isclose(actual, expected, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


# ---------------------------------------------------------------- every number, independently


def test_every_number_equals_statsmodels_and_scipy_on_the_rows():
    design = Design("three_way", "a", (("a", 0.3), ("b", 0.3), ("c", 0.4)), 50)
    data = frame({"a": 900, "b": 950, "c": 1200}, {"a": 0.40, "b": 0.45, "c": 0.38}, ticket_rate={"b": 0.5})
    rows = readout(design, data)
    assert [(r.arm, r.metric) for r in rows] == [(arm, metric) for metric in METRICS for arm in "abc"]

    counts = [int((data["arm"] == arm).sum()) for arm in "abc"]
    srm = scipy_stats.chisquare(counts, f_exp=[w * sum(counts) for w in (0.3, 0.3, 0.4)]).pvalue
    control = data[data["arm"] == "a"]
    for arm in "bc":
        mine = data[data["arm"] == arm]
        for metric, days in (("activated_within_14d", 14), ("activated_within_7d", 7)):
            x = mine[mine["age_hours"] >= days * 24][metric]
            y = control[control["age_hours"] >= days * 24][metric]
            got = row(rows, arm, metric)
            assert got.customers == len(mine) and got.units == len(x)
            assert close(got.value, x.mean()) and close(got.control_value, y.mean())
            own_low, own_high = proportion_confint(x.sum(), len(x), method="wilson")
            assert close(got.value_ci_low, own_low) and close(got.value_ci_high, own_high)
            assert close(got.diff, x.mean() - y.mean())
            assert close(got.relative_lift, (x.mean() - y.mean()) / y.mean())
            low, high = confint_proportions_2indep(x.sum(), len(x), y.sum(), len(y), method="newcomb")
            assert close(got.diff_ci_low, low) and close(got.diff_ci_high, high)
            assert close(got.p_value, proportions_ztest([x.sum(), y.sum()], [len(x), len(y)])[1])
            h = NormalIndPower().solve_power(nobs1=len(x), alpha=0.05, power=0.8, ratio=len(y) / len(x))
            p0 = y.mean()
            assert close(got.mdd, math.sin(math.asin(math.sqrt(p0)) + h / 2) ** 2 - p0)
            assert close(got.srm_p_value, srm) and got.srm_flag is False
        stalled = row(rows, arm, "stalled")
        assert stalled.units == len(mine)
        assert close(stalled.value, mine["is_stalled"].mean())
        low, high = confint_proportions_2indep(
            mine["is_stalled"].sum(), len(mine), control["is_stalled"].sum(), len(control), method="newcomb"
        )
        assert close(stalled.diff_ci_low, low) and close(stalled.diff_ci_high, high)

        # tickets: Welch through statsmodels' own t-test (the readout uses scipy's)
        x = mine[mine["age_hours"] >= 14 * 24]["support_tickets_14d"] * 100.0
        y = control[control["age_hours"] >= 14 * 24]["support_tickets_14d"] * 100.0
        tickets = row(rows, arm, "support_tickets_per_100_14d")
        assert tickets.units == len(x) and close(tickets.value, x.mean())
        own_low, own_high = scipy_stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=scipy_stats.sem(x))
        assert close(tickets.value_ci_low, own_low) and close(tickets.value_ci_high, own_high)
        compare = CompareMeans(DescrStatsW(x.to_numpy()), DescrStatsW(y.to_numpy()))
        low, high = compare.tconfint_diff(usevar="unequal")
        assert close(tickets.diff_ci_low, low) and close(tickets.diff_ci_high, high)
        assert close(tickets.p_value, compare.ttest_ind(usevar="unequal")[1])
        pooled = math.sqrt(
            ((len(x) - 1) * x.var(ddof=1) + (len(y) - 1) * y.var(ddof=1)) / (len(x) + len(y) - 2)
        )
        d = TTestIndPower().solve_power(nobs1=len(x), alpha=0.05, power=0.8, ratio=len(y) / len(x))
        assert close(tickets.mdd, d * pooled)

        median = row(rows, arm, "median_time_to_value_hours")
        assert close(median.value, mine["time_to_value_hours"].median())
        assert median.units == mine["time_to_value_hours"].notna().sum()
        assert median.diff is None and median.p_value is None and median.verdict is None

    # the control's rows: its value, null comparisons; a verdict only on the primary metric
    for metric in METRICS:
        own = row(rows, "a", metric)
        assert own.diff is None and own.diff_ci_low is None and own.p_value is None and own.verdict is None
    assert [r.verdict is not None for r in rows if r.metric == "activated_within_14d"] == [False, True, True]
    assert all(r.verdict is None for r in rows if r.metric != "activated_within_14d")


# ---------------------------------------------------------------- verdicts


def test_a_known_lift_is_better_with_an_interval_excluding_zero():
    rows = readout(
        HOLDOUT, frame({"holdout": 3000, "automated": 27000}, {"holdout": 0.40, "automated": 0.48})
    )
    primary = row(rows, "automated", "activated_within_14d")
    assert primary.verdict == "better"
    assert primary.diff_ci_low is not None and primary.diff_ci_low > 0
    assert primary.p_value is not None and primary.p_value < 0.05
    assert primary.mdd is not None and 0 < primary.mdd < primary.diff
    assert primary.enough_sample and not primary.srm_flag


def test_a_negative_lift_is_worse():
    rows = readout(
        HOLDOUT, frame({"holdout": 3000, "automated": 27000}, {"holdout": 0.48, "automated": 0.40})
    )
    primary = row(rows, "automated", "activated_within_14d")
    assert primary.verdict == "worse" and primary.diff_ci_high is not None and primary.diff_ci_high < 0


def test_no_lift_has_an_interval_covering_zero():
    rows = readout(
        HOLDOUT, frame({"holdout": 3000, "automated": 27000}, {"holdout": 0.45, "automated": 0.45})
    )
    primary = row(rows, "automated", "activated_within_14d")
    assert primary.diff_ci_low is not None and primary.diff_ci_high is not None
    assert primary.diff_ci_low < 0 < primary.diff_ci_high
    assert primary.verdict == "no_detectable_difference"


def test_moving_three_percent_of_an_arm_flags_srm_and_invalidates_the_verdict():
    design = Design("ab", "a", (("a", 0.5), ("b", 0.5)), 100)
    data = frame({"a": 20_000, "b": 20_000}, {"a": 0.40, "b": 0.48})
    honest = readout(design, data)
    assert not honest[0].srm_flag and row(honest, "b", "activated_within_14d").verdict == "better"
    moved = data[data["arm"] == "a"].index[:600]  # 3 % of arm a reassigned to b
    tampered = data.copy()
    tampered.loc[moved, "arm"] = "b"
    rows = readout(design, tampered)
    expected = scipy_stats.chisquare([19_400, 20_600], f_exp=[20_000, 20_000]).pvalue
    assert all(close(r.srm_p_value, expected) and r.srm_flag for r in rows)
    assert expected < 0.001
    assert row(rows, "b", "activated_within_14d").verdict == "invalid_srm"


def test_an_arm_under_min_customers_per_arm_matured_is_collecting():
    data = frame({"holdout": 300, "automated": 2700}, {"holdout": 0.2, "automated": 0.8})
    matured = int(((data["arm"] == "holdout") & (data["age_hours"] >= 14 * 24)).sum())
    at_minimum = Design("g", "holdout", HOLDOUT.arms, matured)
    above = Design("g", "holdout", HOLDOUT.arms, matured + 1)
    assert row(readout(at_minimum, data), "automated", "activated_within_14d").verdict == "better"
    collecting = readout(above, data)
    assert row(collecting, "automated", "activated_within_14d").verdict == "collecting"
    assert not any(r.enough_sample for r in collecting)


def test_an_arm_without_customers_has_no_comparison_and_is_collecting():
    rows = readout(HOLDOUT, frame({"automated": 500}, {"automated": 0.5}))
    primary = row(rows, "automated", "activated_within_14d")
    assert row(rows, "holdout", "activated_within_14d").customers == 0
    assert primary.diff is None and primary.p_value is None and primary.verdict == "collecting"


# ---------------------------------------------------------------- ROI


def test_roi_is_a_range_from_the_lifts_interval_and_shows_its_inputs():
    as_of = datetime(2026, 12, 1)
    signups = yearly_signups(5000, 0, as_of - timedelta(days=100), as_of)
    assert (
        signups.customers == pytest.approx(5000 * 365 / 100) and signups.basis == "annualised_from_100_days"
    )
    settings = RoiSettings()
    revenue = arpu(settings, 4000.0)
    assert (revenue.value, revenue.basis) == (4000.0, "mean_arr_of_activated")
    estimate = roi(signups, revenue, settings, 0.08, 0.05, 0.11)
    saved = 2.5 * 12 * 75
    assert estimate.csm_hours_per_year == 30 and estimate.loaded_hourly_cost == 75
    assert estimate.roi == pytest.approx(18_250 * 0.08 * 4000 + saved, rel=TOLERANCE)
    assert estimate.roi_low == pytest.approx(18_250 * 0.05 * 4000 + saved, rel=TOLERANCE)
    assert estimate.roi_high == pytest.approx(18_250 * 0.11 * 4000 + saved, rel=TOLERANCE)

    a_year = yearly_signups(9000, 4000, as_of - timedelta(days=400), as_of)
    assert (a_year.customers, a_year.basis) == (4000.0, "last_365_days")
    fixed = RoiSettings(arpu=1200, csm_hours_per_monthly_cohort=4, loaded_hourly_cost=100)
    estimate = roi(a_year, arpu(fixed, 4000.0), fixed, -0.01, -0.03, 0.01)
    assert estimate.arpu_basis == "var experiment_roi.arpu"
    assert estimate.roi == pytest.approx(4000 * -0.01 * 1200 + 4 * 12 * 100, rel=TOLERANCE)
    assert roi(a_year, arpu(RoiSettings(), None), RoiSettings(), 0.1, 0.0, 0.2).roi is None


def test_an_unknown_experiment_is_a_usage_error():
    with pytest.raises(UsageError, match="--experiment nope: no such experiment"):
        select_experiments([], "nope")
    assert select_experiments([], None) == []


# ---------------------------------------------------------------- the CLI without a warehouse


def test_no_experiment_configured_is_a_note_and_an_unknown_one_exit_2(tmp_path: Path):
    env = {"ONBOARD_DUCKDB_PATH": str(tmp_path / "none.duckdb")}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ONBOARD_DUCKDB_PATH", env["ONBOARD_DUCKDB_PATH"])
        result = run_readout(resolve_target("duckdb"))
    assert list(summary_lines(result)) == ["experiments: no experiment configured (var experiments is empty)"]
    assert not (tmp_path / "none.duckdb").exists()  # nothing to clear: no warehouse is created
    unknown = run_onboard("experiments", "--experiment", "nope", env=env)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == (
        "onboard: error: --experiment nope: no such experiment in var experiments (none is configured)"
    )


# ---------------------------------------------------------------- end to end: one small build

E2E_AS_OF = datetime(2026, 3, 16, 12, tzinfo=UTC)
E2E_VARS = {
    "experiments": [
        {
            "name": "ab_nudge",
            "starts_at": "2025-06-01",
            "control": "control",
            "arms": [{"name": "control", "weight": 0.5, "holdout": True}, {"name": "nudge", "weight": 0.5}],
            "min_customers_per_arm": 100,
        }
    ]
}
E2E_LIFT = 0.25


@pytest.fixture(scope="module")
def readout_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Target, ReadoutResult]]:
    """1,200 generated customers with a +0.25 lift of arm `nudge`, built with E2E_VARS, read out."""
    root = tmp_path_factory.mktemp("experiments")
    experiments = tuple(read_experiments(overrides=E2E_VARS))
    manifest = generate(
        root / "raw",
        GenerateOptions(
            customers=1200,
            seed=9,
            as_of=E2E_AS_OF,
            lifts=(parse_lift(f"ab_nudge:nudge:+{E2E_LIFT}"),),
            experiments=experiments,
        ),
    )
    assert manifest["lifts"][0]["experiment"] == "ab_nudge" and manifest["lifts"][0]["changed"] > 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ONBOARD_DUCKDB_PATH", str(root / "w.duckdb"))
        target = resolve_target("duckdb")
        assert load(root / "raw", target).rows > 0
        # only the models the readout reads; their rules' tests run in test_pipeline and
        # test_experiment_assignment
        code = building.build(
            target,
            E2E_AS_OF,
            select="+experiment_assignments +onboarding_customers build_as_of",
            exclude="test_type:unit test_type:data",
            overrides=E2E_VARS,
        )
        assert code == 0
        yield target, run_readout(target, overrides=E2E_VARS)


def _customers(target: Target) -> pd.DataFrame:
    """The per-customer rows, read here with SQL of the test's own."""
    sql = """
        select a.arm, c.age_hours, c.activated_within_14d, c.is_stalled,
            (select count(*) from main_staging.stg_product__events as e
             where e.customer_id = c.customer_id and e.event_name = 'support_ticket_opened'
                and e.occurred_at between c.signup_at and c.signup_at + interval 14 day) as tickets
        from main.experiment_assignments as a
        join main.onboarding_customers as c using (customer_id)
        where a.experiment = 'ab_nudge'
    """
    with duckdb.connect(str(target.duckdb_path), read_only=True) as connection:
        return connection.execute(sql).df()


@pytest.mark.slow
def test_the_readout_table_equals_an_independent_computation_and_finds_the_lift(readout_warehouse):
    target, result = readout_warehouse
    with duckdb.connect(str(target.duckdb_path), read_only=True) as connection:
        table = connection.execute("select * from experiments.experiment_results").df()
        roi_rows = connection.execute("select * from experiments.experiment_roi").df()
    assert len(table) == 2 * len(METRICS) == len(result.results)
    data = _customers(target)
    counts = [int((data["arm"] == arm).sum()) for arm in ("control", "nudge")]
    srm = scipy_stats.chisquare(counts, f_exp=[sum(counts) / 2] * 2).pvalue
    assert all(close(value, srm) for value in table["srm_p_value"])

    matured = data[data["age_hours"] >= 14 * 24]
    x = matured[matured["arm"] == "nudge"]["activated_within_14d"]
    y = matured[matured["arm"] == "control"]["activated_within_14d"]
    primary = table[(table["metric"] == "activated_within_14d") & (table["arm"] == "nudge")].iloc[0]
    assert primary["customers"] == counts[1] and primary["units"] == len(x)
    assert close(primary["value"], x.mean()) and close(primary["control_value"], y.mean())
    low, high = confint_proportions_2indep(x.sum(), len(x), y.sum(), len(y), method="newcomb")
    assert close(primary["diff_ci_low"], low) and close(primary["diff_ci_high"], high)
    assert close(primary["p_value"], proportions_ztest([x.sum(), y.sum()], [len(x), len(y)])[1])
    # the generated lift is found: better, the interval excludes 0 and holds the lift
    assert primary["verdict"] == "better" and low > 0
    assert low < E2E_LIFT < high

    tickets = table[(table["metric"] == "support_tickets_per_100_14d") & (table["arm"] == "nudge")].iloc[0]
    a = matured[matured["arm"] == "nudge"]["tickets"] * 100.0
    b = matured[matured["arm"] == "control"]["tickets"] * 100.0
    welch = scipy_stats.ttest_ind(a, b, equal_var=False)
    assert close(tickets["value"], a.mean()) and close(tickets["p_value"], welch.pvalue)
    stalled = table[(table["metric"] == "stalled") & (table["arm"] == "nudge")].iloc[0]
    assert close(stalled["value"], data[data["arm"] == "nudge"]["is_stalled"].mean())

    # the control is the holdout arm: one ROI row, its range from the lift's interval
    assert list(roi_rows["arm"]) == ["nudge"] and bool(roi_rows["is_estimate"].iloc[0])
    estimate = roi_rows.iloc[0]
    saved = estimate["csm_hours_per_year"] * estimate["loaded_hourly_cost"]
    assert close(estimate["roi_low"], estimate["new_customers_per_year"] * low * estimate["arpu"] + saved)
    assert estimate["new_customers_basis"] == "annualised_from_120_days"

    lines = list(summary_lines(result))
    assert any(line.startswith("  nudge vs control: better (activated_within_14d +") for line in lines)
    assert json.loads(to_json(result))["experiments"][0]["results"][1]["verdict"] == "better"


# ---------------------------------------------------------------- generate --lift


def test_the_generators_assignment_is_the_projects_and_lift_options_are_checked():
    (experiment,) = read_experiments(overrides=E2E_VARS)
    three = read_experiments(
        overrides={
            "experiments": [
                {
                    "name": "three",
                    "starts_at": "2025-01-01",
                    "control": "a",
                    "arms": [
                        {"name": "a", "weight": 0.2},
                        {"name": "b", "weight": 0.3},
                        {"name": "c", "weight": 0.5},
                    ],
                }
            ]
        }
    )[0]
    ids = [f"c{n:07d}" for n in range(1, 2001)]
    for config in (experiment, three):
        names = [arm.name for arm in config.arms]
        assert [names[i] for i in arm_indexes(config, ids)] == [config.arm_for(cid).name for cid in ids]
    assert parse_lift(" ab_nudge:nudge:-0.1 ") == Lift("ab_nudge", "nudge", -0.1)
    for text, message in (
        ("ab_nudge:nudge", "expected EXPERIMENT:ARM:DELTA"),
        ("ab_nudge:nudge:lots", "is not a number"),
        ("ab_nudge:nudge:1.5", r"delta 1.5 is not a non-zero number in \[-1, 1\]"),
    ):
        with pytest.raises(UsageError, match=message):
            parse_lift(text)
    with pytest.raises(UsageError, match="no experiment 'other' in var experiments"):
        plan_lifts((Lift("other", "nudge", 0.1),), (experiment,))
    with pytest.raises(UsageError, match="has no arm 'treat'"):
        plan_lifts((Lift("ab_nudge", "treat", 0.1),), (experiment,))


# ---------------------------------------------------------------- the dashboard's panel


def test_the_dashboard_panel_shows_each_arm_the_difference_srm_verdict_and_roi():
    rows = readout(
        HOLDOUT, frame({"holdout": 3000, "automated": 27000}, {"holdout": 0.40, "automated": 0.48})
    )
    results = pd.DataFrame([asdict(r) for r in rows])
    estimate = roi(
        yearly_signups(1000, 0, datetime(2026, 1, 1), datetime(2026, 5, 1)),
        arpu(RoiSettings(), 100.0),
        RoiSettings(),
        0.08,
        0.06,
        0.1,
    )
    roi_frame = pd.DataFrame(
        [
            {
                "experiment": "global_holdout",
                "arm": "automated",
                "control_arm": "holdout",
                "verdict": "better",
                **asdict(estimate),
            }
        ]
    )
    panel = experiments_panel(ReportData({}, None, None, results, roi_frame))
    assert panel.message is None and panel.figure is not None
    rates, diffs = panel.figure.data
    assert list(rates.x) == ["global_holdout / holdout", "global_holdout / automated"]
    primary = row(rows, "automated", "activated_within_14d")
    assert list(diffs.x) == ["global_holdout / automated"] and close(diffs.y[0], primary.diff)
    assert close(diffs.error_y.arrayminus[0], primary.diff - primary.diff_ci_low)
    assert panel.note.startswith(
        f"global_holdout: sample ratio p {primary.srm_p_value:.3f} (ok); automated vs holdout: better; "
        f"ROI estimate automated over holdout: {estimate.roi_low:,.0f} to {estimate.roi_high:,.0f} USD a year"
    )
    nothing = experiments_panel(ReportData({}, None, None, results.iloc[0:0], None))
    assert nothing.message == "No experiment configured (var experiments is empty)."
    never = experiments_panel(ReportData({}, None, None))
    assert never.message is not None and never.message.startswith("No experiment readout yet")
