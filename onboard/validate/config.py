"""What validation tolerates: expectations/validation.yml over the defaults of SPEC section 4.

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
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from onboard.core.errors import InputError
from onboard.core.paths import PROJECT_DIR

EXPECTATIONS_DIR = PROJECT_DIR / "expectations"
CONFIG_FILE = EXPECTATIONS_DIR / "validation.yml"
SEVERITIES = ("critical", "warning")
DEFAULT_TOLERATED_SHARE = 0.01
#: One malformed row among 80 events of a daily window is not a 1.25 % breakage: a share
#: over fewer rows than this is taken over this many (zero tolerances still block on one row).
DEFAULT_SHARE_FLOOR_ROWS = 1000

#: SPEC section 4: any missing or malformed plan_tier or email on a signup is an error;
#: and any day without an event of a type that usually has them is a tracking outage.
ZERO_TOLERANCE = ("signup_completed.plan_tier", "signup_completed.email", "volume.zero")


@dataclass(frozen=True)
class CheckLevel:
    """How much failure one check tolerates, and whether beyond it the run is blocked."""

    tolerated_share: float
    severity: str


@dataclass(frozen=True)
class VolumeConfig:
    """How event volume per type and day is compared with the previous days."""

    history_days: int = 14
    min_history_days: int = 7
    drop_share: float = 0.5
    min_median_events: int = 20


@dataclass(frozen=True)
class ValidationConfig:
    """Default tolerance plus per-check overrides."""

    default_tolerated_share: float
    overrides: dict[str, CheckLevel]
    volume: VolumeConfig = VolumeConfig()
    share_floor_rows: int = DEFAULT_SHARE_FLOOR_ROWS

    def level(self, check: str, default_severity: str = "critical") -> CheckLevel:
        """The level of a check: its override, else SPEC section 4's default."""
        if check in self.overrides:
            return self.overrides[check]
        share = 0.0 if check in ZERO_TOLERANCE else self.default_tolerated_share
        return CheckLevel(share, default_severity)


def _share(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InputError(f"{where}: tolerated_share must be a number between 0 and 1, got {value!r}")
    return float(value)


def parse_config(raw: Any, where: str = "validation.yml") -> ValidationConfig:
    """Check and read the YAML structure of a validation config."""
    raw = raw or {}
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected a mapping")
    unknown = set(raw) - {"default_tolerated_share", "share_floor_rows", "checks", "volume"}
    if unknown:
        raise InputError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    default = _share(raw.get("default_tolerated_share", DEFAULT_TOLERATED_SHARE), where)
    overrides: dict[str, CheckLevel] = {}
    for check, spec in (raw.get("checks") or {}).items():
        spec = spec or {}
        severity = spec.get("severity", "critical")
        if severity not in SEVERITIES:
            raise InputError(f"{where}: checks.{check}.severity must be critical or warning")
        zero = 0.0 if check in ZERO_TOLERANCE else default
        share = _share(spec.get("tolerated_share", zero), f"{where}: checks.{check}")
        overrides[str(check)] = CheckLevel(share, str(severity))
    floor = raw.get("share_floor_rows", DEFAULT_SHARE_FLOOR_ROWS)
    if isinstance(floor, bool) or not isinstance(floor, int) or floor < 0:
        raise InputError(f"{where}: share_floor_rows must be a whole number >= 0, got {floor!r}")
    return ValidationConfig(default, overrides, _volume(raw.get("volume"), where), floor)


def _volume(raw: Any, where: str) -> VolumeConfig:
    raw = raw or {}
    if not isinstance(raw, dict):
        raise InputError(f"{where}: volume: expected a mapping")
    defaults = VolumeConfig()
    unknown = set(raw) - set(defaults.__dataclass_fields__)
    if unknown:
        raise InputError(f"{where}: volume: unknown keys {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for key in ("history_days", "min_history_days", "min_median_events"):
        value = raw.get(key, getattr(defaults, key))
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{where}: volume.{key} must be a whole number >= 1, got {value!r}")
        values[key] = value
    values["drop_share"] = _share(raw.get("drop_share", defaults.drop_share), f"{where}: volume.drop_share")
    if values["min_history_days"] > values["history_days"]:
        raise InputError(f"{where}: volume.min_history_days must not exceed volume.history_days")
    return VolumeConfig(**values)


def load_config(path: Path = CONFIG_FILE) -> ValidationConfig:
    """The project's validation config (defaults when the file does not exist)."""
    if not path.exists():
        return parse_config({})
    with path.open() as handle:
        return parse_config(yaml.safe_load(handle), str(path))
