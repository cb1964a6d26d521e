"""Parquet results store: one small file per finished run, named by the run's key.

Each file is written to a temporary name in the same directory and renamed into place, so a
reader (or a resumed sweep) sees either the whole run or nothing, even if the writer is killed.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from synctune._extras import import_extra, require
from synctune._files import TEMP_SUFFIX, write_atomically
from synctune.policy.errors import InvalidInput

SUFFIX = ".parquet"


_FEATURE = "the results store (sweep --out)"


def _pyarrow() -> Any:
    return (import_extra(_FEATURE, "parquet", "pyarrow"),
            import_extra(_FEATURE, "parquet", "pyarrow.parquet"))


def _plain(value: Any) -> Any:
    # numpy scalars -> Python scalars, so every run's file has plain Arrow types
    item = getattr(value, "item", None)
    if item is not None and getattr(value, "shape", None) == ():
        return item()
    return value


class ResultStore:
    """A directory of one-row parquet files, one per finished run.

    Args:
        directory: where the files live; created if missing.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        path = Path(directory)
        if path.exists() and not path.is_dir():
            raise InvalidInput(f"results store must be a directory, got file {str(path)!r}")
        require(_FEATURE, "parquet", "pyarrow")
        path.mkdir(parents=True, exist_ok=True)
        self.directory = path

    def __repr__(self) -> str:
        return f"ResultStore({str(self.directory)!r})"

    def path(self, key: str) -> Path:
        """The file that holds run ``key``."""
        if not key or not all(c in "0123456789abcdef" for c in key):
            raise InvalidInput(f"run key must be lower-case hex, got {key!r}")
        return self.directory / f"{key}{SUFFIX}"

    def keys(self) -> set[str]:
        """Keys of the runs already stored."""
        return {p.name[: -len(SUFFIX)] for p in self.directory.glob(f"*{SUFFIX}")
                if not p.name.startswith(".")}

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.path(key).exists()

    def __len__(self) -> int:
        return len(self.keys())

    def write(self, key: str, row: Mapping[str, Any]) -> Path:
        """Store one run's row atomically (temp file + rename); return the file's path."""
        pa, pq = _pyarrow()
        final = self.path(key)
        table = pa.Table.from_pylist([{str(k): _plain(v) for k, v in row.items()}])
        return write_atomically(final, lambda tmp: pq.write_table(table, tmp))

    def read(self, key: str) -> dict[str, Any]:
        """One stored run's row."""
        _, pq = _pyarrow()
        rows = pq.read_table(self.path(key)).to_pylist()
        return rows[0]

    def load(self, keys: Iterable[str] | None = None) -> pd.DataFrame:
        """Stored runs as a DataFrame, one row per run (all runs, or just ``keys``)."""
        wanted = sorted(self.keys() if keys is None else set(keys))
        rows = [self.read(k) for k in wanted]
        return pd.DataFrame.from_records(rows) if rows else pd.DataFrame()

    def clean_temporary(self, older_than: float = 0.0) -> int:
        """Delete leftovers of writers killed mid-write, last touched more than ``older_than``
        seconds ago (a live writer's file is seconds old); return how many."""
        cutoff = time.time() - older_than
        removed = 0
        for p in self.directory.glob(f".*{TEMP_SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                if p.stat().st_mtime <= cutoff:
                    p.unlink()
                    removed += 1
        return removed
