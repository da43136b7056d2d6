"""The names of the run logs one feature writes and another reads: schemas and tables.

`onboard validate` records its runs in validation.validation_runs and `onboard sync` in
sync.sync_runs; the dashboard shows both and the sync gate reads validation's. The names
live here, below every feature, so a reader needs no import of the writer's package (dbt
reads the same tables as sources: models/monitoring/_monitoring__sources.yml).
"""

from __future__ import annotations

VALIDATION_SCHEMA = "validation"
VALIDATION_RUNS_TABLE = "validation_runs"

SYNC_SCHEMA = "sync"
SYNC_RUNS_TABLE = "sync_runs"
