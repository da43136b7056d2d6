"""The GX suites in expectations/, generated from the tracking plan and validation.yml.

One suite per event of the plan (its required and typed properties), one for the events
table as a whole (unusable rows per reason), and one per raw table beside it. Suites are
GX Core 1.x's own JSON (`ExpectationSuite.to_json_dict()`); each expectation's `meta`
names its check (the key of validation.yml), property and kind, and `mostly` / `severity`
carry the tolerated share and the level. Regenerate after editing the plan or the config:

    python -m onboard.validate.suites --write     # or --check (exit 1 when they drifted)
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

from onboard.core.paths import DBT_PROJECT_FILE
from onboard.core.project_config import ConfigModel, dbt_vars_as
from onboard.core.raw_tables import EMAIL_EVENT_TYPES, SUBSCRIPTION_STATUSES, UNUSABLE_REASONS
from onboard.core.tracking_plan import Property, TrackingPlan, load_tracking_plan
from onboard.validate.config import (
    EXPECTATIONS_DIR,
    ValidationConfig,
    load_config,
)

GX_VERSION = "1.24.1"
EVENTS_SUITE = "events"
TABLE_SUITES = ("accounts", "subscriptions", "email_events", "routing_audits")
#: The raw tables validated as whole snapshots, not as a window of arrivals: no share floor
#: (docs/definitions.md#validation-tolerances).
SNAPSHOT_SUITES = ("accounts", "subscriptions", "routing_audits")
#: arr is a non-negative decimal; staging reads anything else as null (docs/definitions.md#negative-arr).
ARR_PATTERN = r"^[0-9]{1,18}(?:\.[0-9]{1,6})?$"
#: An event that occurred more than an hour after it was received is future-dated
#: (docs/definitions.md#future-dated).
FUTURE_DATED_HOURS = 1.0
#: Event_ids re-sent with different content: one copy is kept, the others only counted
#: (docs/definitions.md#conflicting-duplicates).
CONFLICTS_CHECK = "events.conflicting_duplicates"
INTEGER_PATTERNS = {
    "positive_integer": r"^[1-9][0-9]*$",
    "non_negative_integer": r"^(?:0|[1-9][0-9]*)$",
}


class TrackVars(ConfigModel):
    """The var of dbt_project.yml that routing audits are checked against."""

    tracks: tuple[str, ...] = ()


@cache
def project_tracks(path: Path = DBT_PROJECT_FILE) -> tuple[str, ...]:
    """The onboarding tracks (var `tracks` of dbt_project.yml)."""
    return dbt_vars_as(TrackVars, path).tracks


def _expectation(
    kind: str,
    kwargs: dict[str, Any],
    check: str,
    meta: dict[str, str],
    config: ValidationConfig,
    default_severity: str = "critical",
) -> dict[str, Any]:
    level = config.level(check, default_severity)
    mostly = round(1.0 - level.tolerated_share, 10)
    if mostly < 1.0:
        kwargs = {**kwargs, "mostly": mostly}
    return {
        "type": kind,
        "kwargs": kwargs,
        "meta": {"check": check, **meta},
        "severity": level.severity,
    }


def _format_expectation(event: str, prop: Property, plan: TrackingPlan) -> tuple[str, dict[str, Any]] | None:
    """The GX expectation that checks a property's value is well formed, if its type has one."""
    if prop.type == "email":
        return "expect_column_values_to_match_regex", {"column": prop.name, "regex": plan.email_pattern}
    if prop.type == "tier":
        return "expect_column_values_to_be_in_set", {"column": prop.name, "value_set": list(plan.plan_tiers)}
    if prop.type in INTEGER_PATTERNS:
        return "expect_column_values_to_match_regex", {
            "column": prop.name,
            "regex": INTEGER_PATTERNS[prop.type],
        }
    return None


def event_suite(event: str, plan: TrackingPlan, config: ValidationConfig) -> dict[str, Any]:
    """The suite of one event of the plan."""
    expectations = []
    for prop in plan.events[event]:
        check = f"{event}.{prop.name}"
        meta = {"event": event, "property": prop.name}
        severity = "critical" if prop.required else "warning"
        if prop.required:
            expectations.append(
                _expectation(
                    "expect_column_values_to_not_be_null",
                    {"column": prop.name},
                    check,
                    {**meta, "kind": "missing"},
                    config,
                )
            )
        formatted = _format_expectation(event, prop, plan)
        if formatted is not None:
            kind, kwargs = formatted
            expectations.append(
                _expectation(kind, kwargs, check, {**meta, "kind": "malformed"}, config, severity)
            )
    return _suite(event, expectations)


