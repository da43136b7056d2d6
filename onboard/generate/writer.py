"""Stream a table to `<name>.parquet` or `<name>.csv`, one chunk at a time.

Every column is text (Parquet `string`; CSV with a header row, null written as an empty
field, text quoted). Each chunk becomes one Parquet row group, so memory stays bounded by
the chunk size whatever the number of customers.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

PARQUET_COMPRESSION = "zstd"


def text_schema(columns: tuple[str, ...]) -> pa.Schema:
    """A schema of nullable string columns."""
    return pa.schema([pa.field(column, pa.string()) for column in columns])


class TableWriter:
    """Appends chunks of one table to its file; `rows` counts what was written."""

    def __init__(self, directory: Path, name: str, columns: tuple[str, ...], fmt: str) -> None:
        self.path = directory / f"{name}.{fmt}"
        self.schema = text_schema(columns)
        self.rows = 0
        self._writer: pq.ParquetWriter | pa_csv.CSVWriter
        if fmt == "parquet":
            self._writer = pq.ParquetWriter(self.path, self.schema, compression=PARQUET_COMPRESSION)
        else:
            self._writer = pa_csv.CSVWriter(self.path, self.schema)

    def write(self, table: pa.Table) -> None:
        """Append a chunk whose columns are the table's columns, in order."""
        table = table.select(list(self.schema.names)).cast(self.schema)
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
