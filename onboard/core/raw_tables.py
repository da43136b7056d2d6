"""The tables `onboard load` accepts and their columns (docs/definitions.md#raw-data-contract)."""

from __future__ import annotations

RAW_TABLES: dict[str, tuple[str, ...]] = {
    "events": (
        "event_id",
        "event_name",
        "customer_id",
        "user_id",
        "occurred_at",
        "received_at",
        "properties",
    ),
    "accounts": ("customer_id", "company_name", "arr", "csm_owner", "updated_at"),
    "subscriptions": ("customer_id", "status", "trial_ends_at", "updated_at"),
    "email_events": ("event_id", "customer_id", "campaign", "event_type", "occurred_at"),
    "routing_audits": ("customer_id", "audited_track", "audited_at", "auditor"),
}

#: Columns that must hold a value for a row to be usable, per table.
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "events": ("event_id", "customer_id"),
    "accounts": ("customer_id",),
    "subscriptions": ("customer_id",),
    "email_events": ("event_id", "customer_id"),
    "routing_audits": ("customer_id",),
}

#: Columns that hold UTC timestamps as text, per table.
TIMESTAMP_COLUMNS: dict[str, tuple[str, ...]] = {
    "events": ("occurred_at", "received_at"),
    "accounts": ("updated_at",),
    "subscriptions": ("trial_ends_at", "updated_at"),
    "email_events": ("occurred_at",),
    "routing_audits": ("audited_at",),
}

#: Why an event row cannot be used, in the order docs/definitions.md#unusable-rows applies them
#: (the first wins).
#: The rule itself is SQL, shared by staging and validation: macros/staging/product_events.sql.
UNUSABLE_REASONS = (
    "null_event_id",
    "null_customer_id",
    "null_occurred_at",
    "implausible_occurred_at",
    "unknown_event_name",
    "invalid_properties",
)
#: The reasons `onboard generate` writes extra unusable rows for (its shares follow this
#: order): all but implausible_occurred_at, so the demo data stayed the same when that
#: reason came (issue 15).
GENERATED_UNUSABLE_REASONS = tuple(
    reason for reason in UNUSABLE_REASONS if reason != "implausible_occurred_at"
)

#: Value sets of the raw tables beside events (docs/definitions.md#raw-tables).
SUBSCRIPTION_STATUSES = ("trialing", "active", "past_due", "cancelled", "deleted")
EMAIL_EVENT_TYPES = ("sent", "delivered", "opened", "clicked", "bounced", "unsubscribed", "spam_reported")

FILE_FORMATS = ("parquet", "csv")
LOADED_AT_COLUMN = "_loaded_at"
