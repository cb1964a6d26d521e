"""Per-read, per-write and per-sync tables written to parquet in chunks while a run goes.

Rows are buffered up to :data:`CHUNK_ROWS` per table, then written as a row group, so memory
holds one chunk per table. Each file is written under a temporary name and renamed into place
when the run ends: a reader never sees a half-written table.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from synctune._extras import import_extra

#: rows buffered per table before they are written
CHUNK_ROWS = 1 << 20


def _schemas(pa: Any) -> dict[str, Any]:
    return {
        "reads": pa.schema([("t", pa.float64()), ("node", pa.string()),
                            ("staleness_s", pa.float64()), ("latency_ms", pa.float64())]),
        "writes": pa.schema([("t", pa.float64()), ("node", pa.string()),
                             ("commit_t", pa.float64()), ("latency_ms", pa.float64()),
                             ("bytes", pa.int64()), ("failed", pa.bool_()),
                             ("visibility_max_s", pa.float64())]),
        "syncs": pa.schema([("node", pa.string()), ("start", pa.float64()),
                            ("end", pa.float64()), ("ok", pa.bool_()), ("failure", pa.string()),
                            ("pulled", pa.int64()), ("pushed", pa.int64()),
                            ("bytes", pa.int64()), ("reach", pa.float64())]),
    }


class DetailWriter:
    """Appends rows to ``<directory>/{reads,writes,syncs}.parquet``.

    Args:
        directory: where the tables go (created if missing).
    """

    def __init__(self, directory: Path) -> None:
        self._pa = import_extra("the simulator's detail tables", "parquet", "pyarrow")
        pq = import_extra("the simulator's detail tables", "parquet", "pyarrow.parquet")
        self._schemas = _schemas(self._pa)
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._buf: dict[str, list[pd.DataFrame]] = {name: [] for name in self._schemas}
        self._rows = dict.fromkeys(self._schemas, 0)
        self._tmp = {name: self.directory / f".{name}.parquet.{os.getpid()}.tmp"
                     for name in self._schemas}
        self._writers = {name: pq.ParquetWriter(self._tmp[name], schema)
                         for name, schema in self._schemas.items()}

    def add(self, table: str, rows: pd.DataFrame) -> None:
        """Append ``rows`` (columns as in the table's schema) to ``table``."""
        self._buf[table].append(rows)
        self._rows[table] += len(rows)
        if self._rows[table] >= CHUNK_ROWS:
            self._flush(table)

    def _flush(self, table: str) -> None:
        if not self._buf[table]:
            return
        df = pd.concat(self._buf[table], ignore_index=True)
        self._buf[table], self._rows[table] = [], 0
        self._writers[table].write_table(
            self._pa.Table.from_pandas(df, schema=self._schemas[table], preserve_index=False))

    def close(self) -> None:
        """Write what is buffered and move every table into place."""
        for name, writer in self._writers.items():
            self._flush(name)
            writer.close()
            os.replace(self._tmp[name], self.directory / f"{name}.parquet")

    def abort(self) -> None:
        """Drop the unfinished tables (a failed run leaves no partial files behind)."""
        for name, writer in self._writers.items():
            writer.close()
            self._tmp[name].unlink(missing_ok=True)
