"""What `onboard generate` is asked for: GenerateOptions and the `--break FIELD:SHARE` option."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from onboard.core.errors import UsageError
from onboard.core.project_config import ExperimentConfig
from onboard.core.tracking_plan import TrackingPlan, load_tracking_plan
from onboard.generate.lift import Lift, plan_lifts

FORMATS = ("parquet", "csv")


@dataclass(frozen=True)
class Break:
    """`--break FIELD:SHARE`: drop the required property FIELD from SHARE of its events."""

    field: str
    share: float


def breakable_fields(plan: TrackingPlan | None = None) -> dict[str, tuple[str, ...]]:
    """Each required property of the tracking plan -> the events that require it."""
    plan = plan or load_tracking_plan()
    fields: dict[str, tuple[str, ...]] = {}
    for event_name in plan.event_names:
        for prop in plan.required(event_name):
            fields[prop.name] = (*fields.get(prop.name, ()), event_name)
    return fields


def check_break(broken: Break, plan: TrackingPlan | None = None) -> None:
    """Raise UsageError unless FIELD is a required property and 0 < SHARE <= 1."""
    fields = breakable_fields(plan)
    if broken.field not in fields:
        raise UsageError(
            f"--break: {broken.field!r} is not a required property of the tracking plan "
            f"(one of: {', '.join(sorted(fields))})"
        )
    if not (math.isfinite(broken.share) and 0 < broken.share <= 1):
        raise UsageError(f"--break {broken.field}: share {broken.share} is not in (0, 1]")


def parse_break(text: str) -> Break:
    """Parse `FIELD:SHARE` (e.g. `plan_tier:0.3`); UsageError with a one-line message otherwise."""
    field_name, colon, share_text = text.strip().partition(":")
    if not colon or not field_name.strip() or not share_text.strip():
        raise UsageError(f"--break {text!r}: expected FIELD:SHARE, e.g. plan_tier:0.3")
    try:
        share = float(share_text)
    except ValueError:
        raise UsageError(
            f"--break {text!r}: share {share_text.strip()!r} is not a number in (0, 1]"
        ) from None
    broken = Break(field_name.strip(), share)
    check_break(broken)
    return broken


def default_as_of() -> datetime:
    """Now, truncated to the hour, in UTC."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class GenerateOptions:
    """Everything the generated data depends on: the same options give the same bytes."""

    customers: int = 1000
    seed: int = 42
    as_of: datetime = field(default_factory=default_as_of)
    fmt: Literal["parquet", "csv"] = "parquet"
    breaks: tuple[Break, ...] = ()
    history_days: int = 120
    #: --lift: known effects on 14-day activation of experiments' arms (onboard/generate/lift.py)
    lifts: tuple[Lift, ...] = ()
    #: the experiments the lifts name (var experiments, with a build's overrides)
    experiments: tuple[ExperimentConfig, ...] = ()


def check_options(options: GenerateOptions) -> None:
    """Raise UsageError for options that cannot work."""
    if options.customers < 1:
        raise UsageError(f"--customers must be at least 1, not {options.customers}")
    if options.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer, not {options.seed}")
    if options.history_days < 1:
        raise UsageError(f"--history-days must be at least 1, not {options.history_days}")
    if options.as_of.tzinfo is None or options.as_of.utcoffset() is None:
        raise UsageError(f"--as-of {options.as_of.isoformat()} has no time zone (expected UTC)")
    if options.fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {options.fmt!r}")
    seen: set[str] = set()
    for broken in options.breaks:
        check_break(broken)
        if broken.field in seen:
            raise UsageError(f"--break {broken.field} is given more than once")
        seen.add(broken.field)
    plan_lifts(options.lifts, options.experiments)
