"""milestone_funnel, adoption_velocity, score_vs_expansion and the early-progress columns of
onboarding_customers, each against an independent pandas computation from the staged events
(docs/definitions.md#milestone-funnel, #adoption-velocity, #score-vs-expansion).

Reuses the session's built warehouse (tests/conftest.py `built`): no build of its own. Only
the customers' track, age, arr and subscription status are taken from onboarding_customers
(rules of their own, tested elsewhere); milestones, windows, scores and tiers are recomputed
here from main_staging.stg_product__events and the seed.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from .conftest import PROJECT_DIR
from .test_sync import AS_OF

VARS = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
TRACKS = [*VARS["tracks"], "all"]
WINDOWS = VARS["activation_windows_days"]
CHECKPOINT_DAY = VARS["checkpoint_day"]
EXPANSION_DAYS = VARS["expansion_window_days"]
BANDS = VARS["priority_score_bands"]
TIER_RANK = {tier: rank for rank, tier in enumerate(VARS["plan_tiers"], start=1)}
MILESTONES = pd.read_csv(PROJECT_DIR / "seeds" / "milestones.csv").sort_values("step")
AS_OF_NAIVE = AS_OF.replace(tzinfo=None)


def _read(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).df()


@pytest.fixture(scope="module")
def customers(built: Path) -> pd.DataFrame:
    return _read(
        built,
        "select customer_id, track, signup_at, signup_cohort_week, age_hours, arr, subscription_status, "
        "milestones_reached_within_7d, milestones_reached_within_14d, score_at_day_14, "
        "hours_to_second_milestone from main.onboarding_customers",
    ).set_index("customer_id")


@pytest.fixture(scope="module")
def events(built: Path) -> pd.DataFrame:
    frame = _read(
        built,
        "select event_id, event_name, customer_id, occurred_at, received_at, plan_tier, to_tier "
        "from main_staging.stg_product__events",
    )
    return frame[frame["occurred_at"] <= AS_OF_NAIVE]


@pytest.fixture(scope="module")
def reached(customers: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """One row per customer and reached milestone: reached_at, step, weight, hours (clamped)."""
    first = (
        events[events["event_name"].isin(MILESTONES["event_name"])]
        .groupby(["customer_id", "event_name"], as_index=False)["occurred_at"]
        .min()
        .rename(columns={"occurred_at": "reached_at"})
        .merge(MILESTONES, on="event_name")
    )
    first = first[first["customer_id"].isin(customers.index)].copy()
    signup = first["customer_id"].map(customers["signup_at"])
    first["signup_at"] = signup
    first["hours"] = ((first["reached_at"] - signup).dt.total_seconds() / 3600).clip(lower=0)
    return first


def _within(reached: pd.DataFrame, days: int) -> pd.Series:
    return reached["reached_at"] <= reached["signup_at"] + timedelta(days=days)


def _matured(age_hours: pd.Series, days: int) -> pd.Series:
    return age_hours >= days * 24


def _median(values: pd.Series, q: float = 0.5) -> float | None:
    values = values.dropna()
    return float(values.quantile(q)) if len(values) else None


def _share(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _band(score: float) -> str:
    return next((band["priority"] for band in BANDS if score < band["below"]), VARS["lowest_priority"])


def _of_track(frame: pd.DataFrame, track: str) -> pd.DataFrame:
    return frame if track == "all" else frame[frame["track"] == track]


def _assert_equal(mart: pd.DataFrame, expected: list[dict], key: list[str]) -> None:
    """Every expected cell equals the mart's (floats to 1e-9, nulls to nulls), same rows."""
    assert len(mart) == len(expected)
    rows = {tuple(str(row[k]) for k in key): row for row in mart.to_dict("records")}
    for want in expected:
        got = rows[tuple(str(want[k]) for k in key)]
        for column, value in want.items():
            actual = got[column]
            if column in key or isinstance(value, str):
                assert str(actual) == str(value), (want, column, actual)
            elif value is None:
                assert actual is None or pd.isna(actual), (want, column, actual)
            else:
                assert actual is not None and not pd.isna(actual), (want, column, actual)
                assert math.isclose(float(actual), float(value), rel_tol=1e-9, abs_tol=1e-9), (
                    want,
                    column,
                    actual,
                )


