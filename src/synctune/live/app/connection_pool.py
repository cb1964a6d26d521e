"""Idle app connections kept ready, so that opening one does not wait on the network.

A pyturso engine runs one operation at a time: opening a connection while a pull hangs would
wait for that pull. The pool hands out idle connections first, opens a new one only when the
engine is free, and is topped up by the sync thread (:meth:`ConnectionPool.fill`) before every
network operation, when opening is instant. An app that opens more connections during one
operation than are spare waits for that operation once; the pool then doubles what it keeps
spare (up to ``max_idle``), so the same burst finds them ready next time.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from synctune.live.app import fork_guard
from synctune.live.app.write_lock import OwnWriteLockHeld


class ReplicaClosed(RuntimeError):
    """A statement on a connection of a replica that was closed: nothing was run."""


class ConnectionPool:
    """Idle connections from ``opener``.

    Args:
        opener: ``opener(wait)`` returns a new connection, or ``None`` when it would have to
            wait and ``wait`` is false.
        spare: idle connections :meth:`fill` keeps ready at first (doubled after each open
            that had to wait, up to ``max_idle``).
        max_idle: idle connections kept at most; more handed back are closed.
    """

    def __init__(self, opener: Callable[[bool], Any | None], *, spare: int = 4,
                 max_idle: int = 32) -> None:
        if spare < 0 or max_idle < spare:
            raise ValueError(f"need 0 <= spare <= max_idle, got spare={spare}, "
                             f"max_idle={max_idle}")
        self._opener = opener
        self._spare = spare
        self._max_idle = max_idle
        self._idle: list[Any] = []
        # reentrant: a dropped app connection is handed back by its finaliser, which the
        # garbage collector may run inside this very lock (an allocation in close() or lease())
        self._lock = threading.RLock()
        self._closed = False
        self._born = fork_guard.generation
        #: connections opened while the engine was busy (the app waited for an operation)
        self.waited_opens = 0

    def lease(self) -> Any:
        """An idle connection, else a new one (waiting only if the engine is mid-operation
        and no connection is idle: :meth:`fill` makes that rare)."""
        if self._born != fork_guard.generation:  # before the lock a parent thread may hold
            raise fork_guard.refuse("this replica")
        with self._lock:
            if self._closed:
                raise ReplicaClosed("the replica is closed: open it again for a connection")
            if self._idle:
                return self._idle.pop()
        conn = self._opener(False)
        if conn is None:
            with self._lock:
                self.waited_opens += 1
                self._spare = min(self._max_idle, max(1, 2 * self._spare))
            conn = self._opener(True)
        return conn

    def give_back(self, conn: Any) -> None:
        """Take back a connection with no transaction open (a forked child's is let go)."""
        if self._born != fork_guard.generation:
            return  # the parent's connection: neither pooled nor closed here
        conn = fork_guard.unwrap(conn)
        with self._lock:
            if not self._closed and len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        with contextlib.suppress(Exception):
            conn.close()

    def fill(self) -> None:
        """Open connections until ``spare`` are idle (call while the engine is free)."""
        while True:
            with self._lock:
                if self._closed or len(self._idle) >= self._spare:
                    return
            try:
                conn = self._opener(False)
            except OwnWriteLockHeld:  # this thread's own write holds the lock: open later
                return
            if conn is None:
                return
            self.give_back(conn)

    @property
    def spare(self) -> int:
        """Idle connections :meth:`fill` keeps ready now."""
        return self._spare

    @property
    def idle(self) -> int:
        """Idle connections now."""
        return len(self._idle)

    def close(self) -> None:
        """Close idle connections; connections handed back later are closed too."""
        if self._born != fork_guard.generation:
            return  # a forked child leaves the parent's connections (and lock) alone
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(Exception):
                conn.close()
