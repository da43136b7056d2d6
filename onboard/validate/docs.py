"""GX Data Docs of a validation run: static HTML rendered by GX's own renderers.

A run validates many chunks, so GX never sees the whole window at once; the combined
counts of each expectation are turned back into GX validation results (element count,
unexpected count and share, example event ids) and rendered with GX's
`ValidationResultsPageRenderer`, one page per suite, plus an index of the run with the
volume checks (which are ours, not GX expectations). GX's pages are made self-contained
(`offline_docs.py`): no stylesheet, script, font or image from the network, no link out of
the run's folder, so the folder reads offline and can be copied or archived as it is.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from onboard.validate import volume
from onboard.validate.offline_docs import offline_page
from onboard.validate.outcome import ExpectationOutcome, SuiteOutcome, ValidationOutcome


def _result(item: ExpectationOutcome) -> Any:
    from great_expectations.core import ExpectationValidationResult
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    share = 100.0 * item.share
    config = ExpectationConfiguration(
        type=item.expectation_type,
        kwargs=item.kwargs,
        meta={"check": item.check, "severity": item.severity, "outcome": item.outcome},
    )
    return ExpectationValidationResult(
        success=item.outcome != "blocking",
        expectation_config=config,
        result={
            "element_count": item.rows,
            "unexpected_count": item.failing,
            "unexpected_percent": share,
            "unexpected_percent_total": share,
            "unexpected_percent_nonmissing": share,
            "missing_count": 0,
            "missing_percent": 0.0,
            "partial_unexpected_list": item.examples,
        },
    )


def _suite_page(run: ValidationOutcome, suite: SuiteOutcome) -> str:
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    results = [_result(item) for item in suite.expectations]
    failed = sum(1 for r in results if not r.success)
    validation = ExpectationSuiteValidationResult(
        success=failed == 0,
        results=results,
        suite_name=suite.name,
        statistics={
            "evaluated_expectations": len(results),
            "successful_expectations": len(results) - failed,
            "unsuccessful_expectations": failed,
            "success_percent": 100.0 * (len(results) - failed) / len(results) if results else 100.0,
        },
        meta={"run_id": {"run_name": run.run_id, "run_time": run.started_at.isoformat()}},
    )
    return str(DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(validation)))


def _index(run: ValidationOutcome, pages: dict[str, str]) -> str:
    rows = []
    for suite in run.suites:
        if suite.name == volume.SUITE:
            continue
        link = (
            f'<a href="{pages[suite.name]}">{html.escape(suite.name)}</a>'
            if suite.name in pages
            else suite.name
        )
        rows.append(f"<tr><td>{link}</td><td>{suite.rows:,}</td><td>{suite.status}</td></tr>")
    volume_rows = [
        f"<tr><td>{html.escape(item.event)}</td><td>{item.kind}</td><td>{item.rows}</td>"
        f"<td>{item.failing}</td><td>{item.outcome}</td><td>{html.escape('; '.join(item.examples))}</td></tr>"
        for suite in run.suites
        if suite.name == volume.SUITE
        for item in suite.expectations
        if item.rows
    ]
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in run.notes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Validation run {run.run_id}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}</style></head>
<body><h1>Validation run {run.run_id}: {run.status}</h1>
<p>Rows loaded in ({run.since:%Y-%m-%d %H:%M:%S}, {run.until:%Y-%m-%d %H:%M:%S}] UTC:
{run.rows:,} rows; {len(run.expectations("blocking"))} blocking,
{len(run.expectations("warning"))} warnings.</p>
<h2>Suites (GX Data Docs)</h2>
<table><tr><th>suite</th><th>rows</th><th>status</th></tr>{"".join(rows)}</table>
<h2>Daily volume against the median of the previous days</h2>
<table><tr><th>event</th><th>check</th><th>days judged</th><th>days failing</th><th>outcome</th>
<th>examples</th></tr>
{"".join(volume_rows)}</table>
<ul>{notes}</ul>
</body></html>
"""


def write_data_docs(run: ValidationOutcome, folder: Path) -> Path:
    """Write index.html and one GX page per suite with rows into folder; the index's path."""
    folder.mkdir(parents=True, exist_ok=True)
    pages = {
        suite.name: f"{suite.name}.html"
        for suite in run.suites
        if suite.name != volume.SUITE and suite.rows > 0
    }
    files = {*pages.values(), "index.html"}
    for suite in run.suites:
        if suite.name in pages:
            (folder / pages[suite.name]).write_text(offline_page(_suite_page(run, suite), files))
    index = folder / "index.html"
    index.write_text(_index(run, pages))
    return index
