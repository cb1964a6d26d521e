"""The app connection for asyncio: the same rules, with the event loop never blocked."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any

from synctune.live.connection import SyncedConnection, statement_kind


class AsyncSyncedConnection:
    """Awaitable calls on a :class:`~synctune.live.connection.SyncedConnection`.

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
    interrupted): a cancelled ``commit()`` may have committed; check before retrying it.

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
        self._writers = writers
        self._queued = False  # this connection holds ``writers``
        self._before_read = before_read

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
                    conn = self._conn = self._open()
        return conn

    async def _call(self, write: bool, name: str, *args: Any) -> Any:
        conn = self._conn
        if conn is None:
            # opened first, on the open threads and before a write queues: with no connection
            # idle an open waits for a sync on the network, and other tasks' writes must not
            conn = await asyncio.get_running_loop().run_in_executor(self._opens, self._opened)
        if write and not self._queued:
            await self._writers.acquire()
            self._queued = True
        try:
            return await asyncio.to_thread(getattr(conn, name), *args)
        finally:
            if self._queued and (self._conn is None or not self._conn.holds_write_lock):
                self._queued = False
                self._writers.release()

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
