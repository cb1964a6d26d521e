"""Replica adapter for pyturso (``turso.sync``): the tursodb sync protocol.

How each call is bounded: pulls and pushes run on the controller's sync thread under
:func:`synctune.live.http_deadline.deadline`, so every HTTP connect and read pyturso makes ends by
the timeout; a "database is busy" answer from the local engine (the app committing at the same
moment) is retried until the same deadline. A timed-out HTTP request fails pyturso's operation
cleanly (the engine is told the I/O failed and rolls the operation back), so the same connection
serves the next attempt; the live tests check this by hanging, then restoring, the primary.

How changes are counted: ``push`` reports the drop in the engine's pending CDC operations (one
per row change); ``pull`` reports 1 when pyturso applied anything, else 0. The pull protocol
exposes a revision that advances per page frame, not per remote commit, so it cannot count
commits; one per non-empty pull is exact while pulls are more frequent than remote commits (the
regime a freshness target puts us in) and a lower bound otherwise. Bytes are the deltas of the
engine's ``network_sent_bytes + network_received_bytes``.

Connections: the sync thread owns one connection; :meth:`TursoReplica.connect` hands the app a
second connection on the same sync database, so app reads and writes never wait on the network.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import Any

from synctune.live import http_deadline
from synctune.live.replica import (
    PullResult,
    PushResult,
    Replica,
    SyncError,
    classify,
    file_size,
    redact,
    safe_url,
)
from synctune.policy import FailureKind

DEFAULT_OPEN_TIMEOUT = 10.0
_BUSY_WORDS = ("busy", "locked")


class TursoReplica(Replica):
    """An embedded replica kept in sync through pyturso.

    Args:
        path: local database file.
        url: sync server URL (``http://``, ``https://``; ``libsql://`` becomes ``https://``).
        auth_token: bearer token, never logged or shown.
        open_timeout: seconds allowed for opening (bootstraps from the primary when empty).
    """

    kind = "turso"

    def __init__(self, path: str | os.PathLike[str], url: str, *, auth_token: str | None = None,
                 open_timeout: float = DEFAULT_OPEN_TIMEOUT) -> None:
        http_deadline.install()
        self.path = os.fspath(path)
        self.url = url
        self._token = auth_token or None
        self._open_timeout = open_timeout
        self._lock = threading.Lock()
        self._conn: Any = None
        self._conn = self._open()

    # ---------------------------------------------------------------- plumbing
    def _open(self) -> Any:
        import turso.sync

        try:
            with http_deadline.deadline(self._open_timeout):
                return turso.sync.connect(self.path, self.url, auth_token=self._token,
                                          client_name="synctune")
        except Exception as exc:
            raise self._error(exc) from None

    def _error(self, exc: BaseException) -> SyncError:
        message = redact(f"{type(exc).__name__}: {exc}", self._token)
        return SyncError(classify(exc, message), message)

    def _run(self, timeout: float, op: str) -> tuple[Any, Any, Any]:
        """Run ``op`` (``pull``/``push``) with busy retries; return (result, before, after)."""
        end = time.monotonic() + timeout
        with self._lock:
            if self._conn is None:
                self._conn = self._open()
            conn = self._conn
            pause = 0.002
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    raise SyncError(FailureKind.TIMEOUT, f"{op} timed out after {timeout:g} s")
                try:
                    with http_deadline.deadline(left):
                        before = conn.stats()
                        result = getattr(conn, op)()
                        after = conn.stats()
                    return result, before, after
                except Exception as exc:
                    err = self._error(exc)
                    text = str(exc).lower()
                    if err.kind is FailureKind.OTHER and any(w in text for w in _BUSY_WORDS):
                        time.sleep(min(pause, max(0.0, end - time.monotonic())))
                        pause = min(pause * 2, 0.05)
                        continue
                    raise err from None

    def _close_conn(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    @staticmethod
    def _bytes(before: Any, after: Any) -> int:
        sent = (after.network_sent_bytes or 0) - (before.network_sent_bytes or 0)
        received = (after.network_received_bytes or 0) - (before.network_received_bytes or 0)
        return max(0, sent) + max(0, received)

    # ------------------------------------------------------------- interface
    def pull(self, timeout: float) -> PullResult:
        applied, before, after = self._run(timeout, "pull")
        return PullResult(changes=1 if applied else 0, nbytes=self._bytes(before, after))

    def push(self, timeout: float) -> PushResult:
        with self._lock:
            idle = self._conn is not None and not (self._conn.stats().cdc_operations or 0)
        if idle:  # nothing committed locally: skip the round trip
            return PushResult()
        _, before, after = self._run(timeout, "push")
        sent = max(0, (before.cdc_operations or 0) - (after.cdc_operations or 0))
        return PushResult(changes=sent, nbytes=self._bytes(before, after))

    def pending_changes(self) -> int:
        """Local row changes not yet pushed (pyturso's CDC backlog)."""
        with self._lock:
            if self._conn is None:
                return 0
            return int(self._conn.stats().cdc_operations or 0)

    def last_pull_unix_time(self) -> float | None:
        """Unix time (s) of the last successful pull recorded by the engine, if any."""
        with self._lock:
            if self._conn is None:
                return None
            t = self._conn.stats().last_pull_unix_time
            return float(t) if t is not None else None

    def local_db_size(self) -> int:
        return file_size(self.path)

    def connect(self) -> Any:
        """A second pyturso connection on the same sync database, for the app."""
        from turso.lib_sync import ConnectionSync, _run_op

        with self._lock:
            if self._conn is None:
                self._conn = self._open()
            base = self._conn
            raw = _run_op(base._sync, base._sync.connect(), base._http_ctx)
            return ConnectionSync(raw, sync=base._sync, http_ctx=base._http_ctx)

    def close(self) -> None:
        with self._lock:
            self._close_conn()

    def __repr__(self) -> str:
        token = "set" if self._token else "none"
        return f"TursoReplica(path={self.path!r}, url={safe_url(self.url)!r}, token={token})"
