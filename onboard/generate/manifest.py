"""manifest.json: what `onboard generate` wrote, counted exactly while writing it.

Tests and `onboard validate` compare their own counts against this file, so every number
is exact for the files beside it. Format (generator_version 1):

```
{
  "generator_version": 1,
  "seed": 42, "customers": 1000, "as_of": "2026-03-16T12:00:00Z",
  "format": "parquet", "history_days": 120,
  "breaks": [                      # one entry per --break and event requiring the field
    {"field": "plan_tier", "share": 0.3, "event_name": "signup_completed", "rows": 297}
  ],                               #   rows: usable events the key was removed from
  "tables": {                      # every table written, with its row count
    "events": {"file": "events.parquet", "rows": 31234}, "accounts": {...},
    "subscriptions": {...}, "email_events": {...}, "routing_audits": {...}
  },
  "events": {
    "rows": 31234,                 # rows in the events file
    "duplicate_rows": 300,         # rows sharing a non-null event_id with another row
                                   #   (the copy, with the later received_at)
    "distinct_event_ids": 30900,   # distinct non-null event_id values
    "unusable": {                  # extra unusable rows, by reason (definitions.md#unusable-rows)
      "null_event_id": 0, "null_customer_id": 0, "null_occurred_at": 0,
      "unknown_event_name": 0, "invalid_properties": 0
    },
    "usable": 30600,               # distinct usable events (after de-duplication)
    "usable_by_event_name": {"signup_completed": 1000, ...},   # every event of the plan
    "late": 600,                   # usable events with received_at >= occurred_at + 24 h
    "future_dated": 15,            # usable events with occurred_at > received_at + 1 h
    "broken_properties": {         # every required property of the plan: usable events
      "signup_completed.email": 0, #   where it is absent, JSON null, "" or malformed
      "signup_completed.plan_tier": 0, ...     # (tier, email: definitions.md#value-parsing)
    },
    "malformed_optional": {        # optional properties of a checked type (email, tier,
      "signup_completed.company_size": 9, ...      # integers): present but invalid
    }
  },
  "email_events": {"rows": 9000, "duplicate_rows": 90},   # duplicates: same event_id
  "customers_by_track": {"high_touch": 98, "standard": 651, "self_serve": 251},
  "lifts": [                       # one entry per --lift (onboard/generate/lift.py)
    {"experiment": "global_holdout", "arm": "automated", "delta": 0.08,
     "customers": 950, "changed": 41}  # customers: generated in the arm; changed: activations moved
  ],
  "expansion": {                   # the injected upgrades (onboard/generate/expansion.py):
    "base_rate": 0.01, "per_milestone_rate": 0.06,   # P(upgrade) = base + per x milestones
    "from_day": 14, "to_day": 60,  # within checkpoint_day days; upgrade in (day 14, day 60]
    "by_milestones_within_window": {   # customers who could upgrade, >= to_day days old
      "0": {"customers": 120, "upgraded": 1}, "1": {...}, ...
    }
  }
}
```

Usable counts include events dated after as_of (the future-dated ones): usability comes
before the as_of filter (docs/definitions.md#event-deduplication). customers_by_track
routes each customer by the routing rule and var `routing` (docs/definitions.md#routing):
the final valid tier (a plan change's valid to_tier, else the signup's; null routes to
standard), arr from the latest accounts row, company_size from the signup (a JSON integer
>= 1, else null).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from onboard.core.raw_tables import GENERATED_UNUSABLE_REASONS as UNUSABLE_REASONS
from onboard.core.tracking_plan import TrackingPlan
from onboard.generate.expansion import BASE_RATE, PER_MILESTONE_RATE
from onboard.generate.options import GenerateOptions
from onboard.generate.rules import project_vars
from onboard.generate.vocabulary import TRACKS

GENERATOR_VERSION = 1
MANIFEST_FILE = "manifest.json"
TABLES = ("events", "accounts", "subscriptions", "email_events", "routing_audits")


@dataclass
class Tally:
    """Counts of one chunk, or of every chunk so far once added up."""

    table_rows: Counter[str] = field(default_factory=Counter)
    event_rows: int = 0
    duplicate_rows: int = 0
    distinct_event_ids: int = 0
    unusable: Counter[str] = field(default_factory=Counter)
    usable_by_event_name: Counter[str] = field(default_factory=Counter)
    late: int = 0
    future_dated: int = 0
    broken_properties: Counter[str] = field(default_factory=Counter)
    malformed_optional: Counter[str] = field(default_factory=Counter)
    break_rows: Counter[tuple[str, str]] = field(default_factory=Counter)
    email_duplicate_rows: int = 0
    customers_by_track: Counter[str] = field(default_factory=Counter)
    lift_customers: Counter[str] = field(default_factory=Counter)  # --lift key -> customers in the arm
    lift_changed: Counter[str] = field(default_factory=Counter)  # --lift key -> activations moved
    # milestones reached within checkpoint_day days -> customers who could upgrade / upgraded
    expansion_candidates: Counter[str] = field(default_factory=Counter)
    expansion_upgraded: Counter[str] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        """Add another tally's counts to this one."""
        for item in fields(self):
            mine, theirs = getattr(self, item.name), getattr(other, item.name)
            if isinstance(mine, Counter):
                mine.update(theirs)
            else:
                setattr(self, item.name, mine + theirs)


