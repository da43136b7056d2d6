"""Experiments in the warehouse (issue 17): assignment, holdout suppression, the arms the sync sends.

The session's warehouse (`built`, tests/conftest.py) is copied once for the module and the
assignment and everything after it rebuilt with var `experiments` given on the command line
(dbt_project.yml keeps `experiments: []`). The assignment is checked against Python's hashlib
for every customer, independently of the SQL, and the same build on PostgreSQL must give the
same rows. The rules' edges are dbt unit tests (models/intermediate/_experiments__unit_tests.yml).
"""

from __future__ import annotations

import datetime as datetime_module
import hashlib
import json
import math
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import pytest

from onboard.core.as_of import dbt_as_of
from onboard.core.project_config import ConfigError, ExperimentConfig, read_experiments
from onboard.core.targets import Target
from sync.destinations.base import DestinationConfig

from .conftest import PROJECT_DIR, allow_replayed_builds, query, run_dbt, sync_both_to_fakes
from .test_sync import AS_OF as SYNC_AS_OF

#: the session's `built` warehouse is built as of test_sync.AS_OF (naive UTC here)
NOW = SYNC_AS_OF.replace(tzinfo=None)
#: the reasons checked before holdout (var suppression_reasons, in order)
EARLIER_REASONS = ("deleted", "churned", "unsubscribed", "payment_failed", "trial_expired")
EXPERIMENTS: list[dict[str, Any]] = [
    {
        "name": "global_holdout",
        "starts_at": f"{NOW - timedelta(days=90):%Y-%m-%d}",
        "control": "holdout",
        "arms": [{"name": "holdout", "weight": 0.2, "holdout": True}, {"name": "automated", "weight": 0.8}],
        "min_customers_per_arm": 50,
    },
    {
        # ended before as_of: its holdout arm no longer withholds anyone
        "name": "pro_copy",
        "starts_at": f"{NOW - timedelta(days=75, hours=5):%Y-%m-%d %H:%M:%S}",
        "ends_at": f"{NOW - timedelta(days=10):%Y-%m-%d}",
        "eligible": {"plan_tiers": ["pro", "enterprise"], "signup_sources": ["web", "invite", "marketplace"]},
        "control": "old",
        "arms": [{"name": "old", "weight": 0.5, "holdout": True}, {"name": "new", "weight": 0.5}],
    },
]
VARIABLES = {"as_of": dbt_as_of(SYNC_AS_OF), "experiments": EXPERIMENTS}
PLAN_TIERS = ["free", "trial", "pro", "enterprise"]


def expected_arm(experiment: dict[str, Any], customer_id: str) -> dict[str, Any]:
    """The issue's rule written out: u from hashlib, the first arm whose cumulative weight exceeds u."""
    digest = hashlib.md5(f"{experiment['name']}:{customer_id}".encode()).hexdigest()
    u = int(digest[:8], 16) / 2**32
    cumulative = 0.0
    for arm in experiment["arms"]:
        cumulative += arm["weight"]
        if u < cumulative:
            return arm
    return experiment["arms"][-1]


def eligible(experiment: dict[str, Any], signup_at: datetime, source: str | None, tier: str | None) -> bool:
    starts_at = datetime.fromisoformat(experiment["starts_at"])
    ends_at = experiment.get("ends_at")
    rules = experiment.get("eligible") or {}
    return (
        signup_at >= starts_at
        and (ends_at is None or signup_at < datetime.fromisoformat(ends_at))
        and ("plan_tiers" not in rules or tier in rules["plan_tiers"])
        and ("signup_sources" not in rules or source in rules["signup_sources"])
    )


@pytest.fixture(scope="module")
def baseline(built: Path) -> Target:
    """The session's warehouse as built without experiments (read only)."""
    return Target("duckdb", "duckdb", {"type": "duckdb", "path": str(built), "schema": "main"})


