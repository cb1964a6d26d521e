"""The development preset: a local SQLite file, no remote, nothing to sync."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from typing import Any

from synctune.live.replica.base import NoSyncReplica


class LocalReplica(NoSyncReplica):
    """A plain local database file (the guide's ``file:dev.db``); pulls and pushes are no-ops.

    The controller never schedules syncs for it (:attr:`syncs` is False); its metrics report
    zero lag and staleness, as a database that is its own primary has.
    """

    kind = "local"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        sqlite3.connect(self.path).close()  # create the file, fail early on a bad path
        # this process's writers take turns here rather than meet SQLite's busy errors
        self._gate = threading.Lock()

    @property
    def write_gate(self) -> threading.Lock:
        return self._gate

    def local_db_size(self) -> int:
        return file_size(self.path)

    def connect(self) -> Any:
        return sqlite3.connect(self.path, check_same_thread=False)

    def close(self) -> None:
        """Nothing to release: app connections are the app's."""

    def __repr__(self) -> str:
        return f"LocalReplica(path={self.path!r})"


def file_size(path: str) -> int:
    """Bytes of a database file and its write-ahead log (missing files count 0)."""
    total = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(OSError):
            total += os.path.getsize(path + suffix)
    return total
