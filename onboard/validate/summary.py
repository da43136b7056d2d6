"""The readable summary of a validation run, as `onboard validate` prints it."""

from __future__ import annotations

from onboard.validate.outcome import ValidationOutcome
from onboard.validate.volume import SUITE as VOLUME_SUITE

MARKS = {"passed": "pass", "warning": "pass (warnings)", "failed": "FAIL"}


def summary_lines(result: ValidationOutcome) -> list[str]:
    """Per suite pass/fail; per failing expectation: event, property, count, share, examples."""
    lines = [
        f"validation run {result.run_id}: rows loaded in ({result.since:%Y-%m-%d %H:%M:%S}, "
        f"{result.until:%Y-%m-%d %H:%M:%S}] - {result.rows:,} rows"
    ]
    if result.rows == 0:
        lines.append("  no new rows since the last passing or accepted run")
    for suite in result.suites:
        if suite.rows == 0:
            continue
        unit = "days" if suite.name == VOLUME_SUITE else "rows"
        lines.append(f"  {suite.name:<26} {suite.rows:>10,} {unit}  {MARKS[suite.status]}")
        for item in suite.expectations:
            if item.outcome == "pass":
                continue
            examples = f"; e.g. {', '.join(item.examples)}" if item.examples else ""
            lines.append(
                f"    {item.outcome.upper():<8} {item.event} / {item.prop} {item.kind}: "
                f"{item.failing:,} of {item.rows:,} rows ({item.share:.2%}, tolerated "
                f"{item.tolerated_share:.2%}, {item.severity}){examples}"
            )
    lines.extend(f"  note: {note}" for note in result.notes)
    blocking = len(result.expectations("blocking"))
    warned = len(result.expectations("warning"))
    verdict = "FAILED" if blocking else "passed"
    lines.append(f"{verdict}: {blocking} blocking, {warned} warnings; results {result.results_file}")
    if result.data_docs is not None:
        lines.append(f"data docs {result.data_docs}")
    if blocking:
        lines.append(
            f"the sync is blocked until a validation passes or an operator runs "
            f"`onboard validate --accept {result.run_id} --reason TEXT`"
        )
    return lines
