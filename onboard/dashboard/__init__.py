"""`onboard report`: one self-contained HTML dashboard of the marts, readable offline.

- `settings`  the dbt vars the report reads (tracks, activation windows, accuracy threshold)
- `queries`   every SQL statement of the report: plain selects, portable to DuckDB and PostgreSQL
- `read`      runs them against a target and returns the marts as pandas frames
- `shape`     pure pandas functions that turn the marts into what each chart plots
- `charts`    one Plotly figure (or a sentence saying why there is none) per panel
- `page`      the HTML page: header, KPI tiles, a responsive grid, plotly.js inlined once
- `render`    `render_report(target, out)`: read -> shape -> charts -> page -> file

Entry point: `onboard.dashboard.render_report`.
"""

from onboard.dashboard.render import ReportResult, render_report

__all__ = ["ReportResult", "render_report"]
