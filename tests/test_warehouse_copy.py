"""A copied or renamed DuckDB warehouse file still reads (docs/definitions.md#warehouse-file-portable)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

VIEWS = "select schema_name, view_name from duckdb_views() where not internal order by 1, 2"
#: a mart joined with a staging view, as a BI query on the file would
MART_WITH_VIEW = """
    select count(*)
    from main.onboarding_customers as customers
    inner join main_staging.stg_product__events as events using (customer_id)
"""


def _read(path: Path) -> tuple[dict[str, int], int]:
    """Row count of every view in the file, and of MART_WITH_VIEW."""
    with duckdb.connect(str(path), read_only=True) as connection:
        views = connection.execute(VIEWS).fetchall()
        counts = {
            f"{schema}.{name}": connection.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
            for schema, name in views
        }
        return counts, connection.execute(MART_WITH_VIEW).fetchone()[0]


def test_every_view_of_a_copy_under_another_name_reads_as_the_original(built: Path, tmp_path: Path):
    original = _read(built)
    views, joined = original
    assert {"main_staging.stg_product__events", "main_staging.stg_product__events_unusable"} <= set(views)
    assert views["main_staging.stg_product__events"] > 0 and joined > 0
    copy = shutil.copyfile(built, tmp_path / "renamed_copy.duckdb")
    # before macros/relations.sql every view named the built file's catalog (`w`) and failed here
    assert _read(copy) == original
