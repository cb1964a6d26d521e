"""A thin app connection wrapper: tells the controller about commits and read latency."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synctune.live.controller import SyncController

_READS = ("select", "with", "pragma", "explain")
_BUSY = ("locked", "busy")


class SyncedConnection:
    """Wraps a DB-API connection from :meth:`Replica.connect`.

    ``commit()`` commits and then calls ``controller.notify_write()``; ``execute`` of a read
    records its latency for the ``query_latency`` metric. A statement or commit refused because
    the sync thread is applying pulled changes at that moment ("database is locked") is retried
    for up to ``busy_timeout`` seconds, as SQLite's busy handler would. Everything else is passed
    through to the wrapped connection.
    """

    def __init__(self, conn: Any, controller: SyncController, *,
                 busy_timeout: float = 2.0) -> None:
        self._conn = conn
        self._controller = controller
        self._busy_timeout = busy_timeout
        self._wrote = False  # a non-read statement ran through execute() since the last commit

    def _retry(self, fn: Any, *args: Any) -> Any:
        end = time.monotonic() + self._busy_timeout
        pause = 0.001
        while True:
            try:
                return fn(*args)
            except Exception as exc:
                text = str(exc).lower()
                if not any(w in text for w in _BUSY) or time.monotonic() >= end:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 0.05)

    def execute(self, sql: str, *params: Any) -> Any:
        """Run ``sql``; reads are timed (seconds) for ``query_latency``."""
        is_read = sql.lstrip()[:7].lower().startswith(_READS)
        if not is_read:
            self._wrote = True
        t0 = time.perf_counter()
        cursor = self._retry(self._conn.execute, sql, *params)
        if is_read:
            rows = cursor.fetchall()
            self._controller.record_query(time.perf_counter() - t0)
            return _Rows(rows, cursor)
        return cursor

    def commit(self) -> None:
        """Commit, then tell the controller (one local write batch awaiting a push).

        A commit with nothing written (only reads since the last one) tells it nothing, so
        read-only transactions cause no on-write syncs.
        """
        wrote = self._wrote or bool(getattr(self._conn, "in_transaction", True))
        self._retry(self._conn.commit)
        self._wrote = False
        if wrote:
            self._controller.notify_write()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __enter__(self) -> SyncedConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.close()


class _Rows:
    """A fetched read result with the cursor interface apps use most."""

    def __init__(self, rows: list[Any], cursor: Any) -> None:
        self._rows = rows
        self._pos = 0
        self.description = getattr(cursor, "description", None)

    def fetchall(self) -> list[Any]:
        rows, self._pos = self._rows[self._pos:], len(self._rows)
        return rows

    def fetchone(self) -> Any:
        if self._pos >= len(self._rows):
            return None
        self._pos += 1
        return self._rows[self._pos - 1]

    def __iter__(self) -> Any:
        return iter(self.fetchall())
