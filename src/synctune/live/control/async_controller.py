"""The controller for asyncio apps: the same sync thread, with awaitable waits."""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from synctune.live.app.async_connection import AsyncSyncedConnection
from synctune.live.control.announce_link import AnnounceSnapshot
from synctune.live.control.controller import SyncController
from synctune.live.control.history import SyncAttempt
from synctune.live.control.shutdown import StopReport
from synctune.live.control.status import ControllerStatus
from synctune.live.replica.base import Replica
from synctune.policy import SyncStrategy

#: threads opening async connections at most at once (more wait their turn, holding nothing)
OPEN_THREADS = 32


class AsyncSyncController:
    """Wraps a :class:`SyncController`; the event loop never blocks on a sync.

    ``notify_write`` and ``request_sync`` are plain (microsecond) calls safe inside coroutines;
    ``sync_now`` awaits the sync holding no thread; ``stop`` waits in a worker thread. Keyword
    arguments go to :class:`SyncController`.
    """

    def __init__(self, replica: Replica, strategy: SyncStrategy, **kwargs: Any) -> None:
        self.controller = SyncController(replica, strategy, **kwargs)
        self._writers: asyncio.Lock | None = None
        # connections open on threads of their own: an open may wait for a sync on the network
        # (nothing idle in the pool), and must not take the threads statements run on
        self._opens = ThreadPoolExecutor(max_workers=OPEN_THREADS,
                                         thread_name_prefix="synctune-open")

    def connection(self, **kwargs: Any) -> AsyncSyncedConnection:
        """An awaitable app connection (see :class:`AsyncSyncedConnection`); returns at once,
        the connection being opened in a worker thread with its first statement. Keyword
        arguments go to :class:`~synctune.live.app.connection.SyncedConnection`."""
        if self._writers is None:
            self._writers = asyncio.Lock()
        ctl = self.controller
        # run from worker threads any task may use: a transaction is the task's, not a thread's
        kwargs.setdefault("thread_owned", False)
        before = None
        if ctl._reads_wait:
            # a read's wait for a pull is awaited by the async connection, not in a worker thread
            kwargs["before_read"] = None
            before = ctl.before_read_async
        return AsyncSyncedConnection(functools.partial(ctl.connection, **kwargs), self._writers,
                                     before, opens=self._opens)

    async def __aenter__(self) -> AsyncSyncController:
        self.controller.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start(self) -> AsyncSyncController:
        """Start the sync thread; returns ``self``."""
        self.controller.start()
        return self

    def notify_write(self, count: int = 1) -> None:
        """The app committed ``count`` local writes."""
        self.controller.notify_write(count)

    def request_sync(self) -> None:
        """Ask for a sync as soon as possible, without waiting."""
        self.controller.request_sync()

    async def sync_now(self, timeout: float | None = None) -> bool:
        """Request a sync and await one started after the request (at most ``timeout`` s)."""
        return await self.controller.sync_now_async(timeout)

    async def stop(self, deadline: float = 5.0) -> bool:
        """Flush and stop within ``deadline`` seconds; True when nothing is left unpushed.

        A sync still running at the deadline is abandoned, not awaited (see
        :meth:`SyncController.stop`); :attr:`stop_report` says what happened."""
        return await asyncio.to_thread(self.controller.stop, deadline)

    @property
    def stop_report(self) -> StopReport | None:
        """How the last stop ended."""
        return self.controller.stop_report

    def notify_read(self, count: int = 1) -> None:
        """The app served ``count`` reads (see :meth:`SyncController.notify_read`)."""
        self.controller.notify_read(count)

    def record_query(self, seconds: float) -> None:
        """Report one local read's latency in seconds."""
        self.controller.record_query(seconds)

    @property
    def history(self) -> deque[SyncAttempt]:
        """The most recent sync attempts, oldest first."""
        return self.controller.history

    def announcements(self) -> AnnounceSnapshot | None:
        """Commit announcements heard and sent (see :meth:`SyncController.announcements`)."""
        return self.controller.announcements()

    def status(self) -> ControllerStatus:
        """Current metrics and state."""
        return self.controller.status()

    def snapshot(self) -> dict[str, float]:
        """The six metrics by name."""
        return self.controller.snapshot()
