"""Where the project's files are: the repo root holds dbt_project.yml and profiles.yml."""

from __future__ import annotations

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT_PROJECT_FILE = PROJECT_DIR / "dbt_project.yml"
PROFILES_FILE = PROJECT_DIR / "profiles.yml"
