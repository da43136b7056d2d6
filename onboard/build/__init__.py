"""`dbt build` of the project as of an instant, and what the warehouse holds afterwards."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from onboard.build.summary import WarehouseSummary, summarise
from onboard.core.as_of import dbt_as_of
from onboard.core.dbt import run_dbt
from onboard.core.project_config import read_experiments
from onboard.core.targets import Target

__all__ = ["WarehouseSummary", "build", "summarise"]

#: unit tests that read a built table; the default selector (selectors.yml) leaves them out,
#: and so must an explicit selection
NEEDS_BUILT_MODEL = "tag:needs_built_model"
NO_NODES_IS_AN_ERROR = '{"error": ["NoNodesForSelectionCriteria"]}'


def build(
    target: Target,
    as_of: datetime | None = None,
    *,
    full_refresh: bool = False,
    select: str | None = None,
    exclude: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> int:
    """Models, seeds, data and unit tests as of `as_of` (default: the var's own default); dbt's exit code.

    `overrides`: vars given to dbt over dbt_project.yml's (the demo's experiments), never written there.
    """
    # a mistake in var experiments is one line from the config reader, not a dbt compile error
    read_experiments(overrides=overrides)
    variables: dict[str, object] = {**(overrides or {})}
    if as_of:
        variables["as_of"] = dbt_as_of(as_of)
    extra = ["--full-refresh"] if full_refresh else []
    if select or exclude:
        excluded = " ".join(filter(None, [exclude, NEEDS_BUILT_MODEL]))
        extra += ["--select", select or "fqn:*", "--exclude", excluded]
        # a selection that matches nothing is a typo, not "nothing to do": dbt's warning, an error
        extra += ["--warn-error-options", NO_NODES_IS_AN_ERROR]
    # quiet: dbt prints its failures (and the tests' differences) but not a line per node;
    # the caller prints a summary of its own
    return run_dbt("build", target, variables, extra, quiet=True)