def iso(moment: int | float) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ` of epoch seconds."""
    return datetime.fromtimestamp(int(moment), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _complete(counts: Counter[str], keys: list[str]) -> dict[str, int]:
    return {key: int(counts[key]) for key in keys}


def build_manifest(options: GenerateOptions, as_of: int, plan: TrackingPlan, tally: Tally) -> dict[str, Any]:
    """The manifest of a finished run (see the module docstring)."""
    required = [f"{name}.{p.name}" for name in plan.event_names for p in plan.required(name)]
    optional = [
        f"{name}.{p.name}"
        for name in plan.event_names
        for p in plan.events[name]
        if not p.required and p.type != "text"
    ]
    breaks = [
        {
            "field": b.field,
            "share": b.share,
            "event_name": name,
            "rows": int(tally.break_rows[(b.field, name)]),
        }
        for b in options.breaks
        for name in plan.event_names
        if any(p.name == b.field for p in plan.required(name))
    ]
    usable_by_name = _complete(tally.usable_by_event_name, list(plan.event_names))
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": options.seed,
        "customers": options.customers,
        "as_of": iso(as_of),
        "format": options.fmt,
        "history_days": options.history_days,
        "breaks": breaks,
        "tables": {
            name: {"file": f"{name}.{options.fmt}", "rows": int(tally.table_rows[name])} for name in TABLES
        },
        "events": {
            "rows": tally.event_rows,
            "duplicate_rows": tally.duplicate_rows,
            "distinct_event_ids": tally.distinct_event_ids,
            "unusable": _complete(tally.unusable, list(UNUSABLE_REASONS)),
            "usable": sum(usable_by_name.values()),
            "usable_by_event_name": usable_by_name,
            "late": tally.late,
            "future_dated": tally.future_dated,
            "broken_properties": _complete(tally.broken_properties, required),
            "malformed_optional": _complete(tally.malformed_optional, optional),
        },
        "email_events": {
            "rows": int(tally.table_rows["email_events"]),
            "duplicate_rows": tally.email_duplicate_rows,
        },
        "customers_by_track": _complete(tally.customers_by_track, list(TRACKS)),
        "lifts": [
            {
                "experiment": lift.experiment,
                "arm": lift.arm,
                "delta": lift.delta,
                "customers": int(tally.lift_customers[lift.key]),
                "changed": int(tally.lift_changed[lift.key]),
            }
            for lift in options.lifts
        ],
        "expansion": _expansion(tally),
    }


def _expansion(tally: Tally) -> dict[str, Any]:
    """The injected relation between early milestones and upgrades (onboard/generate/expansion.py)."""
    variables = project_vars()
    keys = sorted({*tally.expansion_candidates, *tally.expansion_upgraded}, key=int)
    return {
        "base_rate": BASE_RATE,
        "per_milestone_rate": PER_MILESTONE_RATE,
        "from_day": variables.checkpoint_day,
        "to_day": variables.expansion_window_days,
        "by_milestones_within_window": {
            key: {
                "customers": int(tally.expansion_candidates[key]),
                "upgraded": int(tally.expansion_upgraded[key]),
            }
            for key in keys
        },
    }


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest as indented JSON (byte-identical for identical manifests)."""
    path.write_text(json.dumps(manifest, indent=2) + "\n")
