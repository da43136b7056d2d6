"""Slack messages in Block Kit, pure: one realtime message per alert, the digest in parts.

Every message has a `text` fallback (notifications, screen readers) and `blocks`, within
Slack's limits by construction: at most 50 blocks, a header's text at most 150 characters,
a section's text at most 3000, at most 10 fields of at most 2000 each, and a context
element at most 2000 (longer texts are clipped with "…"). A digest part holds at most
`digest_alerts_per_message` alerts, one line each (47 at most: 3 blocks frame the lines),
and its lines are packed into sections of at most 3000 characters.

Customer-supplied text (company, CSM, email) is escaped for Slack's mrkdwn (&, <, >), so
a name can neither mention @channel nor forge a link. Times are UTC.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from onboard.alerts.plan import DIGEST, REALTIME, Alert
from onboard.core.project_config import read_seed

HEADER_CHARS = 150
SECTION_CHARS = 3000
FIELD_CHARS = 2000
CONTEXT_CHARS = 2000
MAX_FIELDS = 10
UNRATED = "no rule"
#: The emoji of the first severity rules, in rule order (seeds/stall_severity_rules.csv); the
#: severities of later rules, and a stall no rule matched, get DEFAULT_EMOJI.
RULE_EMOJI = (":rotating_light:", ":warning:", ":large_orange_circle:")
DEFAULT_EMOJI = ":information_source:"
RANKING = "ranked by severity, then ARR x hours stalled"

Payload = dict[str, Any]


@dataclass(frozen=True)
class Message:
    """One Slack message and the alerts it carries (logged together once Slack accepts it)."""

    delivery: str  # realtime or digest
    label: str  # for logs and the dry run: "realtime #3 c0000130", "digest 2/8"
    alerts: tuple[Alert, ...]
    payload: Payload


@cache
def severity_emoji() -> dict[str, str]:
    """Severity -> emoji, by the seed's rule order: the severity rules are the seed's, not copied."""
    rules = sorted(read_seed("stall_severity_rules"), key=lambda rule: int(rule["rule_order"]))
    severities = list(dict.fromkeys(rule["severity"] for rule in rules))
    return {severity: emoji for severity, emoji in zip(severities, RULE_EMOJI, strict=False)}


def clip(text: str, limit: int) -> str:
    """text, cut to at most `limit` characters with a trailing "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Slack mrkdwn's three control characters as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def utc(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def hours(value: float) -> str:
    return f"{value:,.1f} h"


def money(arr: float | None) -> str:
    return "unknown" if arr is None else f"${arr:,.0f}"


def severity(alert: Alert) -> str:
    return alert.stall_severity or UNRATED


def customer_name(alert: Alert) -> str:
    return alert.company_name or alert.customer_id


def milestone_list(names: tuple[str, ...], empty: str) -> str:
    return ", ".join(names) if names else empty


def _mrkdwn(text: str, limit: int) -> dict[str, str]:
    return {"type": "mrkdwn", "text": clip(text, limit)}


def _header(text: str) -> Payload:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, HEADER_CHARS), "emoji": True}}


def _section(text: str) -> Payload:
    return {"type": "section", "text": _mrkdwn(text, SECTION_CHARS)}


def _context(*texts: str) -> Payload:
    return {"type": "context", "elements": [_mrkdwn(text, CONTEXT_CHARS) for text in texts]}


# -- realtime ---------------------------------------------------------------------------------


def realtime_text(alert: Alert) -> str:
    """The notification line of a realtime alert."""
    return escape(
        f"{severity(alert)} stall: {customer_name(alert)} ({alert.customer_id}) stuck at "
        f"{alert.stall_step} for {hours(alert.stall_hours)} · ARR {money(alert.arr)} · "
        f"CSM {alert.csm_owner or 'unassigned'}"
    )


def realtime_message(alert: Alert, stalled: int) -> Message:
    """One alert with its full context; `stalled` is how many customers the mart lists."""
    emoji = severity_emoji().get(alert.stall_severity or "", DEFAULT_EMOJI)
    who = f"*{escape(customer_name(alert))}* · `{escape(alert.customer_id)}`"
    if alert.email:
        who += f" · {escape(alert.email)}"
    total = len(alert.milestones_reached) + len(alert.milestones_missing)
    fields = [
        ("Severity", f"{severity(alert)} ({alert.alert_delivery or 'no delivery rule'})"),
        ("Stalled step", alert.stall_step or "none"),
        ("Stalled since", utc(alert.stalled_since)),
        ("Stall hours", f"{hours(alert.stall_hours)} without progress"),
        ("Last progress", utc(alert.last_progress_at)),
        ("ARR", money(alert.arr)),
        ("Track", alert.track or "unknown"),
        ("CSM owner", alert.csm_owner or "unassigned"),
    ]
    blocks = [
        _header(f"{emoji} {severity(alert)} stall · {customer_name(alert)}"),
        _section(f"{who}\nStuck at *{escape(alert.stall_step or 'none')}* since {utc(alert.stalled_since)}."),
        {
            "type": "section",
            "fields": [_mrkdwn(f"*{name}*\n{escape(value)}", FIELD_CHARS) for name, value in fields],
        },
        _section(
            f"*Reached ({len(alert.milestones_reached)}/{total}):* "
            f"{milestone_list(alert.milestones_reached, 'none yet')}\n"
            f"*Missing ({len(alert.milestones_missing)}/{total}):* "
            f"{milestone_list(alert.milestones_missing, 'none')}"
        ),
        *(
            [
                _section(
                    f"*Drafted recovery email:* {escape(alert.recovery_subject)}\n"
                    f"{escape(alert.recovery_body or '')}"
                )
            ]
            if alert.recovery_subject
            else []
        ),
        _context(f"Alert #{alert.alert_rank} of {stalled} stalled customers ({RANKING}) · onboarding-paths"),
    ]
    label = f"realtime #{alert.alert_rank} {alert.customer_id}"
    return Message(REALTIME, label, (alert,), {"text": realtime_text(alert), "blocks": blocks})


