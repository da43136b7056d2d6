"""What the manifest reports about the clean events, read back from the generated values.

Property checks follow the tracking plan's property types (docs/definitions.md#property-types);
the track of each customer follows the routing rule (docs/definitions.md#routing) with the
thresholds and tiers of var `routing`, as int_customers_routed applies them.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from onboard.core.tracking_plan import Property, TrackingPlan
from onboard.generate.events import EventBatch
from onboard.generate.rules import codes, project_vars
from onboard.generate.vocabulary import HIGH_TOUCH, SELF_SERVE, STANDARD, TIERS

INTEGER_PATTERNS = {
    "positive_integer": r"^[1-9][0-9]*$",
    "non_negative_integer": r"^(0|[1-9][0-9]*)$",
}


def _quoted(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.starts_with(values, '"'), False))


def is_valid(values: pa.Array, prop: Property, plan: TrackingPlan) -> np.ndarray:
    """True where a JSON value text is present and valid for the property's type.

    text: any value but null and ""; tier: a JSON string in the plan's tiers;
    email: a JSON string matching the plan's email pattern; integers: JSON integers in range.
    """
    if prop.type == "tier":
        tiers = pa.array([f'"{tier}"' for tier in plan.plan_tiers], pa.string())
        return np.asarray(pc.is_in(values, value_set=tiers))
    if prop.type == "email":
        inner = pc.utf8_slice_codeunits(values, 1, -1)
        matches = pc.fill_null(pc.match_substring_regex(inner, plan.email_pattern), False)
        return (
            _quoted(values) & np.asarray(matches) & np.asarray(pc.fill_null(pc.ends_with(values, '"'), False))
        )
    if prop.type in INTEGER_PATTERNS:
        return np.asarray(pc.fill_null(pc.match_substring_regex(values, INTEGER_PATTERNS[prop.type]), False))
    empty = np.asarray(pc.is_in(values, value_set=pa.array(['""', "null"], pa.string())))
    return np.asarray(values.is_valid()) & ~empty


def property_values(batch: EventBatch, key: str) -> pa.Array:
    """The JSON value texts of `key` in the batch (null where absent)."""
    values = batch.properties.get(key)
    return values if values is not None else pa.nulls(len(batch), pa.string())


def broken_required(batch: EventBatch, plan: TrackingPlan) -> dict[str, int]:
    """Per required property of the batch's event: rows absent, null, "" or malformed."""
    return {
        f"{batch.name}.{prop.name}": int((~is_valid(property_values(batch, prop.name), prop, plan)).sum())
        for prop in plan.required(batch.name)
    }


def malformed_optional(batch: EventBatch, plan: TrackingPlan) -> dict[str, int]:
    """Per optional property with a checkable type: rows where it is present but invalid."""
    counts = {}
    for prop in plan.events[batch.name]:
        if prop.required or prop.type == "text":
            continue
        values = property_values(batch, prop.name)
        present = np.asarray(values.is_valid()) & ~np.asarray(pc.fill_null(pc.equal(values, "null"), False))
        counts[f"{batch.name}.{prop.name}"] = int((present & ~is_valid(values, prop, plan)).sum())
    return counts


def _tier_codes(values: pa.Array) -> np.ndarray:
    """TIERS index of each JSON tier text, -1 when absent or invalid."""
    index = pc.index_in(values, value_set=pa.array([f'"{tier}"' for tier in TIERS], pa.string()))
    return np.asarray(pc.fill_null(index, -1)).astype(np.int64)


def current_tiers(signups: EventBatch, plan_changes: EventBatch) -> np.ndarray:
    """plan_tier per customer: a plan change's valid to_tier, else the signup's tier.

    docs/definitions.md#plan-tier
    """
    tier = np.full(len(signups), -1, dtype=np.int64)
    tier[signups.customer] = _tier_codes(property_values(signups, "plan_tier"))
    changed = _tier_codes(property_values(plan_changes, "to_tier"))
    valid = changed >= 0
    tier[plan_changes.customer[valid]] = changed[valid]
    return tier


def company_sizes(signups: EventBatch) -> np.ndarray:
    """company_size per customer as staging reads it: a JSON integer >= 1, else 0 (null)."""
    values = property_values(signups, "company_size")
    valid = pc.fill_null(pc.match_substring_regex(values, INTEGER_PATTERNS["positive_integer"]), False)
    size = np.zeros(len(signups), dtype=np.int64)
    size[signups.customer] = np.asarray(pc.cast(pc.if_else(valid, values, "0"), pa.int64()))
    return size


def route(tier: np.ndarray, arr: np.ndarray, company_size: np.ndarray) -> np.ndarray:
    """TRACKS index per customer by the routing rule and var `routing` (docs/definitions.md#routing).

    tier -1 is null, arr NaN unknown, company_size 0 null.
    """
    routing = project_vars().routing
    arr_or_zero = np.nan_to_num(arr, nan=0.0)
    high_touch = np.isin(tier, codes(TIERS, routing.high_touch_tiers, "vars.routing.high_touch_tiers")) | (
        arr_or_zero >= routing.high_touch_min_arr
    )
    self_serve = (
        np.isin(tier, codes(TIERS, routing.self_serve_tiers, "vars.routing.self_serve_tiers"))
        & (arr_or_zero < routing.self_serve_max_arr)
        & (company_size < routing.self_serve_max_company_size)
    )
    track = np.select([tier < 0, high_touch, self_serve], [STANDARD, HIGH_TOUCH, SELF_SERVE], STANDARD)
    return track.astype(np.int8)
