"""The refactor changes no output (issue 14): the fixed demo run matches tests/golden/outputs.json.

The run goes through the CLI (generate, load, validate, build --full-refresh, sync all
--dry-run, as of a fixed instant) into a throwaway folder; every dbt relation, raw table,
dry-run payload file and the validation verdict must have the fingerprint the code before the
refactor gave. How the golden file was made, and how to regenerate it when an output change is
intended: tests/golden/README.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import ONBOARD, PROJECT_DIR
from .golden.fingerprint import compare, fingerprint, read_golden, run_parameters, run_pipeline

pytestmark = pytest.mark.slow


def test_the_fixed_demo_run_gives_every_golden_output_unchanged(tmp_path: Path):
    golden = read_golden()
    assert golden["run"] == run_parameters(), "the fixed run changed: regenerate tests/golden/outputs.json"

    found = fingerprint(run_pipeline(Path(ONBOARD), PROJECT_DIR, tmp_path))

    changed, _new_internal_relations = compare(golden["outputs"], found)
    assert not changed, (
        f"{len(changed)} output(s) differ from tests/golden/outputs.json (made at {golden['produced_from']}); "
        "if the change is intended, regenerate it (tests/golden/README.md):\n" + "\n".join(changed)
    )
