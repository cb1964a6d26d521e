"""Per-read, per-write and per-sync tables, collected while a run goes.

:class:`DetailWriter` writes them to parquet in chunks: rows are buffered up to
:data:`CHUNK_ROWS` per table, then written as a row group, so memory holds one chunk per table.
Each file is written under a temporary name and renamed into place when the run ends: a reader
never sees a half-written table. :class:`DetailFrames` keeps them in memory instead (a run
with ``detail`` and no ``detail_dir``: what a notebook looks at, no files left behind).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

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


#: pandas dtypes of each table's columns (as the parquet schemas above give them)
TABLE_DTYPES: dict[str, dict[str, str]] = {
    "reads": {"t": "float64", "node": "object", "staleness_s": "float64",
              "latency_ms": "float64"},
    "writes": {"t": "float64", "node": "object", "commit_t": "float64", "latency_ms": "float64",
               "bytes": "int64", "failed": "bool", "visibility_max_s": "float64"},
    "syncs": {"node": "object", "start": "float64", "end": "float64", "ok": "bool",
              "failure": "object", "pulled": "int64", "pushed": "int64", "bytes": "int64",
              "reach": "float64"},
}


def empty_table(name: str) -> pd.DataFrame:
    """Table ``name`` with no rows and its columns' dtypes (so that ``df[df["ok"]]`` and the
    like behave as on a full table)."""
    return pd.DataFrame({col: pd.Series(dtype=dtype)
                         for col, dtype in TABLE_DTYPES[name].items()})


class DetailSink(Protocol):
    """Where a run's detail rows go: :class:`DetailWriter` or :class:`DetailFrames`."""

    def add(self, table: str, rows: pd.DataFrame) -> None:
        """Append ``rows`` to ``table`` (``reads``, ``writes`` or ``syncs``)."""

    def close(self) -> None:
        """The run is done: make the tables complete."""

    def abort(self) -> None:
        """The run failed: drop what was collected."""


class DetailFrames:
    """Collects the detail tables in memory; :attr:`tables` holds them once closed (reads and
    writes sorted by time, as :class:`~synctune.sim.result.SimResult` gives them)."""

    def __init__(self) -> None:
        self._parts: dict[str, list[pd.DataFrame]] = {"reads": [], "writes": [], "syncs": []}
        self.tables: dict[str, pd.DataFrame] = {}

    def add(self, table: str, rows: pd.DataFrame) -> None:
        """Append ``rows`` (columns as in the table's schema) to ``table``."""
        self._parts[table].append(rows)

    def close(self) -> None:
        """Join each table's parts (the node column as a category, as a reader gets it)."""
        for name, parts in self._parts.items():
            df = pd.concat(parts, ignore_index=True) if parts else None
            if df is None or df.empty:  # empty parts carry no dtypes
                self.tables[name] = empty_table(name)
                continue
            if name != "syncs":
                df = df.sort_values("t", kind="stable", ignore_index=True)
                df["node"] = df["node"].astype("category")
            self.tables[name] = df
        self._parts = {}

    def abort(self) -> None:
        """Drop what was collected."""
        self._parts, self.tables = {}, {}


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
