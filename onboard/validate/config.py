"""What validation tolerates: expectations/validation.yml over the defaults of
docs/definitions.md#validation-tolerances.

Each check has a tolerated share of the validated rows and a severity (GX's own
`critical` / `warning`). A check whose failing share is above its tolerance is blocking
when critical and a warning otherwise; failing rows within the tolerance are a warning.

```yaml
default_tolerated_share: 0.01       # every check not listed below
share_floor_rows: 1000              # a share of fewer rows is taken over this many rows
checks:                             # by check name, see `check_names()` in suites.py
  signup_completed.plan_tier: {tolerated_share: 0.0, severity: critical}
  unusable.invalid_properties: {tolerated_share: 0.02}
volume:                             # events per event type and day against the previous days
  history_days: 14                  # the median is over this many previous days
  min_history_days: 7               # fewer days of history: the check is skipped, with a note
  drop_share: 0.5                   # below this share of the median: check `volume.drop`
  min_median_events: 20             # event types rarer than this per day are not judged
```

The volume checks are `volume.drop` (default severity warning) and `volume.zero` (no event
of a type on a day whose median is at least min_median_events: critical).

Read through the project's one configuration reader (onboard/core/project_config.py): a
mistake is one line, `expectations/validation.yml:3: checks.x.tolerated_share: expected ...`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from onboard.core.paths import PROJECT_DIR
from onboard.core.project_config import ConfigModel, load_yaml, validate

EXPECTATIONS_DIR = PROJECT_DIR / "expectations"
CONFIG_FILE = EXPECTATIONS_DIR / "validation.yml"
SEVERITIES = ("critical", "warning")
DEFAULT_TOLERATED_SHARE = 0.01
#: One malformed row among 80 events of a daily window is not a 1.25 % breakage: a share
#: over fewer rows than this is taken over this many (zero tolerances still block on one row).
DEFAULT_SHARE_FLOOR_ROWS = 1000

#: Zero tolerance (docs/definitions.md#validation-tolerances): any missing or malformed plan_tier
#: or email on a signup is an error;
#: and any day without an event of a type that usually has them is a tracking outage.
ZERO_TOLERANCE = ("signup_completed.plan_tier", "signup_completed.email", "volume.zero")

#: A share of the validated rows: a number from 0 to 1 (not a text, not true / false).
Share = Annotated[float, Field(ge=0, le=1, strict=True)]
#: A whole number of at least 1 (not 2.0, not true).
Count = Annotated[int, Field(ge=1, strict=True)]


@dataclass(frozen=True)
class CheckLevel:
    """How much failure one check tolerates, and whether beyond it the run is blocked."""

    tolerated_share: float
    severity: str


class CheckSettings(ConfigModel):
    """One entry of `checks:`; a share left out is the check's default (0 for zero tolerance)."""

    tolerated_share: Share | None = None
    severity: Literal["critical", "warning"] = "critical"


class VolumeConfig(ConfigModel):
    """How event volume per type and day is compared with the previous days."""

    history_days: Count = 14
    min_history_days: Count = 7
    drop_share: Share = 0.5
    min_median_events: Count = 20

    @field_validator("min_history_days")
    @classmethod
    def _within_history(cls, value: int, info: ValidationInfo) -> int:
        history = info.data.get("history_days")
        if history is not None and value > history:
            raise ValueError(f"at most history_days ({history})")
        return value


class ValidationConfig(ConfigModel):
    """Default tolerance plus per-check overrides (validation.yml)."""

    default_tolerated_share: Share = DEFAULT_TOLERATED_SHARE
    share_floor_rows: Annotated[int, Field(ge=0, strict=True)] = DEFAULT_SHARE_FLOOR_ROWS
    checks: dict[str, CheckSettings | None] = Field(default_factory=dict)
    volume: VolumeConfig = VolumeConfig()

    @property
    def overrides(self) -> dict[str, CheckLevel]:
        """The level of every check listed under `checks:`."""
        levels = {}
        for check, settings in self.checks.items():
            settings = settings or CheckSettings()
            share = settings.tolerated_share
            if share is None:
                share = 0.0 if check in ZERO_TOLERANCE else self.default_tolerated_share
            levels[check] = CheckLevel(float(share), settings.severity)
        return levels

    def level(self, check: str, default_severity: str = "critical") -> CheckLevel:
        """A check's level: its override, else its default (docs/definitions.md#validation-tolerances)."""
        overrides = self.overrides
        if check in overrides:
            return overrides[check]
        share = 0.0 if check in ZERO_TOLERANCE else self.default_tolerated_share
        return CheckLevel(share, default_severity)


def parse_config(raw: Any, where: str = "validation.yml") -> ValidationConfig:
    """Check and read the YAML structure of a validation config (None: the defaults)."""
    return validate(raw if raw is not None else {}, ValidationConfig, where)


def load_config(path: Path = CONFIG_FILE) -> ValidationConfig:
    """The project's validation config (defaults when the file does not exist)."""
    if not path.exists():
        return ValidationConfig()
    return load_yaml(path, ValidationConfig)
