"""Which warehouse: the targets of profiles.yml, rendered (env_var() filled in), without secrets shown.

The CLI and dbt read the same profiles.yml, so `--target postgres` means the same database
to `onboard load` as to `dbt build`. Secrets come from environment variables through
`env_var()` in profiles.yml and are never printed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from onboard.core.errors import UsageError
from onboard.core.paths import PROFILES_FILE, PROJECT_DIR
from onboard.core.project_config import read_yaml

PROFILE_NAME = "onboarding_paths"
SUPPORTED_TYPES = ("duckdb", "postgres", "spark")


@dataclass(frozen=True)
class Target:
    """A rendered profiles.yml output."""

    name: str
    type: str
    settings: dict[str, Any]

    @property
    def duckdb_path(self) -> Path:
        path = Path(str(self.settings["path"]))
        return path if path.is_absolute() else PROJECT_DIR / path

    @property
    def spark_dir(self) -> Path:
        """The local Spark's folder (warehouse, metastore, raw files): $ONBOARD_SPARK_DIR."""
        return _spark_dir()

    def describe(self) -> str:
        """Where the warehouse is, without secrets."""
        if self.type == "duckdb":
            return f"duckdb file {self.duckdb_path}"
        if self.type == "spark":
            return f"spark ({self.settings.get('method')}) {self.spark_dir}"
        s = self.settings
        return f"postgres {s.get('user')}@{s.get('host')}:{s.get('port')}/{s.get('dbname')}"


def _spark_dir() -> Path:
    """$ONBOARD_SPARK_DIR (default warehouse/spark), relative to the project."""
    path = Path(os.environ.get("ONBOARD_SPARK_DIR") or "warehouse/spark")
    return path if path.is_absolute() else PROJECT_DIR / path


def _env_var(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise UsageError(f"profiles.yml needs the environment variable {name}")
    return value


def _render(value: Any) -> Any:
    if isinstance(value, str) and "{{" in value:
        environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
        environment.filters["as_number"] = lambda text: int(text)
        return environment.from_string(value).render(env_var=_env_var)
    if isinstance(value, dict):
        return {key: _render(item) for key, item in value.items()}
    return value


def resolve_target(name: str | None = None, profiles_file: Path = PROFILES_FILE) -> Target:
    """The profiles.yml output called name (default: the profile's default target)."""
    profile = read_yaml(profiles_file)[PROFILE_NAME]
    outputs = profile["outputs"]
    chosen = name or str(_render(profile["target"]))
    if chosen not in outputs:
        raise UsageError(
            f"--target {chosen}: not a target of {profiles_file.name} (known: {', '.join(sorted(outputs))})"
        )
    if outputs[chosen].get("type") == "spark":
        # Spark's paths (warehouse, Derby metastore) absolute, whatever the working directory
        os.environ["ONBOARD_SPARK_DIR"] = str(_spark_dir())
    settings = _render(outputs[chosen])
    if settings["type"] not in SUPPORTED_TYPES:
        raise UsageError(
            f"--target {chosen}: type {settings['type']} is not supported by onboard "
            f"(supported: {', '.join(SUPPORTED_TYPES)}); run dbt directly"
        )
    return Target(name=chosen, type=settings["type"], settings=settings)
