"""One chunk of customers, from profiles to the five tables and its manifest counts.

Every chunk draws from its own random streams, seeded by (seed, chunk index), so a chunk's
rows do not depend on the other chunks and the output is the same for the same options.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

import numpy as np
import pyarrow as pa

from onboard.core.tracking_plan import TrackingPlan
from onboard.generate.customers import draw_customers
from onboard.generate.defects import arrive, break_properties, duplicates, unusable
from onboard.generate.emails import email_events
from onboard.generate.events import EventBatch, product_events
from onboard.generate.expansion import EXPANSION_STREAM, apply_expansion
from onboard.generate.lift import LIFT_STREAM, LiftPlan, apply_lifts, plan_lifts
from onboard.generate.manifest import Tally
from onboard.generate.milestones import draw_milestones, milestone_event_names
from onboard.generate.options import GenerateOptions
from onboard.generate.quality import (
    broken_required,
    company_sizes,
    current_tiers,
    malformed_optional,
    route,
)
from onboard.generate.rows import (
    UNUSABLE_REASONS,
    clean_rows,
    concat_rows,
    event_names,
    to_table,
)
from onboard.generate.rules import milestone_event, project_vars
from onboard.generate.tables import accounts, routing_audits, row_presence, subscriptions
from onboard.generate.text import DAY, HOUR
from onboard.generate.vocabulary import TRACKS

CHUNK_CUSTOMERS = 25_000  # fixed: the output depends on it, never on the number of customers
MIN_ID_DIGITS = 7


@dataclass(frozen=True)
class Run:
    """What every chunk of a run shares."""

    seed: int
    as_of: int  # epoch seconds
    history_seconds: int
    id_width: int  # digits of customer ids
    plan: TrackingPlan
    names: tuple[str, ...]  # event name codes
    required: dict[str, tuple[str, ...]]  # event name -> its required properties
    breaks: dict[str, float]  # --break field -> share
    lifts: tuple[LiftPlan, ...] = ()  # --lift, with their experiments

    @classmethod
    def from_options(cls, options: GenerateOptions, plan: TrackingPlan) -> Run:
        return cls(
            seed=options.seed,
            as_of=int(options.as_of.astimezone(UTC).timestamp()),
            history_seconds=options.history_days * DAY,
            id_width=max(MIN_ID_DIGITS, len(str(options.customers))),
            plan=plan,
            names=event_names(plan.event_names),
            required={name: tuple(p.name for p in plan.required(name)) for name in plan.event_names},
            breaks={b.field: b.share for b in options.breaks},
            lifts=plan_lifts(options.lifts, options.experiments),
        )


@dataclass(frozen=True)
class ChunkResult:
    """The chunk's rows of every table and its counts."""

    tables: dict[str, pa.Table]
    tally: Tally


def chunk_numbers(customers: int) -> list[np.ndarray]:
    """Customer numbers (1-based) of each chunk."""
    return [
        np.arange(start + 1, min(start + CHUNK_CUSTOMERS, customers) + 1, dtype=np.int64)
        for start in range(0, customers, CHUNK_CUSTOMERS)
    ]


def _batch(batches: list[EventBatch], name: str) -> EventBatch:
    return next(batch for batch in batches if batch.name == name)


def build_chunk(run: Run, index: int, number: np.ndarray) -> ChunkResult:
    """Draw the customers numbered `number` (chunk `index`) and everything they produce."""
    streams = np.random.SeedSequence([run.seed, index]).spawn(6)
    rng_customers, rng_funnel, rng_events, rng_defects, rng_tables, rng_emails = (
        np.random.default_rng(stream) for stream in streams
    )
    as_of = run.as_of
    customers = draw_customers(rng_customers, number, run.id_width, as_of, run.history_seconds)
    reached = draw_milestones(rng_funnel, customers, as_of)
    activation = milestone_event_names().index(milestone_event(project_vars().activation_milestone))
    lift_customers, lift_changed = apply_lifts(
        np.random.default_rng([run.seed, index, LIFT_STREAM]),
        run.lifts,
        customers,
        reached,
        activation,
        as_of,
    )
    customers, expansion = apply_expansion(
        np.random.default_rng([run.seed, index, EXPANSION_STREAM]), customers, reached, as_of
    )
    batches = product_events(rng_events, customers, reached, as_of)
    tally = Tally(
        lift_customers=lift_customers,
        lift_changed=lift_changed,
        expansion_candidates=expansion.candidates,
        expansion_upgraded=expansion.upgraded,
    )
    tally.break_rows.update(break_properties(rng_defects, batches, run.required, run.breaks))
    for batch in batches:
        tally.broken_properties.update(broken_required(batch, run.plan))
        tally.malformed_optional.update(malformed_optional(batch, run.plan))

    clean = arrive(rng_defects, clean_rows(rng_defects, batches, run.names), run.names, as_of)
    copies = duplicates(rng_defects, clean, as_of)
    broken = unusable(rng_defects, clean, run.names, first_seq=len(clean))
    events = to_table(concat_rows([clean, copies, broken]), customers.customer_id, run.names, index)
    tally.event_rows = events.num_rows
    tally.duplicate_rows = len(copies)
    tally.distinct_event_ids = len(clean) + int((broken.seq >= 0).sum())
    reasons = np.bincount(broken.defect - 1, minlength=len(UNUSABLE_REASONS))
    tally.unusable.update(dict(zip(UNUSABLE_REASONS, reasons.tolist(), strict=True)))
    by_name = np.bincount(clean.name, minlength=len(run.plan.event_names))
    tally.usable_by_event_name.update(dict(zip(run.plan.event_names, by_name.tolist(), strict=True)))
    tally.late = int((clean.received - clean.occurred >= DAY).sum())
    tally.future_dated = int((clean.occurred - clean.received > HOUR).sum())

    signups = _batch(batches, "signup_completed")
    has_account, older_account = row_presence(rng_tables, len(customers))
    arr = np.where(has_account, customers.arr, np.nan)
    tier = current_tiers(signups, _batch(batches, "plan_changed"))
    track = route(tier, arr, company_sizes(signups))
    tally.customers_by_track.update(
        dict(zip(TRACKS, np.bincount(track, minlength=len(TRACKS)).tolist(), strict=True))
    )
    has_subscription, older_subscription = row_presence(rng_tables, len(customers))
    emails = email_events(rng_emails, customers, reached, activation, as_of, index)
    tally.email_duplicate_rows = emails.duplicate_rows
    tables = {
        "events": events,
        "accounts": accounts(rng_tables, customers, has_account, older_account, track, as_of),
        "subscriptions": subscriptions(rng_tables, customers, has_subscription, older_subscription, as_of),
        "email_events": emails.table,
        "routing_audits": routing_audits(rng_tables, customers, track, as_of - run.history_seconds, as_of),
    }
    tally.table_rows.update({name: table.num_rows for name, table in tables.items()})
    return ChunkResult(tables, tally)