def events_suite(config: ValidationConfig) -> dict[str, Any]:
    """The events table as a whole: unusable rows per reason (docs/definitions.md#unusable-rows),
    future-dated events, and event_ids re-sent with conflicting content (a warning)."""
    expectations = [
        _expectation(
            "expect_column_values_to_not_be_in_set",
            {"column": "unusable_reason", "value_set": [reason]},
            f"unusable.{reason}",
            {"event": "events", "property": reason, "kind": "unusable"},
            config,
        )
        for reason in UNUSABLE_REASONS
    ]
    expectations.append(
        _expectation(
            "expect_column_values_to_be_between",
            {"column": "hours_ahead", "max_value": FUTURE_DATED_HOURS},
            "events.future_dated",
            {"event": "events", "property": "occurred_at", "kind": "future_dated"},
            config,
            default_severity="warning",
        )
    )
    expectations.append(
        _expectation(
            "expect_column_values_to_be_null",
            {"column": "conflicting_copies"},
            CONFLICTS_CHECK,
            {"event": "events", "property": "event_id", "kind": "conflicting_duplicates"},
            config,
            default_severity="warning",
        )
    )
    return _suite(EVENTS_SUITE, expectations)


def table_suite(table: str, config: ValidationConfig) -> dict[str, Any]:
    """One raw table beside events: its key present and its coded values in their set."""
    key = "event_id" if table == "email_events" else "customer_id"
    expectations = [
        _expectation(
            "expect_column_values_to_not_be_null",
            {"column": key},
            f"{table}.{key}",
            {"event": table, "property": key, "kind": "missing"},
            config,
        )
    ]
    if table == "accounts":
        expectations.append(
            _expectation(
                "expect_column_values_to_match_regex",
                {"column": "arr", "regex": ARR_PATTERN},
                "accounts.arr",
                {"event": table, "property": "arr", "kind": "malformed"},
                config,
            )
        )
    coded = {
        "subscriptions": ("status", SUBSCRIPTION_STATUSES),
        "email_events": ("event_type", EMAIL_EVENT_TYPES),
        "routing_audits": ("audited_track", project_tracks()),
    }
    if table in coded:
        column, values = coded[table]
        expectations.append(
            _expectation(
                "expect_column_values_to_be_in_set",
                {"column": column, "value_set": list(values)},
                f"{table}.{column}",
                {"event": table, "property": column, "kind": "malformed"},
                config,
            )
        )
    return _suite(table, expectations)


def _suite(name: str, expectations: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "id": None,
        "expectations": expectations,
        "meta": {"great_expectations_version": GX_VERSION, "generated_by": "onboard.validate.suites"},
        "notes": None,
    }


def build_suites(
    plan: TrackingPlan | None = None, config: ValidationConfig | None = None
) -> dict[str, dict[str, Any]]:
    """Every suite, by name, as GX JSON dicts."""
    plan = plan or load_tracking_plan()
    config = config or load_config()
    suites = {event: event_suite(event, plan, config) for event in plan.event_names}
    suites[EVENTS_SUITE] = events_suite(config)
    for table in TABLE_SUITES:
        suites[table] = table_suite(table, config)
    return suites


def suite_text(suite: dict[str, Any]) -> str:
    """The file content of a suite (stable: same suite, same bytes)."""
    return json.dumps(suite, indent=2) + "\n"


def write_suites(
    directory: Path = EXPECTATIONS_DIR, suites: dict[str, dict[str, Any]] | None = None
) -> list[Path]:
    """Write every suite as <name>.json; remove generated suites that are no longer in the plan."""
    suites = suites if suites is not None else build_suites()
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.json"):
        if stale.stem not in suites and _is_generated(stale):
            stale.unlink()
    written = []
    for name, suite in suites.items():
        path = directory / f"{name}.json"
        path.write_text(suite_text(suite))
        written.append(path)
    return written


def _is_generated(path: Path) -> bool:
    try:
        meta = json.loads(path.read_text()).get("meta") or {}
    except (OSError, ValueError):
        return False
    return bool(meta.get("generated_by") == "onboard.validate.suites")


def suite_drift(
    directory: Path = EXPECTATIONS_DIR, suites: dict[str, dict[str, Any]] | None = None
) -> list[str]:
    """What differs between the committed suites and the plan + config; empty when in step."""
    suites = suites if suites is not None else build_suites()
    problems = []
    for name, suite in suites.items():
        path = directory / f"{name}.json"
        if not path.exists():
            problems.append(f"{path}: missing (the tracking plan has {name})")
        elif path.read_text() != suite_text(suite):
            problems.append(f"{path}: differs from the tracking plan and validation.yml")
    for path in sorted(directory.glob("*.json")):
        if path.stem not in suites and _is_generated(path):
            problems.append(f"{path}: not in the tracking plan any more")
    return problems


def main(argv: list[str] | None = None) -> int:
    """`python -m onboard.validate.suites --write | --check`."""
    parser = argparse.ArgumentParser(prog="python -m onboard.validate.suites", description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="regenerate expectations/*.json")
    action.add_argument("--check", action="store_true", help="exit 1 when the suites drifted")
    parser.add_argument("--dir", type=Path, default=EXPECTATIONS_DIR)
    args = parser.parse_args(argv)
    if args.write:
        for path in write_suites(args.dir):
            print(f"wrote {path}")
        return 0
    problems = suite_drift(args.dir)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("run: python -m onboard.validate.suites --write", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