@pytest.fixture(scope="module")
def target(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Target:
    """A copy of the session's warehouse, the assignment and everything after it rebuilt with the
    experiments configured."""
    work = tmp_path_factory.mktemp("experiments")
    path = work / "w.duckdb"
    shutil.copy(built, path)
    rebuilt = run_dbt(
        "build",
        "--select",
        "int_experiment_assignments+ int_customers_suppressed+",
        "--exclude",
        "test_type:unit",
        "--vars",
        json.dumps(VARIABLES),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        warehouse=path,
    )
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    return Target("duckdb", "duckdb", {"type": "duckdb", "path": str(path), "schema": "main"})


@pytest.fixture(scope="module")
def assignments(target: Target) -> dict[tuple[str, str], tuple[str, bool, datetime, str | None]]:
    rows = query(
        target,
        "select experiment, customer_id, arm, is_holdout, assigned_at, track from main.experiment_assignments",
    )
    return {(e, c): (arm, holdout, at, track) for e, c, arm, holdout, at, track in rows}


def running_holdouts(assignments: dict) -> set[str]:
    """Customers in a holdout arm of an experiment running as of as_of (only global_holdout runs)."""
    return {c for (e, c), (_, holdout, _, _) in assignments.items() if holdout and e == "global_holdout"}


def test_every_assignment_equals_hashlib_and_only_eligible_customers_are_assigned(target, assignments):
    signups = query(
        target,
        "select customers.customer_id, customers.signup_at, customers.signup_source, events.plan_tier, "
        "events.occurred_at, events.received_at, events.event_id "
        "from main_intermediate.int_customers_signed_up as customers "
        "inner join main_staging.stg_product__events as events "
        "on events.customer_id = customers.customer_id and events.event_name = 'signup_completed' "
        f"where events.occurred_at <= timestamp '{VARIABLES['as_of']}'",
    )
    first: dict[str, tuple] = {}
    for row in sorted(signups, key=lambda r: (r[4], r[5] is None, r[5] or r[4], r[6])):
        first.setdefault(row[0], row)
    expected = {}
    for experiment in EXPERIMENTS:
        for customer_id, signup_at, source, tier, *_ in first.values():
            if eligible(experiment, signup_at, source, tier):
                arm = expected_arm(experiment, customer_id)
                expected[(experiment["name"], customer_id)] = (
                    arm["name"],
                    arm.get("holdout", False),
                    signup_at,
                )

    assert {key: value[:3] for key, value in assignments.items()} == expected
    assert {e for e, _ in expected} == {"global_holdout", "pro_copy"}
    # the Python reader's arm_for is the same rule
    for experiment in read_experiments(PROJECT_DIR, VARIABLES):
        assert all(
            experiment.arm_for(c).name == arm
            for (e, c), (arm, *_) in assignments.items()
            if e == experiment.name
        )
    # track is the customer's, as onboarding_customers has it
    tracks = dict(query(target, "select customer_id, track from main.onboarding_customers"))
    assert all(track == tracks[c] for (_, c), (*_, track) in assignments.items())


def test_arm_shares_are_within_tolerance_of_the_weights(assignments):
    for experiment in EXPERIMENTS:
        arms = [arm for (e, _), (arm, *_) in assignments.items() if e == experiment["name"]]
        assert len(arms) >= 50, experiment["name"]
        for arm in experiment["arms"]:
            share, weight = arms.count(arm["name"]) / len(arms), arm["weight"]
            # 4 standard deviations of a binomial share (the data are fixed: a loose, stable bound)
            assert abs(share - weight) < 4 * math.sqrt(weight * (1 - weight) / len(arms)), arm


def test_holdout_customers_get_reason_holdout_unless_an_earlier_reason_holds(target, baseline, assignments):
    held = running_holdouts(assignments)
    columns = "customer_id, suppress_onboarding, suppression_reason, global_suppression"
    before = {row[0]: row[1:] for row in query(baseline, f"select {columns} from main.esp_people")}
    after = {row[0]: row[1:] for row in query(target, f"select {columns} from main.esp_people")}

    assert set(after) == set(before) and held
    for customer_id, (suppressed, reason, global_suppression) in before.items():
        if customer_id in held and reason not in EARLIER_REASONS:
            # withheld from onboarding only: transactional and product mail still reach them
            assert after[customer_id] == (True, "holdout", False), customer_id
        else:
            assert after[customer_id] == (suppressed, reason, global_suppression), customer_id
    assert sum(reason == "holdout" for _, reason, _ in after.values()) > len(held) // 3

    contacts = {
        c: (s, r)
        for c, s, r in query(
            target, "select customer_id, suppress_onboarding, suppression_reason from main.crm_contacts"
        )
    }
    assert all(contacts[c][0] for c in held if c in contacts)
    assert (
        {c for c, (_, r) in contacts.items() if r == "holdout"}
        == {c for c in contacts if after[c][1] == "holdout"}
        != set()
    )


def test_holdout_customers_stay_in_every_mart_and_metric(target, baseline):
    """Only the suppression columns move; every report counts the holdout as before."""
    for relation, ignored in [
        ("main.onboarding_customers", {"suppress_onboarding", "suppression_reason", "global_suppression"}),
        ("main.path_metrics", set()),
        ("main.cohort_routing_report", set()),
    ]:
        names = [
            n
            for (n,) in query(
                baseline,
                f"select column_name from information_schema.columns where table_schema || '.' || table_name = '{relation}' order by ordinal_position",
            )
        ]
        kept = ", ".join(n for n in names if n not in ignored)
        assert names and sorted(query(target, f"select {kept} from {relation}"), key=repr) == sorted(
            query(baseline, f"select {kept} from {relation}"), key=repr
        ), relation


def test_each_experiment_reaches_both_sync_marts_as_data(target, assignments):
    arms: dict[str, dict[str, str]] = {}
    for (experiment, customer_id), (arm, *_) in assignments.items():
        arms.setdefault(customer_id, {})[experiment] = arm
    people = query(target, "select customer_id, exp_global_holdout, exp_pro_copy from main.esp_people")
    assert people and all(
        (g, p) == (arms.get(c, {}).get("global_holdout"), arms.get(c, {}).get("pro_copy"))
        for c, g, p in people
    )
    contacts = query(target, "select customer_id, experiment_arms from main.crm_contacts")
    for customer_id, pairs in contacts:
        mine = arms.get(customer_id, {})
        assert pairs == (";".join(f"{e}:{a}" for e, a in sorted(mine.items())) or None), customer_id
    assert any(";" in (pairs or "") for _, pairs in contacts)


def test_stall_alerts_keep_holdout_customers_and_onboard_alerts_posts_none_for_them(target, assignments):
    from onboard.alerts import run_alerts, summary_lines

    held = running_holdouts(assignments)
    stalled = dict(query(target, "select customer_id, is_holdout from main.stall_alerts"))
    assert stalled and all(flag == (c in held) for c, flag in stalled.items())
    withheld = sum(stalled.values())
    assert withheld > 0

    result = run_alerts(target, dry_run=True, now=SYNC_AS_OF)

    posted = {alert.customer_id for outcome in result.outcomes for alert in outcome.message.alerts}
    assert posted and not posted & held
    assert posted == {c for c, flag in stalled.items() if not flag}
    assert result.plan.withheld == withheld
    assert (
        f"  {withheld} stalled customers in a holdout arm of a running experiment: "
        "no alert (the experiment withholds onboarding from them)"
    ) in summary_lines(result)


def test_the_sync_sends_every_arm_and_setup_creates_the_hubspot_property(target, tmp_path, monkeypatch):
    copy = tmp_path / "w.duckdb"
    shutil.copy(target.duckdb_path, copy)
    mine = Target("duckdb", "duckdb", {**target.settings, "path": str(copy)})
    allow_replayed_builds(tmp_path, monkeypatch)

    contacts, people = sync_both_to_fakes(mine, monkeypatch)

    marts = dict(query(mine, "select email, experiment_arms from main.crm_contacts"))
    assert set(contacts) == set(marts) and any(marts.values())
    assert all(
        contacts[email].get("onboarding_experiment_arms", "") == (arms or "") for email, arms in marts.items()
    )
    for customer_id, global_arm, pro_arm in query(
        mine, "select customer_id, exp_global_holdout, exp_pro_copy from main.esp_people"
    ):
        assert people[customer_id].get("exp_global_holdout") == global_arm
        assert people[customer_id].get("exp_pro_copy") == pro_arm


def test_prefixed_columns_become_fields_only_when_the_model_has_them():
    config = DestinationConfig.model_validate(
        {
            "model": "esp_people",
            "key": "customer_id",
            "fields": {"customer_id": None, "exp_fixed": {"property": "fixed"}},
            "column_prefixes": {
                "exp_": {"type": "string"},
                "arms": {"property_prefix": "p_arms", "label": "Arms"},
            },
        }
    )
    assert config.with_columns(["customer_id", "as_of"]) is config
    wider = config.with_columns(["customer_id", "exp_fixed", "exp_a", "arms", "arms_b", "as_of"])
    assert [(f.column, f.property, f.label) for f in wider.fields] == [
        ("customer_id", "customer_id", "customer_id"),
        ("exp_fixed", "fixed", "fixed"),
        ("exp_a", "exp_a", "exp_a"),
        ("arms", "p_arms", "Arms"),
        ("arms_b", "p_arms_b", "Arms b"),
    ]
    assert [f.column for f in config.fields] == ["customer_id", "exp_fixed"]


# --- the configuration: the Python reader and the SQL's check say the same -----------------

GOOD = EXPERIMENTS[0]


def _with(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


BROKEN = [
    (
        _with(name="Holdout"),
        "vars.experiments.Holdout.name: expected a name of lower-case letters, digits and _ "
        "starting with a letter, got 'Holdout'",
    ),
    (
        {k: v for k, v in GOOD.items() if k != "control"},
        "vars.experiments.global_holdout.control: expected a value (the key is missing)",
    ),
    (
        _with(starts_at="2026-09"),
        "vars.experiments.global_holdout.starts_at: expected a UTC date or date-time "
        "like '2026-09-01' or '2026-09-01 08:00:00', got '2026-09'",
    ),
    (
        _with(starts_at="2026-09-01", ends_at="2026-09-01 00:00:00"),
        "vars.experiments.global_holdout.ends_at: expected a time after starts_at "
        "(2026-09-01 00:00:00), got 2026-09-01 00:00:00",
    ),
    (
        _with(eligible=["pro"]),
        "vars.experiments.global_holdout.eligible: expected a mapping of plan_tiers and signup_sources, got ['pro']",
    ),
    (
        _with(eligible={"plan_tiers": ["gold"]}),
        "vars.experiments.global_holdout.eligible.plan_tiers: expected "
        "tiers of var plan_tiers ['free', 'trial', 'pro', 'enterprise'], got 'gold'",
    ),
    (
        _with(eligible={"signup_sources": []}),
        "vars.experiments.global_holdout.eligible.signup_sources: expected a non-empty list, got []",
    ),
    (
        _with(eligible={"signup_sources": ["web", ""]}),
        "vars.experiments.global_holdout.eligible.signup_sources.1: expected a non-empty text, got ''",
    ),
    (_with(arms=[]), "vars.experiments.global_holdout.arms: expected a non-empty list, got []"),
    (
        _with(arms=["holdout"]),
        "vars.experiments.global_holdout.arms.0: expected an arm (a mapping), got 'holdout'",
    ),
    (
        _with(
            arms=[{"name": "holdout", "weight": 0.05, "holdout": True}, {"name": "automated", "weight": 0.9}]
        ),
        "vars.experiments.global_holdout.arms: expected weights summing to 1, got 0.95",
    ),
    (
        _with(arms=[{"name": "a", "weight": 0.5}, {"name": "a", "weight": 0.5}], control="a"),
        "vars.experiments.global_holdout.arms: expected unique arm names, got 'a' twice",
    ),
    (
        _with(
            arms=[
                {"name": "a", "weight": 0.5, "holdout": True},
                {"name": "b", "weight": 0.5, "holdout": True},
            ],
            control="a",
        ),
        "vars.experiments.global_holdout.arms: expected at most one arm with holdout: true, got ['a', 'b']",
    ),
    (
        _with(arms=[{"name": "a", "weight": 1, "holdout": True}], control="a"),
        "vars.experiments.global_holdout.arms: expected at least one arm that is not a holdout, "
        "got only holdout arms",
    ),
    (
        _with(arms=[{"name": "a", "weight": 0}, {"name": "b", "weight": 1}], control="a"),
        "vars.experiments.global_holdout.arms.0.weight: expected a number > 0 and <= 1, got 0",
    ),
    (
        _with(arms=[{"name": "a", "weight": "0.5"}, {"name": "b", "weight": 0.5}], control="a"),
        "vars.experiments.global_holdout.arms.0.weight: expected a number > 0 and <= 1, got '0.5'",
    ),
    (
        _with(
            arms=[{"name": "a", "weight": 0.5, "holdout": "yes"}, {"name": "b", "weight": 0.5}], control="a"
        ),
        "vars.experiments.global_holdout.arms.0.holdout: expected true or false, got 'yes'",
    ),
    (
        _with(arms=[{"name": "a", "weight": 0.5, "share": 1}, {"name": "b", "weight": 0.5}], control="a"),
        "vars.experiments.global_holdout.arms.0.share: expected no such key (unknown)",
    ),
    (
        _with(control="treatment"),
        "vars.experiments.global_holdout.control: expected one of the arms "
        "['holdout', 'automated'], got 'treatment'",
    ),
    (
        _with(min_customers_per_arm=0),
        "vars.experiments.global_holdout.min_customers_per_arm: expected an integer >= 1, got 0",
    ),
    (
        _with(min_customers_per_arm=1.5),
        "vars.experiments.global_holdout.min_customers_per_arm: expected an integer >= 1, got 1.5",
    ),
    (_with(salt="x"), "vars.experiments.global_holdout.salt: expected no such key (unknown)"),
]


@pytest.mark.parametrize(("experiment", "line"), BROKEN)
def test_a_broken_experiment_is_one_line_naming_it_and_the_key(experiment, line):
    with pytest.raises(ConfigError) as raised:
        read_experiments(PROJECT_DIR, {"experiments": [experiment]})
    assert str(raised.value) == f"--vars: {line}"


def test_experiment_names_are_unique_and_the_defaults_configure_none():
    with pytest.raises(
        ConfigError, match=r"^--vars: vars.experiments.global_holdout.name: expected a unique name"
    ):
        read_experiments(PROJECT_DIR, {"experiments": [GOOD, GOOD]})
    assert read_experiments(PROJECT_DIR) == []
    parsed = read_experiments(PROJECT_DIR, VARIABLES)
    assert [e.name for e in parsed] == ["global_holdout", "pro_copy"]
    assert isinstance(parsed[0], ExperimentConfig) and parsed[0].ends_at is None
    assert parsed[1].eligible.plan_tiers == ("pro", "enterprise") and parsed[1].min_customers_per_arm == 100
    assert parsed[0].is_running(NOW) and not parsed[1].is_running(NOW)


class CompilerError(Exception):
    """exceptions.raise_compiler_error in sql_experiments."""


def sql_experiments(variables: dict[str, Any]) -> Any:
    """macros/experiments.sql's `experiments()` rendered with these vars as dbt renders it (Jinja
    with `do`; dbt's var, modules, exceptions and return): the checked list, or CompilerError.
    (A dbt parse per case would cost seconds each; tests/test_experiment_assignment.py's build
    runs the macro in dbt itself.)"""
    returned = type("Returned", (Exception,), {})

    def give_back(value: Any) -> None:
        raise returned(value)

    def raise_compiler_error(message: str) -> None:
        raise CompilerError(message)

    environment = jinja2.Environment(extensions=["jinja2.ext.do"])
    environment.globals.update(
        var=lambda name, default=None: variables.get(name, default),
        modules=SimpleNamespace(re=re, datetime=datetime_module),
        exceptions=SimpleNamespace(raise_compiler_error=raise_compiler_error),
        **{"return": give_back},
    )
    macros = environment.from_string((PROJECT_DIR / "macros" / "experiments.sql").read_text()).module
    try:
        macros.experiments()  # type: ignore[attr-defined]
    except returned as value:
        return value.args[0]
    raise AssertionError("experiments() returned nothing")


@pytest.mark.parametrize(("experiment", "line"), BROKEN)
def test_the_sql_refuses_each_broken_experiment_with_the_python_readers_words(experiment, line):
    with pytest.raises(CompilerError) as raised:
        sql_experiments({"experiments": [experiment], "plan_tiers": PLAN_TIERS})
    assert str(raised.value) == line


def test_the_sql_accepts_what_the_python_reader_accepts():
    checked = sql_experiments({**VARIABLES, "plan_tiers": PLAN_TIERS})
    assert [e["name"] for e in checked] == [e.name for e in read_experiments(PROJECT_DIR, VARIABLES)]
    assert sql_experiments({"experiments": [], "plan_tiers": PLAN_TIERS}) == []
    with pytest.raises(CompilerError, match=r"^vars.experiments.global_holdout.name: expected a unique name"):
        sql_experiments({"experiments": [GOOD, GOOD], "plan_tiers": PLAN_TIERS})


# --- the same assignments on PostgreSQL -----------------------------------------------------


@pytest.fixture(scope="module")
def postgres_assignments(built: Path) -> Iterator[list[tuple]]:
    """The session's raw data loaded into a PostgreSQL sandbox and only the assignment (and what it
    reads) built there: one small build."""
    from onboard.core.dbt import dbt_environment, dbt_executable
    from onboard.load import load

    from .postgres import require_server, sandbox

    server = require_server()
    work = built.parent / "experiments-postgres"
    with sandbox(server) as box:
        load(built.parent / "raw", box.target(), schema=box.raw_schema)
        run = subprocess.run(
            [
                dbt_executable(),
                "run",
                "--select",
                "+int_experiment_assignments",
                "--target",
                "postgres",
                "--vars",
                json.dumps({**VARIABLES, "raw_schema": box.raw_schema}),
                "--target-path",
                str(work / "target"),
                "--log-path",
                str(work / "logs"),
            ],
            cwd=PROJECT_DIR,
            env={**dbt_environment(box.target()), **box.environment},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert run.returncode == 0, run.stdout[-3000:]
        _, rows = box.query(
            "select experiment, customer_id, arm, is_holdout, is_running, assigned_at, assignment_hash "
            f'from "{box.schema}_intermediate".int_experiment_assignments'
        )
        yield rows


@pytest.mark.postgres
def test_postgres_assigns_every_customer_as_duckdb_does(target, postgres_assignments):
    duck = query(
        target,
        "select experiment, customer_id, arm, is_holdout, is_running, assigned_at, assignment_hash "
        "from main_intermediate.int_experiment_assignments",
    )
    assert len(duck) > 300
    assert sorted(postgres_assignments) == sorted(duck)


def test_a_build_with_a_broken_experiment_stops_before_dbt_with_one_line(duckdb_target):
    from onboard.build import build

    broken = {"experiments": [{"name": "Bad-Name", "starts_at": "2026-01-01", "control": "a", "arms": []}]}
    with pytest.raises(ConfigError, match=r"vars\.experiments.*Bad-Name") as caught:
        build(duckdb_target, overrides=broken)
    assert "\n" not in str(caught.value)
    assert not duckdb_target.duckdb_path.exists()  # dbt never ran: no warehouse was made


def test_an_assignment_never_changes_at_a_later_as_of(built, tmp_path, assignments):
    """Built 30 days earlier, every customer then assigned has the same arm later; later builds only add."""
    path = tmp_path / "earlier.duckdb"
    shutil.copy(built, path)
    earlier = {**VARIABLES, "as_of": dbt_as_of(SYNC_AS_OF - timedelta(days=30))}
    rebuilt = run_dbt(
        "build",
        "--select",
        "+experiment_assignments",
        "--exclude",
        "test_type:unit",
        # only the tests of what this build rebuilds: a relationships test of a mart left as it was
        # (journey_events, csm_tasks) against onboarding_customers rebuilt earlier would compare two days
        "--indirect-selection",
        "cautious",
        "--vars",
        json.dumps(earlier),
        "--target-path",
        str(tmp_path / "target"),
        "--log-path",
        str(tmp_path / "logs"),
        warehouse=path,
    )
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    target = Target("duckdb", "duckdb", {"type": "duckdb", "path": str(path), "schema": "main"})
    then = {
        (e, c): (arm, at)
        for e, c, arm, at in query(
            target, "select experiment, customer_id, arm, assigned_at from main.experiment_assignments"
        )
    }
    assert 0 < len(then) < len(assignments)
    assert {key: (arm, at) for key, (arm, _, at, _) in assignments.items() if key in then} == then
