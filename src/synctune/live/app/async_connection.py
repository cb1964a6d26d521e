"""The app connection for asyncio: the same rules, with the event loop never blocked.

Write transactions of one controller's async connections queue on an ``asyncio.Lock``. A
connection holding it must give it back even when the app never ends its transaction: a
handler cancelled mid-transaction (a client that disconnects) or an exception between
``execute`` and ``commit``, with neither ``async with`` nor ``close()``, once kept it for good,
and every later async write waited forever. So the lock's holder is released (its transaction
rolled back, the connection closed) when the task that runs the transaction is cancelled, or
when the connection is dropped (garbage-collected) with it open.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any

from synctune.live.app.connection import SyncedConnection
from synctune.live.app.statements import statement_kind


class TransactionRolledBack(RuntimeError):
    """The connection's open transaction was rolled back and the connection closed, because the
    task running it was cancelled or the connection was dropped; nothing more was run."""


class _Job:
    """A call for a worker thread that a cancellation can still stop before it starts."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._fn = fn
        self._lock = threading.Lock()
        self._state = "queued"

    def run(self) -> Any:
        with self._lock:
            if self._state == "cancelled":
                return None
            self._state = "running"
        return self._fn()

    def cancel(self) -> bool:
        """True when the call will never run."""
        with self._lock:
            if self._state == "queued":
                self._state = "cancelled"
            return self._state == "cancelled"


class _Hold:
    """A connection's hold on the writers' ``asyncio.Lock``; outlives the connection object, so
    that dropping it can still give the lock back. Used on the event loop's thread only, but for
    :meth:`dropped`."""

    def __init__(self, writers: asyncio.Lock) -> None:
        self.writers = writers
        self.loop: asyncio.AbstractEventLoop | None = None
        self.conn: SyncedConnection | None = None
        self.queued = False  # holds ``writers``
        self.aborted: str | None = None
        self._owner: tuple[asyncio.Task[Any], Callable[[Any], None]] | None = None

    def own(self, task: asyncio.Task[Any] | None) -> None:
        """``task`` runs the open transaction: its cancellation rolls it back."""
        if task is None or (self._owner is not None and self._owner[0] is task):
            return
        self.disown()
        callback = self._owner_done
        task.add_done_callback(callback)
        self._owner = (task, callback)

    def disown(self) -> None:
        owner, self._owner = self._owner, None
        if owner is not None:  # a long-lived task must not collect one callback per transaction
            owner[0].remove_done_callback(owner[1])

    def _owner_done(self, task: asyncio.Task[Any]) -> None:
        self._owner = None
        if task.cancelled() and self.queued:
            self.abort("the task running its transaction was cancelled")

    def settle(self) -> None:
        """After a call: give the lock back unless a write transaction is still open."""
        if self.queued and (self.conn is None or not self.conn.holds_write_lock):
            self.release()

    def release(self) -> None:
        self.disown()
        if self.queued:
            self.queued = False
            self.writers.release()

    def abort(self, why: str) -> None:
        """Roll back and close (in a worker thread, after any call still running), then give
        the lock back."""
        if self.aborted is not None:
            return
        self.aborted = (f"this connection's transaction was rolled back and the connection "
                        f"closed: {why}; nothing more was run")
        self.disown()
        conn, loop = self.conn, self.loop
        if conn is None or loop is None:
            self.release()
            return
        try:
            closing = loop.run_in_executor(None, conn.close)
        except RuntimeError:  # the loop's executor is shut down: nobody else can wait
            with contextlib.suppress(Exception):
                conn.close()
            self.release()
            return
        def closed(done: asyncio.Future[None]) -> None:
            if not done.cancelled():
                done.exception()  # retrieved: a broken connection is closed all the same
            self.release()

        closing.add_done_callback(closed)

    def dropped(self) -> None:
        """The connection was garbage-collected (any thread)."""
        if not self.queued or self.loop is None:
            return
        try:
            self.loop.call_soon_threadsafe(self.abort, "it was dropped with a transaction open")
        except RuntimeError:  # the loop is closed: no writer is left to wait
            if self.conn is not None:
                with contextlib.suppress(Exception):
                    self.conn.close()


