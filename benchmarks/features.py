"""What the funnel marts add to a build, and what the experiments readout costs, at scale.

`python -m benchmarks features [--customers N]`: generate and load N customers, then measure
a full build as the project ships (no experiment configured), a build of only the funnel
marts of docs/definitions.md#milestone-funnel and their intermediate (their share of the full
build), a full build with two experiments configured (a global holdout and an A/B test of the
paid tiers), and `onboard experiments` over those two. Each step is its own process (time and
peak memory as in benchmarks/measure.py); the table goes into docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.measure import ONBOARD, run_measured, write_section
from benchmarks.pipeline import StepResult, render_markdown
from onboard.core.as_of import dbt_as_of
from onboard.core.logs import log

SECTION = "bench-features"
DEFAULT_CUSTOMERS = 1_000_000
WORK_DIR = Path("/tmp/onboard-bench-features")
#: the models issue 18 added to every build: the three funnel marts and the one intermediate they need
FUNNEL_MODELS = "int_plan_tiers_at_days milestone_funnel adoption_velocity score_vs_expansion"
#: two experiments: a 5 % global holdout, and an A/B test of two arms among the paid tiers
TWO_EXPERIMENTS = {
    "experiments": [
        {
            "name": "global_holdout",
            "starts_at": "2000-01-01",
            "control": "holdout",
            "arms": [
                {"name": "holdout", "weight": 0.05, "holdout": True},
                {"name": "automated", "weight": 0.95},
            ],
        },
        {
            "name": "paid_track_test",
            "starts_at": "2000-01-01",
            "eligible": {"plan_tiers": ["pro", "enterprise"]},
            "control": "standard",
            "arms": [{"name": "standard", "weight": 0.5}, {"name": "high_touch", "weight": 0.5}],
        },
    ]
}


def _python(code: str) -> list[str]:
    """A short-lived interpreter of this venv running code (the step is then its own process)."""
    return [sys.executable, "-c", code]


def run(customers: int, work_dir: Path, output: Path | None, section: str = SECTION) -> list[StepResult]:
    """Every step at one size; the table is rewritten after each, so a stopped run keeps its figures."""
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    warehouse, data_dir = work_dir / "features.duckdb", work_dir / "data"
    as_of = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    env = {
        **os.environ,
        "ONBOARD_DUCKDB_PATH": str(warehouse),
        "ONBOARD_VALIDATION_RESULTS_DIR": str(work_dir / "validation"),
        "ONBOARD_SYNC_RESULTS_DIR": str(work_dir / "sync"),
    }
    results: list[StepResult] = []

    def measure(step: str, args: list[str], detail: str) -> None:
        seconds, rss = run_measured(args, env)
        results.append(StepResult(customers, step, seconds, rss, detail))
        log("bench.step", customers=customers, step=step, seconds=round(seconds, 1), peak_rss_mb=round(rss))
        if output is not None:
            write_section(output, render_markdown(results), section)

    measure("generate", [ONBOARD, "generate", str(data_dir), "--customers", str(customers)], "")
    events = json.loads((data_dir / "manifest.json").read_text())["events"]["rows"]
    measure("load", [ONBOARD, "load", str(data_dir)], f"{events:,} event rows")
    shutil.rmtree(data_dir)
    when = dbt_as_of(as_of)
    full = [ONBOARD, "build", "--as-of", when, "--full-refresh"]
    measure("full build", full, "no experiment configured; dbt build incl. tests")
    measure(
        "funnel marts only",
        [ONBOARD, "build", "--as-of", when, "--select", FUNNEL_MODELS],
        "milestone_funnel, adoption_velocity, score_vs_expansion + int_plan_tiers_at_days, incl. tests",
    )
    overrides = json.dumps(TWO_EXPERIMENTS)
    measure(
        "full build, two experiments",
        _python(
            "import json, sys; from datetime import datetime; from onboard.build import build; "
            "from onboard.core.targets import resolve_target; "
            f"sys.exit(build(resolve_target(), datetime.fromisoformat({as_of.isoformat()!r}), "
            f"full_refresh=True, overrides=json.loads({overrides!r})))"
        ),
        "global_holdout 5/95, paid_track_test 50/50 (pro, enterprise)",
    )
    measure(
        "onboard experiments (readout)",
        _python(
            "import json; from onboard.core.targets import resolve_target; "
            "from onboard.experiments import run_readout; "
            f"run_readout(resolve_target(), overrides=json.loads({overrides!r}))"
        ),
        "two experiments: results, SRM, MDD, ROI written to the warehouse",
    )
    return results
