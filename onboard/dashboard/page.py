"""The HTML page: one file, no network. plotly.js and the style sheet are inlined once, in the head.

Layout: a header (as_of, customers, generated at, warehouse), KPI tiles, then the panels in
a grid that gives two columns on a 1366 px laptop screen and one on narrow screens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

import plotly.io as pio
from plotly.offline import get_plotlyjs

from onboard.dashboard.panels import Panel
from onboard.dashboard.shape import Headline

#: Plotly's per-chart options: resize with the card, tool bar on hover only, no logo, nothing sent anywhere.
CHART_CONFIG = {"responsive": True, "displayModeBar": "hover", "displaylogo": False, "showSendToCloud": False}

STYLE = """
:root { --bg: #f4f6f8; --card: #fff; --ink: #1f2328; --muted: #57606a; --line: #d8dee4; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 24px; padding: 12px 20px;
         background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { margin: 0; font-size: 20px; }
header .meta { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 0; color: var(--muted); }
header .meta dt { display: inline; font-weight: 600; color: var(--ink); }
header .meta dd { display: inline; margin: 0 0 0 4px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 12px;
        padding: 12px 20px 0; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; }
.kpi .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.kpi .value { font-size: 26px; font-weight: 650; }
.kpi .detail { color: var(--muted); font-size: 12px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(540px, 1fr)); gap: 12px;
        padding: 12px 20px 20px; }
.panel { min-width: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px;
         padding: 6px 10px 10px; }
.panel.wide { grid-column: 1 / -1; }
.panel h2 { margin: 4px 4px 8px; font-size: 15px; }
.panel .note { margin: 2px 4px 0; color: var(--muted); font-size: 12.5px; }
.panel .missing { margin: 8px 4px; padding: 20px; border: 1px dashed var(--line); border-radius: 6px;
                  color: var(--muted); }
@media (max-width: 620px) { .grid { grid-template-columns: 1fr; } }
"""


@dataclass(frozen=True)
class PageHeader:
    """What the header says: when the figures are from, how many customers, when and where from."""

    as_of: datetime | None
    customers: int
    generated_at: datetime
    warehouse: str


def _utc(moment: datetime | None) -> str:
    return "unknown" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _hours(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f} h"


def header_html(header: PageHeader) -> str:
    """The page header."""
    items = (
        ("as of", _utc(header.as_of)),
        ("customers", f"{header.customers:,}"),
        ("generated", _utc(header.generated_at)),
        ("warehouse", header.warehouse),
    )
    meta = "".join(
        f"<div><dt>{escape(label)}</dt>"
        f'<dd data-field="{escape(label.replace(" ", "_"))}">{escape(value)}</dd></div>'
        for label, value in items
    )
    return f'<header><h1>Onboarding paths</h1><dl class="meta">{meta}</dl></header>'


def kpi_tiles(headline: Headline) -> list[tuple[str, str, str, str]]:
    """(key, label, value, detail) of each KPI tile."""
    window = headline.activation_window_days
    return [
        ("customers", "customers", f"{headline.customers:,}", "signed up by as_of"),
        (
            "activation-rate",
            f"activation rate {window} d",
            _percent(headline.activation_rate),
            f"of {headline.matured:,} customers at least {window} days old",
        ),
        (
            "median-ttv",
            "median time to value",
            _hours(headline.median_time_to_value_hours),
            "signup to activation, activated customers",
        ),
        ("stalled", "stalled", f"{headline.stalled:,}", f"{_percent(headline.stall_rate)} of customers"),
    ]


def kpis_html(headline: Headline) -> str:
    """The row of KPI tiles."""
    tiles = "".join(
        f'<div class="kpi" id="kpi-{key}"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div><div class="detail">{escape(detail)}</div></div>'
        for key, label, value, detail in kpi_tiles(headline)
    )
    return f'<section class="kpis" aria-label="key figures">{tiles}</section>'


def panel_html(panel: Panel) -> str:
    """One card: the chart (plotly.js not included) or the message, and the note saying how to read it."""
    classes = "panel wide" if panel.wide else "panel"
    if panel.figure is not None:
        body = pio.to_html(
            panel.figure,
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{panel.key}",
            config=CHART_CONFIG,
            default_width="100%",
            default_height=f"{panel.figure.layout.height}px",
        )
        heading = ""
    else:
        body = f'<p class="missing">{escape(panel.message or "")}</p>'
        heading = f"<h2>{escape(panel.title)}</h2>"
    return (
        f'<section class="{classes}" id="panel-{panel.key}" aria-label="{escape(panel.title)}">'
        f'{heading}{body}<p class="note">{escape(panel.note)}</p></section>'
    )


def page_html(header: PageHeader, headline: Headline, panels: Sequence[Panel]) -> str:
    """The whole dashboard as one HTML document."""
    title = f"Onboarding paths dashboard, as of {_utc(header.as_of)}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title>",
            f"<style>{STYLE}</style>",
            f'<script type="text/javascript">{get_plotlyjs()}</script>',
            "</head>",
            "<body>",
            header_html(header),
            kpis_html(headline),
            '<main class="grid">',
            *(panel_html(panel) for panel in panels),
            "</main>",
            "</body>",
            "</html>",
        ]
    )
