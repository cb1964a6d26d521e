"""The app connection for asyncio: the same rules, with the event loop never blocked."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from synctune.live.connection import SyncedConnection, statement_kind


class AsyncSyncedConnection:
    """Awaitable calls on a :class:`~synctune.live.connection.SyncedConnection`.

    Each call runs in a worker thread. Write transactions of one controller's async
    connections queue on an ``asyncio.Lock`` before they take the replica's write lock, so
    waiting writers hold no worker thread (many waiting coroutines cannot starve the thread
    that would commit the transaction they wait for). Use one connection per task, as with
    any DB-API connection; ``async with conn:`` commits on success and rolls back on an
    exception.

    With bounded-staleness reads (``before_read``, the controller's ``before_read_async``), a
    read outside this connection's own transaction first awaits its pull here, holding no
    worker thread, so waiting reads never hold up a commit or each other.
    """

    def __init__(self, conn: SyncedConnection, writers: asyncio.Lock,
                 before_read: Callable[[], Awaitable[object]] | None = None) -> None:
        self.connection = conn
        self._writers = writers
        self._queued = False  # this connection holds ``writers``
        self._before_read = before_read

    async def _call(self, write: bool, fn: Callable[..., Any], *args: Any) -> Any:
        if write and not self._queued:
            await self._writers.acquire()
            self._queued = True
        try:
            return await asyncio.to_thread(fn, *args)
        finally:
            if self._queued and not self.connection.holds_write_lock:
                self._queued = False
                self._writers.release()

    async def execute(self, sql: str, parameters: Any = ()) -> Any:
        """Run one statement (reads come back fetched)."""
        kind = statement_kind(sql)
        if kind == "read" and self._before_read is not None \
                and self.connection._may_wait(blocking=False):
            await self._before_read()
        return await self._call(kind == "write", self.connection.execute, sql, parameters)

    async def executemany(self, sql: str, seq_of_parameters: Any) -> Any:
        """Run a write statement for each parameter set."""
        return await self._call(True, self.connection.executemany, sql, seq_of_parameters)

    async def commit(self) -> None:
        """Commit the open transaction."""
        await self._call(False, self.connection.commit)

    async def rollback(self) -> None:
        """Roll back the open transaction."""
        await self._call(False, self.connection.rollback)

    async def close(self) -> None:
        """Roll back what is open and hand the connection back."""
        await self._call(False, self.connection.close)

    async def __aenter__(self) -> AsyncSyncedConnection:
        return self

    async def __aexit__(self, exc_type: object, *exc: object) -> None:
        await self._call(False, self.connection.__exit__, exc_type, None, None)