def test_early_progress_columns_match_the_staged_events(customers: pd.DataFrame, reached: pd.DataFrame):
    expected = []
    for customer_id, customer in customers.iterrows():
        mine = reached[reached["customer_id"] == customer_id].sort_values(["reached_at", "step"])
        row: dict = {"customer_id": customer_id}
        for days in WINDOWS:
            row[f"milestones_reached_within_{days}d"] = int(_within(mine, days).sum())
        weight = mine.loc[_within(mine, CHECKPOINT_DAY), "weight"].sum()
        matured = customer["age_hours"] >= CHECKPOINT_DAY * 24
        row[f"score_at_day_{CHECKPOINT_DAY}"] = min(100, int(weight)) if matured else None
        row["hours_to_second_milestone"] = float(mine["hours"].iloc[1]) if len(mine) >= 2 else None
        expected.append(row)
    _assert_equal(customers.reset_index(), expected, ["customer_id"])
    # the data exercise every branch: both windows differ somewhere, young customers have no score
    assert (customers["milestones_reached_within_14d"] > customers["milestones_reached_within_7d"]).any()
    assert customers["score_at_day_14"].isna().any() and customers["score_at_day_14"].notna().any()


def test_milestone_funnel_matches_the_staged_events(
    built: Path, customers: pd.DataFrame, reached: pd.DataFrame
):
    mart = _read(built, "select * from main.milestone_funnel")
    expected = []
    steps = list(MILESTONES.itertuples())
    for track in TRACKS:
        members = _of_track(customers, track)
        for index, milestone in enumerate(steps):
            previous = steps[index - 1] if index else None
            here = reached[
                (reached["milestone"] == milestone.milestone) & reached["customer_id"].isin(members.index)
            ]
            row: dict = {
                "track": track,
                "milestone": milestone.milestone,
                "step": milestone.step,
                "customers": len(members),
                "reached": len(here),
                "reach_rate": _share(len(here), len(members)),
                "median_hours_from_signup": _median(here["hours"]),
                "p75_hours_from_signup": _median(here["hours"], 0.75),
            }
            for days in WINDOWS:
                matured = members.index[_matured(members["age_hours"], days)]
                within = here[here["customer_id"].isin(matured) & _within(here, days)]
                row[f"matured_{days}d"] = len(matured)
                row[f"reached_within_{days}d"] = len(within)
                row[f"reach_rate_{days}d"] = _share(len(within), len(matured))
            if previous is None:
                row |= {
                    "median_hours_from_previous_step": None,
                    "reached_previous_step": None,
                    "drop_off_from_previous_step": None,
                }
            else:
                before = reached[
                    (reached["milestone"] == previous.milestone) & reached["customer_id"].isin(members.index)
                ].set_index("customer_id")["reached_at"]
                now = here.set_index("customer_id")["reached_at"]
                both = before.index.intersection(now.index)
                gaps = ((now[both] - before[both]).dt.total_seconds() / 3600).clip(lower=0)
                dropped = len(before.index.difference(now.index))
                row |= {
                    "median_hours_from_previous_step": _median(gaps),
                    "reached_previous_step": len(before),
                    "drop_off_from_previous_step": _share(dropped, len(before)),
                }
            expected.append(row)
    _assert_equal(mart, expected, ["track", "milestone"])
    # not a vacuous comparison: people drop off and some steps are reached out of order
    assert mart["drop_off_from_previous_step"].max() > 0


def test_adoption_velocity_matches_the_staged_events(
    built: Path, customers: pd.DataFrame, reached: pd.DataFrame
):
    mart = _read(built, "select * from main.adoption_velocity")
    longest = max(WINDOWS)
    within = {days: reached[_within(reached, days)].groupby("customer_id").size() for days in WINDOWS}
    ordered = reached.sort_values(["customer_id", "reached_at", "step"])
    second = ordered.groupby("customer_id")["hours"].nth(1)
    second.index = ordered.loc[second.index, "customer_id"]
    expected = []
    for week in sorted(set(customers["signup_cohort_week"])):
        cohort = customers[customers["signup_cohort_week"] == week]
        for track in TRACKS:
            members = _of_track(cohort, track)
            row: dict = {"signup_cohort_week": week, "track": track, "customers": len(members)}
            for days in WINDOWS:
                matured = members.index[_matured(members["age_hours"], days)]
                counts = within[days].reindex(matured, fill_value=0)
                row[f"matured_{days}d"] = len(matured)
                row[f"milestones_within_{days}d_mean"] = float(counts.mean()) if len(matured) else None
            old = members[_matured(members["age_hours"], longest)]
            seconds = second.reindex(old.index).dropna()
            row["median_hours_to_second_milestone"] = _median(seconds[seconds <= longest * 24])
            expected.append(row)
    _assert_equal(mart, expected, ["signup_cohort_week", "track"])
    # young cohorts have null means, old ones numbers
    assert (
        mart["milestones_within_14d_mean"].isna().any() and mart["milestones_within_14d_mean"].notna().any()
    )