class AsyncSyncedConnection:
    """Awaitable calls on a :class:`~synctune.live.app.connection.SyncedConnection`.

    Each call runs in a worker thread, and so does opening it: the underlying connection is
    opened with the first statement (opening takes the replica's write lock for a moment, which
    another task's open transaction may hold until the event loop lets it commit), before a
    first write queues (an open may wait for a sync on the network when no connection is idle;
    other tasks' writes never wait for it). Write
    transactions of one controller's async connections queue on an ``asyncio.Lock`` before
    they take the replica's write lock, so waiting writers hold no worker thread (many waiting
    coroutines cannot starve the thread that would commit the transaction they wait for). Use
    one connection per task, as with any DB-API connection; ``async with conn:`` commits on
    success and rolls back on an exception.

    With bounded-staleness reads (``before_read``, the controller's ``before_read_async``), a
    read outside this connection's own transaction first awaits its pull here, holding no
    worker thread, so waiting reads never hold up a commit or each other.

    A cancelled call still runs to its end in its worker thread (threads cannot be
    interrupted) once it has started: a cancelled ``commit()`` may have committed; check before
    retrying it. When the task running a write transaction is cancelled, or the connection is
    dropped with one open, the transaction is rolled back and the connection closed (later
    calls raise :class:`TransactionRolledBack`), so other tasks' writes never wait for it.

    Args:
        conn: the connection, or a callable that opens it (called in a worker thread).
        writers: the lock write transactions queue on.
        before_read: awaited before a read outside a transaction (bounded-staleness reads).
        opens: the threads opening runs on (default: asyncio's, which statements use too).
            With nothing idle in the pool an open waits for a sync on the network; waiting
            opens filling the threads statements run on would hold every task's commits.
    """

    def __init__(self, conn: SyncedConnection | Callable[[], SyncedConnection],
                 writers: asyncio.Lock,
                 before_read: Callable[[], Awaitable[object]] | None = None,
                 opens: Executor | None = None) -> None:
        self._conn = conn if isinstance(conn, SyncedConnection) else None
        self._open = None if isinstance(conn, SyncedConnection) else conn
        self._opens = opens
        self._opening = threading.Lock()
        self._hold = _Hold(writers)
        self._hold.conn = self._conn
        self._before_read = before_read
        weakref.finalize(self, self._hold.dropped)

    @property
    def connection(self) -> SyncedConnection | None:
        """The underlying connection (``None`` until the first statement opens it)."""
        return self._conn

    def _opened(self) -> SyncedConnection:
        """In a worker thread: the connection, opened now if it is not yet."""
        conn = self._conn
        if conn is None:
            with self._opening:
                conn = self._conn
                if conn is None:
                    assert self._open is not None
                    conn = self._conn = self._hold.conn = self._open()
        return conn

    async def _call(self, write: bool, name: str, *args: Any) -> Any:
        hold = self._hold
        if hold.aborted is not None:
            if name in ("close", "rollback") or (name == "__exit__" and args[0] is not None):
                return None  # what was asked for is done already
            raise TransactionRolledBack(hold.aborted)
        loop = hold.loop = asyncio.get_running_loop()
        conn = self._conn
        if conn is None:
            # opened first, on the open threads and before a write queues: with no connection
            # idle an open waits for a sync on the network, and other tasks' writes must not
            conn = await loop.run_in_executor(self._opens, self._opened)
        if write and not hold.queued:
            await hold.writers.acquire()
            hold.queued = True
        if hold.queued:
            hold.own(asyncio.current_task())
        job = _Job(functools.partial(contextvars.copy_context().run, getattr(conn, name), *args))
        running = loop.run_in_executor(None, job.run)
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            if job.cancel():  # it never runs
                hold.settle()
            else:  # it runs on: decide about the lock once it has ended
                running.add_done_callback(lambda _: hold.settle())
            raise
        finally:
            if running.done():
                hold.settle()

    async def execute(self, sql: str, parameters: Any = ()) -> Any:
        """Run one statement (reads come back fetched)."""
        kind = statement_kind(sql)
        if kind == "read" and self._before_read is not None \
                and (self._conn is None or self._conn._may_wait(blocking=False)):
            await self._before_read()
        return await self._call(kind == "write", "execute", sql, parameters)

    async def executemany(self, sql: str, seq_of_parameters: Any) -> Any:
        """Run a write statement for each parameter set."""
        return await self._call(True, "executemany", sql, seq_of_parameters)

    async def commit(self) -> None:
        """Commit the open transaction."""
        if self._conn is not None:
            await self._call(False, "commit")

    async def rollback(self) -> None:
        """Roll back the open transaction."""
        if self._conn is not None:
            await self._call(False, "rollback")

    async def close(self) -> None:
        """Roll back what is open and hand the connection back."""
        if self._conn is not None:
            await self._call(False, "close")

    async def __aenter__(self) -> AsyncSyncedConnection:
        return self

    async def __aexit__(self, exc_type: object, *exc: object) -> None:
        if self._conn is not None:
            await self._call(False, "__exit__", exc_type, None, None)
