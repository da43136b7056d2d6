"""What the sync needs from validation, handed in by its caller.

A sync must not push data whose latest validation failed (unless forced). The rule lives
with validation (onboard/validate/runs.py); the sync, a feature like validation, never
imports it: whoever starts a sync (onboard/orchestrate.py, the tests) passes a
`ValidationGate` made of validation's two functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from onboard.core.db import Database
from onboard.core.targets import Target


@dataclass(frozen=True)
class ValidationGate:
    """Validation's verdict on the raw data, as two functions of onboard/validate/runs.py."""

    #: require(target, force): raise unless the latest validation allows a push (with force: log, go on)
    require: Callable[[Target, bool], None]
    #: problem(db): why a real run would be blocked, or None (what a dry run warns about)
    problem: Callable[[Database], str | None]
