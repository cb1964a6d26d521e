"""The replica's local write lock: one app write transaction at a time, and who holds it.

A connection holds the lock from the first write of a transaction until it ends (see
:mod:`synctune.live.app.connection`). The holder is noted per lock, so a thread that needs the
lock its own open transaction holds fails at once instead of waiting for itself.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from synctune.live.app import fork_guard

#: how long (s) a write waits for the local write lock, and a read retries a locked database
DEFAULT_BUSY_TIMEOUT = 5.0

class LocalWriteTimeout(Exception):
    """A write could not start: another local transaction held the write lock too long.

    Nothing of the statement ran; the transaction (if one was open) is unchanged.
    """


class OwnWriteLockHeld(LocalWriteTimeout):
    """A write, or opening a connection, needs the write lock that this thread's own open
    write transaction holds on another connection: waiting could only time out, so it fails at
    once. Nothing ran; commit or roll back that transaction first, or use its connection.
    """


# the thread whose write transaction holds each replica's write lock (keyed by the lock's id);
# the thread itself, not its id, which a new thread reuses once one ends. Only the holder sets
# and clears its entry, so the entries need no lock of their own.
_holders: dict[int, threading.Thread] = {}


def held_by_this_thread(gate: threading.Lock | None) -> bool:
    """True when ``gate`` is held by a write transaction begun on this thread."""
    return gate is not None and _holders.get(id(gate)) is threading.current_thread()


class Lease:
    """The underlying connection and the write lock it may hold; outlives the wrapper."""

    __slots__ = ("born", "gate", "holding", "raw", "release")

    def __init__(self, raw: Any, gate: threading.Lock | None,
                 release: Callable[[Any], None] | None) -> None:
        self.raw = raw
        self.gate = gate
        self.release = release
        self.holding = False
        self.born = fork_guard.generation  # the process it belongs to (see fork_guard)

    def take_gate(self, timeout: float, *, thread_owned: bool) -> None:
        """Hold the write lock (no-op when held or there is none), waiting up to ``timeout``
        s; ``thread_owned`` records this thread as its holder (see :func:`held_by_this_thread`).
        Raises :class:`OwnWriteLockHeld` or :class:`LocalWriteTimeout` before anything ran."""
        if self.holding or self.gate is None:
            return
        if held_by_this_thread(self.gate):  # the wait could never end by this thread
            raise OwnWriteLockHeld(
                "this thread's open write transaction on another connection holds the write "
                "lock; commit or roll it back first; nothing was run")
        if not self.gate.acquire(timeout=timeout):
            raise LocalWriteTimeout(
                f"another local transaction held the write lock for more than "
                f"{timeout:g} s; nothing was run")
        self.holding = True
        if thread_owned:
            _holders[id(self.gate)] = threading.current_thread()

    def drop_gate(self) -> None:
        if self.holding and self.gate is not None:
            self.holding = False
            _holders.pop(id(self.gate), None)  # any entry is this holder's
            self.gate.release()

    def reclaim(self) -> None:
        """Roll back what is open, free the lock, hand the connection back (idempotent)."""
        raw, self.raw = self.raw, None
        if raw is None or self.born != fork_guard.generation:
            return  # a forked child leaves the parent's connection and lock alone
        try:
            if getattr(raw, "in_transaction", False):
                raw.rollback()
        except Exception:  # a broken connection is closed below, not reused
            self.release = None
        finally:
            self.drop_gate()
        if self.release is not None:
            self.release(raw)
        else:
            with contextlib.suppress(Exception):
                raw.close()