def _tier_as_of(events: pd.DataFrame, customers: pd.DataFrame, days: int) -> pd.Series:
    """The plan tier rule over the assignments up to signup_at + days (inclusive)."""
    signups = events[(events["event_name"] == "signup_completed") & events["plan_tier"].notna()]
    changes = events[(events["event_name"] == "plan_changed") & events["to_tier"].notna()]
    assignments = pd.concat(
        [signups.assign(tier=signups["plan_tier"]), changes.assign(tier=changes["to_tier"])]
    )
    assignments = assignments[assignments["customer_id"].isin(customers.index)]
    moment = assignments["customer_id"].map(customers["signup_at"]) + timedelta(days=days)
    assignments = assignments[assignments["occurred_at"] <= moment]
    tiers = {}
    for customer_id, group in assignments.groupby("customer_id"):
        # the last by occurred_at, then received_at (a null never wins), then event_id
        last = max(
            group.itertuples(),
            key=lambda e: (
                e.occurred_at,
                not pd.isna(e.received_at),
                e.received_at if not pd.isna(e.received_at) else 0,
                e.event_id.encode(),
            ),
        )
        tiers[customer_id] = last.tier
    return pd.Series(tiers, dtype=object)


def test_score_vs_expansion_matches_the_staged_events(
    built: Path, customers: pd.DataFrame, events: pd.DataFrame
):
    mart = _read(built, "select * from main.score_vs_expansion")
    eligible = customers[_matured(customers["age_hours"], EXPANSION_DAYS)].copy()
    start = _tier_as_of(events, eligible, CHECKPOINT_DAY).reindex(eligible.index).map(TIER_RANK)
    end = _tier_as_of(events, eligible, EXPANSION_DAYS).reindex(eligible.index).map(TIER_RANK)
    eligible["band"] = eligible[f"score_at_day_{CHECKPOINT_DAY}"].map(_band)
    eligible["expanded"] = end > start
    eligible["contracted"] = end < start
    eligible["churned"] = eligible["subscription_status"].isin(["cancelled", "deleted"])
    names = [band["priority"] for band in BANDS] + [VARS["lowest_priority"]]
    expected = []
    for track in TRACKS:
        members = _of_track(eligible, track)
        for order, name in enumerate(names, start=1):
            cell = members[members["band"] == name]
            arr = cell["arr"].dropna().astype(float)
            expected.append(
                {
                    "track": track,
                    "score_band": name,
                    "band_order": order,
                    "customers": len(cell),
                    "expanded": int(cell["expanded"].sum()),
                    "expansion_rate": _share(int(cell["expanded"].sum()), len(cell)),
                    "contracted": int(cell["contracted"].sum()),
                    "contracted_rate": _share(int(cell["contracted"].sum()), len(cell)),
                    "churned": int(cell["churned"].sum()),
                    "churned_rate": _share(int(cell["churned"].sum()), len(cell)),
                    "customers_with_arr": len(arr),
                    "mean_arr": float(arr.mean()) if len(arr) else None,
                }
            )
    _assert_equal(mart, expected, ["track", "score_band"])
    assert eligible["expanded"].sum() > 0


def test_the_generators_injected_expansion_relation_is_recovered(
    built: Path, customers: pd.DataFrame, events: pd.DataFrame
):
    """onboard/generate/expansion.py makes customers who reach more milestones within 14 days
    upgrade more often between day 14 and day 60; the manifest records it, and the marts show it."""
    manifest = json.loads((built.parent / "raw" / "manifest.json").read_text())
    relation = manifest["expansion"]
    assert (relation["from_day"], relation["to_day"]) == (CHECKPOINT_DAY, EXPANSION_DAYS)
    counts = relation["by_milestones_within_window"]

    def injected(keys: list[str]) -> float:
        return sum(counts[k]["upgraded"] for k in keys) / sum(counts[k]["customers"] for k in keys)

    assert injected(["3", "4", "5"]) > injected(["0", "1"])

    eligible = customers[_matured(customers["age_hours"], EXPANSION_DAYS)]
    start = _tier_as_of(events, eligible, CHECKPOINT_DAY).reindex(eligible.index).map(TIER_RANK)
    end = _tier_as_of(events, eligible, EXPANSION_DAYS).reindex(eligible.index).map(TIER_RANK)
    expanded = end > start
    early = eligible[f"milestones_reached_within_{CHECKPOINT_DAY}d"]
    assert expanded[early >= 3].mean() > expanded[early <= 1].mean()

    bands = _read(
        built,
        "select score_band, expansion_rate from main.score_vs_expansion where track = 'all' order by band_order",
    )
    rates = dict(zip(bands["score_band"], bands["expansion_rate"], strict=True))
    assert rates[BANDS[0]["priority"]] < rates[VARS["lowest_priority"]]
