"""Event volume per event type and day against the median of the previous days.

A tracking outage shows as a drop. For every complete day from the earliest day of the
events loaded in the window to the day before the latest event (the latest day is still
arriving) and before the day of the latest load (later days have not happened yet), each
event type's count of distinct event_ids is compared with the median of its counts over
the previous `history_days` days (days without an event count as zero): below
`drop_share` of the median is `volume.drop` (a warning by default), zero is `volume.zero`
(blocking by default). Event types whose median is below `min_median_events` are not
judged (too few to tell a drop from chance), and a day with fewer than `min_history_days`
days of data before it is skipped with a note.

Only usable copies count, as staging judges a copy (an event id, then no unusable reason:
the same dbt macros, rendered in source.EventQueries.volume). Days are UTC days of
occurred_at, read as staging reads it; future-dated events (a wrong client clock: ahead of
received_at or of their load) are left out of the counts; the counts cover every load, not
only the window, so a day is judged on everything that has arrived for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from onboard.core.db import Database
from onboard.validate.config import ValidationConfig

SUITE = "volume"
EXPECTATION_TYPE = "onboard_volume_against_median"


@dataclass(frozen=True)
class DayVolume:
    """One event type's count on one day, and the median it is compared with."""

    event: str
    day: date
    count: int
    median: float


@dataclass
class VolumeResult:
    """Days judged per event type, the days that dropped or were zero, and notes."""

    judged: dict[str, int]
    drops: list[DayVolume]
    zeros: list[DayVolume]
    notes: list[str]


def check_volume(
    db: Database,
    counts_sql: str,
    event_names: tuple[str, ...],
    since: datetime,
    until: datetime,
    config: ValidationConfig,
) -> VolumeResult:
    """Judge each complete day touched by the window against its previous days.

    counts_sql: the run's volume query (source.EventQueries.volume), rows of
    (event_name, day, distinct usable event_ids, whether the window holds rows of the day).
    """
    rows = db.rows(counts_sql, {"since": since, "until": until})
    return judge(rows, event_names, config, until)


def judge(
    rows: list[tuple[str, date, int, int]],
    event_names: tuple[str, ...],
    config: ValidationConfig,
    until: datetime | None = None,
) -> VolumeResult:
    """The volume verdicts from (event_name, day, events, in_window) rows.

    until: the latest load; the days from its day on are not complete (or have not happened:
    an event dated there has a clock ahead), so none of them is judged.
    """
    settings = config.volume
    result = VolumeResult({name: 0 for name in event_names}, [], [], [])
    window_days = [day for _, day, _, in_window in rows if in_window]
    if not window_days:
        return result
    counts = {(str(name), _as_date(day)): int(events) for name, day, events, _ in rows}
    if max(day for _, day in counts) == date.min:
        return result
    first_day = min(day for _, day in counts)
    last_complete = max(day for _, day in counts) - timedelta(days=1)
    if until is not None:
        last_complete = min(last_complete, until.date() - timedelta(days=1))
    start = max(
        min(_as_date(day) for day in window_days), first_day + timedelta(days=settings.min_history_days)
    )
    skipped = (min(_as_date(day) for day in window_days), start - timedelta(days=1))
    if skipped[0] <= min(skipped[1], last_complete):
        result.notes.append(
            f"volume: days {skipped[0]} to {min(skipped[1], last_complete)} skipped: fewer than "
            f"{settings.min_history_days} days of history before them"
        )
    # only days with an event in them or in their history can have a median above zero
    data_days = {day for _, day in counts}
    reachable = {
        d + timedelta(days=n)
        for d in data_days
        for n in range(settings.history_days + 1)
        if d <= date.max - timedelta(days=n)
    }
    candidates = sorted(d for d in reachable if start <= d <= last_complete)
    for day in candidates:
        history_start = max(first_day, day - timedelta(days=settings.history_days))
        history = [history_start + timedelta(days=n) for n in range((day - history_start).days)]
        for name in event_names:
            typical = median(counts.get((name, past), 0) for past in history)
            if typical < settings.min_median_events:
                continue
            result.judged[name] += 1
            count = counts.get((name, day), 0)
            if count == 0:
                result.zeros.append(DayVolume(name, day, count, typical))
            elif count < settings.drop_share * typical:
                result.drops.append(DayVolume(name, day, count, typical))
    return result


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value
