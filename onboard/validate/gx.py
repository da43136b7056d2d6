"""The one place great_expectations is imported: analytics off, an ephemeral context, no network.

GX only logs and drops an expectation type it does not know, so loading a suite counts
what GX kept against the file and refuses a suite that lost any.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ["GX_ANALYTICS_ENABLED"] = "false"

import great_expectations as gx
import pandas as pd
from great_expectations.core import ExpectationSuite
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.execution_engine import pandas_execution_engine
from great_expectations.expectations.registry import get_expectation_impl

from onboard.core.errors import InputError

logging.getLogger("great_expectations").setLevel(logging.ERROR)
# GX fingerprints every in-memory frame under HASH_THRESHOLD bytes (an md5 over every cell,
# kept only as a batch marker we never read): a large share of a validation's time. 0 skips it.
pandas_execution_engine.HASH_THRESHOLD = 0

EXAMPLES = 5


def known_expectation_type(name: str) -> bool:
    """Whether the installed GX knows an expectation type."""
    try:
        get_expectation_impl(name)
    except Exception:
        return False
    return True


def load_suite(path: Path) -> ExpectationSuite:
    """A suite file as a GX ExpectationSuite; refuses one GX would load partly."""
    if not path.exists():
        raise InputError(f"{path}: suite missing; run python -m onboard.validate.suites --write")
    raw = json.loads(path.read_text())
    unknown = [e["type"] for e in raw["expectations"] if not known_expectation_type(e["type"])]
    if unknown:
        raise InputError(f"{path}: expectation types unknown to GX {gx.__version__}: {', '.join(unknown)}")
    try:
        suite = ExpectationSuite(
            name=raw["name"], expectations=raw["expectations"], meta=raw.get("meta"), notes=raw.get("notes")
        )
    except Exception as error:
        raise InputError(f"{path}: not a valid GX suite: {error}") from None
    if len(suite.expectations) != len(raw["expectations"]):
        raise InputError(
            f"{path}: GX loaded {len(suite.expectations)} of {len(raw['expectations'])} expectations"
        )
    return suite


@dataclass
class ChunkResult:
    """One expectation's counts on one chunk."""

    element_count: int
    unexpected_count: int
    examples: list[str]


class Validator:
    """Validates pandas chunks with an ephemeral GX context."""

    def __init__(self) -> None:
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = context.data_sources.add_pandas("onboard_raw")
        self._batches = source.add_dataframe_asset("chunk").add_batch_definition_whole_dataframe("all")

    def validate(self, suite: ExpectationSuite, frame: pd.DataFrame, id_column: str) -> list[ChunkResult]:
        """Counts of each expectation of suite, in order, on frame; examples are id_column values."""
        if not suite.expectations:
            return []
        batch = self._batches.get_batch(batch_parameters={"dataframe": frame})
        outcome = batch.validate(
            suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLES}
        )
        results: list[ChunkResult] = []
        for item in outcome.results:
            if item.exception_info and item.exception_info.get("raised_exception"):
                message = item.exception_info.get("exception_message")
                kind = item.expectation_config.type if item.expectation_config else "expectation"
                raise InputError(f"suite {suite.name}: {kind} failed: {message}")
            result: dict[str, Any] = item.result
            indexes = result.get("partial_unexpected_index_list") or []
            examples = _examples(frame, indexes, id_column, item.expectation_config)
            results.append(
                ChunkResult(
                    element_count=int(result.get("element_count") or 0),
                    unexpected_count=int(result.get("unexpected_count") or 0),
                    examples=examples[:EXAMPLES],
                )
            )
        return results


def _examples(frame: pd.DataFrame, indexes: list[Any], id_column: str, expectation: Any) -> list[str]:
    """The ids of failing rows; for a malformed value, each with the value: `c2 [1,200]`."""
    meta = (expectation.meta or {}) if expectation is not None else {}
    column = (expectation.kwargs or {}).get("column") if expectation is not None else None
    show_value = meta.get("kind") == "malformed" and column in frame.columns and column != id_column
    examples = []
    for index in indexes:
        key = frame.at[index, id_column]
        if key is None or key != key:
            continue
        value = frame.at[index, column] if show_value else None
        examples.append(f"{key} [{value}]" if value is not None and value == value else str(key))
    return examples