# -- digest -----------------------------------------------------------------------------------


def digest_line(alert: Alert) -> str:
    """One alert in the digest: rank, severity, who, where stuck since when, ARR, track, CSM."""
    total = len(alert.milestones_reached) + len(alert.milestones_missing)
    return clip(
        f"• #{alert.alert_rank} *{severity(alert)}* {escape(customer_name(alert))} "
        f"(`{escape(alert.customer_id)}`): stuck at {escape(alert.stall_step or 'none')} "
        f"since {utc(alert.stalled_since)} ({hours(alert.stall_hours)}) · ARR {money(alert.arr)} · "
        f"{escape(alert.track or 'unknown')} · CSM {escape(alert.csm_owner or 'unassigned')} · "
        f"{len(alert.milestones_reached)}/{total} milestones",
        SECTION_CHARS,
    )


def pack_lines(lines: Sequence[str], limit: int = SECTION_CHARS) -> list[str]:
    """Lines joined by newlines into as few texts of at most `limit` characters as order allows."""
    texts: list[str] = []
    for line in lines:
        if texts and len(texts[-1]) + 1 + len(line) <= limit:
            texts[-1] += "\n" + line
        else:
            texts.append(line)
    return texts


def digest_summary(alerts: Sequence[Alert], held: int, realtime_cap: int) -> str:
    """The first part's overview: how many, by severity, and what came from the realtime cap."""
    counts = Counter(severity(alert) for alert in alerts)  # in rank order: by severity rule, no rule last
    text = f"*{len(alerts) + held} stalled customers* to review: " + " · ".join(
        f"{name} {count}" for name, count in counts.items()
    )
    overflow = sum(alert.is_realtime for alert in alerts)
    if overflow:
        text += (
            f"\n{overflow} realtime alerts over the cap of {realtime_cap} per run are listed here "
            "instead of one message each."
        )
    return text


def digest_messages(
    alerts: Sequence[Alert], day: date, per_message: int, held: int = 0, realtime_cap: int = 0
) -> list[Message]:
    """The day's digest in parts of at most `per_message` alerts; `held` more wait for the next one."""
    chunks = [tuple(alerts[start : start + per_message]) for start in range(0, len(alerts), per_message)]
    messages = []
    for number, chunk in enumerate(chunks, start=1):
        part = f" ({number}/{len(chunks)})" if len(chunks) > 1 else ""
        first = (number - 1) * per_message + 1
        blocks: list[Payload] = [_header(f":clipboard: Stall digest {day:%Y-%m-%d}{part}")]
        if number == 1:
            blocks.append(_section(digest_summary(alerts, held, realtime_cap)))
        blocks += [_section(text) for text in pack_lines([digest_line(alert) for alert in chunk])]
        notes = [f"Alerts {first}-{first + len(chunk) - 1} of {len(alerts)} · {RANKING} · onboarding-paths"]
        if held and number == len(chunks):
            notes.append(f"…and {held} more stalled customers wait for the next digest")
        blocks.append(_context(*notes))
        text = f"Stall digest {day:%Y-%m-%d}{part}: {len(chunk)} of {len(alerts) + held} stalled customers"
        messages.append(
            Message(DIGEST, f"digest {number}/{len(chunks)}", chunk, {"text": text, "blocks": blocks})
        )
    return messages


# -- the dry run ------------------------------------------------------------------------------


def preview_lines(message: Message) -> list[str]:
    """A message as readable text lines (what the dry run prints)."""
    lines = [f"--- {message.label} ({len(message.alerts)} alerts) ---"]
    for block in message.payload["blocks"]:
        if "text" in block:
            lines += str(block["text"]["text"]).splitlines()
        for item in block.get("fields", []) + block.get("elements", []):
            lines.append(" ".join(str(item["text"]).splitlines()))
    return lines
