"""App connections that are safe under threads: one writer at a time, nothing run twice.

A :class:`SyncedConnection` wraps a DB-API connection from a replica. Its rules:

- **A write waits before it starts, never after.** The first statement of a write transaction
  takes the replica's local write lock (waiting up to ``busy_timeout`` seconds, local work only:
  other app transactions, or the sync thread applying pulled changes for milliseconds) and holds
  it until commit or rollback. With writers serialised here the engine never refuses a write for
  a concurrent one, so no statement is ever retried: a statement that raised is reported as it
  is, and a statement whose outcome is unknown is never run again. If the lock cannot be had in
  time, :class:`LocalWriteTimeout` is raised before anything ran.
- **Reads are retried, because they change nothing.** A read refused while pulled changes are
  being applied ("database is locked") is run again until ``busy_timeout``.
- **A read may wait for a fresh pull, holding nothing.** With ``before_read`` (bounded-staleness
  reads), a read outside this connection's own transaction first calls it, before it takes
  this connection's lock; a read inside an open transaction never waits (the pull's apply
  might wait for that very transaction).
- **``with conn:`` is sqlite3's.** It commits on success and rolls back on an exception, and the
  connection stays open.
- **A thread never waits for itself.** A write, or opening a connection, that needs the write
  lock this thread's own open transaction holds on another connection fails at once with
  :class:`OwnWriteLockHeld` (nothing ran) instead of waiting ``busy_timeout`` for a commit that
  only this thread could make.
- **Commits are reported after they happen.** ``on_commit`` runs only after a commit that
  wrote something succeeded; the engine's own change log decides what is pushed, so a missed
  report delays a push but never loses a row. A report that raises is logged, never raised
  from the commit: the app would take a commit that stands for a failed one and retry it.
  Likewise a read's report (``on_read``) that raises is logged, never raised from the read.

A connection may be shared between threads; its calls are serialised. ``close()`` rolls back
what is open and hands the underlying connection back to the replica's pool (a connection that
is dropped without ``close()`` is handed back when it is garbage-collected).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from synctune.live.app import fork_guard
from synctune.live.app.busy import retry_busy
from synctune.live.app.statements import COMMIT, READ, ROLLBACK, WRITE, statement_kind
from synctune.live.app.write_lock import (
    DEFAULT_BUSY_TIMEOUT,
    Lease,
    held_by_this_thread,
)

log = logging.getLogger("synctune.live")

class SyncedConnection:
    """A thread-safe app connection on a replica (see the module docs for its rules).

    Args:
        conn: the underlying DB-API connection.
        gate: the replica's local write lock, or ``None`` when the database coordinates writers
            itself (a plain SQLite file, libsql).
        release: takes the underlying connection back on ``close()`` (default: close it).
        on_commit: called with the count (1) after each commit that wrote something.
        on_read: called with each read's latency in seconds.
        busy_timeout: seconds a write waits for the write lock, and a read retries a locked
            database.
        before_read: called before each read outside a transaction, holding no lock; it may
            wait (briefly) for the replica to be fresh enough (``SyncController.before_read``).
        thread_owned: a write transaction belongs to the thread that began it, so that thread
            needing the write lock again elsewhere fails at once (:class:`OwnWriteLockHeld`).
            False for connections run from worker threads many tasks share (asyncio's), where
            another task's open transaction may have begun on the same thread.
    """

    def __init__(self, conn: Any, *, gate: threading.Lock | None = None,
                 release: Callable[[Any], None] | None = None,
                 on_commit: Callable[[int], None] | None = None,
                 on_read: Callable[[float], None] | None = None,
                 busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
                 before_read: Callable[[], object] | None = None,
                 thread_owned: bool = True) -> None:
        if not (isinstance(busy_timeout, int | float) and 0 <= busy_timeout < float("inf")):
            raise ValueError(f"busy_timeout must be a finite number >= 0 (s), got {busy_timeout!r}")
        self._lease = Lease(conn, gate, release)
        self._on_commit = on_commit
        self._on_read = on_read
        self._before_read = before_read
        self._busy_timeout = float(busy_timeout)
        self._thread_owned = thread_owned
        self._use = threading.RLock()
        self._wrote = False
        self._finalizer = weakref.finalize(self, self._lease.reclaim)

    # ------------------------------------------------------------------- internals
    def _raw(self) -> Any:
        raw = self._lease.raw
        if raw is None:
            raise RuntimeError("connection is closed")
        return raw  # the public methods refused a forked child already, before any lock

    def _same_process(self) -> None:
        """Refuse use in a forked child, before any lock a parent thread may have held."""
        if self._lease.born != fork_guard.generation:
            raise fork_guard.refuse("this connection")

    def _take_gate(self) -> None:
        self._lease.take_gate(self._busy_timeout, thread_owned=self._thread_owned)

    def _settle(self, raw: Any) -> None:
        """After a write: once no transaction is open, report it and free the lock."""
        if raw.in_transaction:
            return
        wrote, self._wrote = self._wrote, False
        self._lease.drop_gate()
        if wrote and self._on_commit is not None:
            try:
                self._on_commit(1)
            except Exception as exc:  # the commit stands: raising would invite a retry
                log.warning("committed, but reporting the commit failed (%s); the engine's "
                            "change log still has it for the next push", type(exc).__name__)

    def _read(self, raw: Any, sql: str, params: Any) -> _Rows:
        t0 = time.perf_counter()

        def read() -> tuple[Any, list[Any]]:
            cursor = raw.execute(sql, params)
            return cursor, cursor.fetchall()

        cursor, rows = retry_busy(read, time.monotonic() + self._busy_timeout)
        if self._on_read is not None:
            try:
                self._on_read(time.perf_counter() - t0)
            except Exception as exc:  # the read ran: failing it could roll back the app's writes
                log.warning("read, but reporting it failed (%s)", type(exc).__name__)
        return _Rows(rows, cursor)

    def _write(self, run: Callable[[Any], Any], kind: str = WRITE) -> Any:
        raw = self._raw()
        self._take_gate()
        try:
            result = run(raw)
        except BaseException:
            if not raw.in_transaction:  # the failed statement left nothing open
                self._wrote = False
                self._lease.drop_gate()
            raise
        if kind == WRITE:
            self._wrote = True
        self._settle(raw)
        return result

    # ---------------------------------------------------------------------- DB-API
    def _may_wait(self, blocking: bool = True) -> bool:
        """True when a read may wait for a pull: no transaction is open on this connection,
        nor one of this thread's on another (the pull's apply would wait for it).

        With ``blocking=False`` (an event loop asking) a statement running on it in another
        thread right now answers False rather than be waited for."""
        if held_by_this_thread(self._lease.gate) or not self._use.acquire(blocking):
            return False
        try:
            raw = self._lease.raw
            return raw is not None and not self._lease.holding and not raw.in_transaction
        finally:
            self._use.release()

    def execute(self, sql: str, parameters: Any = ()) -> Any:
        """Run one statement; reads come back fetched (their latency goes to ``on_read``)."""
        self._same_process()
        kind = statement_kind(sql)
        if kind == READ and self._before_read is not None and self._may_wait():
            self._before_read()  # outside every lock: a commit never waits for a pull
        with self._use:
            if kind == COMMIT:
                self._commit()
                return _Rows([], None)
            if kind == ROLLBACK:
                self._rollback()
                return _Rows([], None)
            raw = self._raw()
            if kind == READ:
                return self._read(raw, sql, parameters)
            return self._write(lambda c: c.execute(sql, parameters))

    def executemany(self, sql: str, seq_of_parameters: Any) -> Any:
        """Run a write statement for each parameter set (one transaction, one lock)."""
        self._same_process()
        with self._use:
            return self._write(lambda c: c.executemany(sql, seq_of_parameters))

    def executescript(self, script: str) -> Any:
        """Run a script under the write lock."""
        self._same_process()
        with self._use:
            return self._write(lambda c: c.executescript(script))

    def cursor(self) -> SyncedCursor:
        """A cursor whose statements follow this connection's rules."""
        return SyncedCursor(self)

    def _commit(self) -> None:
        raw = self._raw()
        if not raw.in_transaction:
            self._lease.drop_gate()
            return
        try:
            raw.commit()
        except BaseException:
            if not raw.in_transaction:  # it did not commit and nothing is open any more
                self._wrote = False
                self._lease.drop_gate()
            raise
        self._settle(raw)

    def _rollback(self) -> None:
        raw = self._raw()
        try:
            if raw.in_transaction:
                raw.rollback()
        finally:
            if not raw.in_transaction:
                self._wrote = False
                self._lease.drop_gate()

    def commit(self) -> None:
        """Commit; report it (``on_commit``) only when it wrote something and succeeded."""
        self._same_process()
        with self._use:
            self._commit()

    def rollback(self) -> None:
        """Roll back the open transaction and free the write lock."""
        self._same_process()
        with self._use:
            self._rollback()

    @property
    def in_transaction(self) -> bool:
        """True while a transaction is open on this connection."""
        self._same_process()
        return bool(self._raw().in_transaction)

    @property
    def holds_write_lock(self) -> bool:
        """True while this connection's write transaction holds the replica's write lock."""
        return self._lease.holding

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._lease.raw is None

    def close(self) -> None:
        """Roll back what is open and hand the connection back (idempotent)."""
        if self._lease.born != fork_guard.generation:
            self._finalizer()  # a forked child only lets go of it
            return
        with self._use:
            self._wrote = False
            self._finalizer()

    def __getattr__(self, name: str) -> Any:
        self._same_process()
        return getattr(self._raw(), name)

    def __enter__(self) -> SyncedConnection:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        """sqlite3's rule: commit on success, roll back on an exception; stay open."""
        self._same_process()
        with self._use:
            if exc_type is not None:
                self._rollback()
                return
            try:
                self._commit()
            except BaseException:
                self._rollback()
                raise

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<SyncedConnection {state}>"


class SyncedCursor:
    """A DB-API cursor over a :class:`SyncedConnection`."""

    arraysize = 1

    def __init__(self, connection: SyncedConnection) -> None:
        self.connection = connection
        self._result: Any = _Rows([], None)

    def execute(self, sql: str, parameters: Any = ()) -> SyncedCursor:
        self._result = self.connection.execute(sql, parameters)
        return self

    def executemany(self, sql: str, seq_of_parameters: Any) -> SyncedCursor:
        self._result = self.connection.executemany(sql, seq_of_parameters)
        return self

    def fetchone(self) -> Any:
        return self._result.fetchone()

    def fetchmany(self, size: int | None = None) -> list[Any]:
        return list(self._result.fetchmany(size or self.arraysize))

    def fetchall(self) -> list[Any]:
        return list(self._result.fetchall())

    @property
    def description(self) -> Any:
        return getattr(self._result, "description", None)

    @property
    def rowcount(self) -> int:
        return int(getattr(self._result, "rowcount", -1))

    @property
    def lastrowid(self) -> Any:
        return getattr(self._result, "lastrowid", None)

    def close(self) -> None:
        self._result = _Rows([], None)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class _Rows:
    """A fetched read result with the cursor interface apps use most."""

    def __init__(self, rows: list[Any], cursor: Any) -> None:
        self._rows = rows
        self._pos = 0
        self.description = getattr(cursor, "description", None)
        self.rowcount = -1
        self.lastrowid = None

    def fetchall(self) -> list[Any]:
        rows, self._pos = self._rows[self._pos:], len(self._rows)
        return rows

    def fetchmany(self, size: int = 1) -> list[Any]:
        rows = self._rows[self._pos:self._pos + size]
        self._pos += len(rows)
        return rows

    def fetchone(self) -> Any:
        if self._pos >= len(self._rows):
            return None
        self._pos += 1
        return self._rows[self._pos - 1]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())
