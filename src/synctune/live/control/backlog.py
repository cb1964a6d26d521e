"""How many local changes are not yet confirmed pushed, counted from the engine's own backlog.

The engine (pyturso: its CDC operations after the last confirmed push) is the truth, including
changes it held before this controller started. Counting it touches the replica, so only the
sync thread counts, between syncs; app threads add one per reported commit since the last
count. A figure read while a sync hangs is therefore "the engine's last count plus the commits
since", never a call that waits on the network.
"""

from __future__ import annotations

import logging
import threading

from synctune.live.replica.base import Replica

log = logging.getLogger("synctune.live")


class UnpushedBacklog:
    """The engine's last count of unpushed changes, plus commits reported since.

    Args:
        replica: counted with its ``count_unpushed()`` when it can count (pyturso); without it
            the figure is ``None`` and the controller falls back to the strategy's count.
        lock: the controller's state lock (never held during I/O). :meth:`add_commits` and
            :meth:`value` expect the caller to hold it, so a commit costs one lock, not two.
    """

    def __init__(self, replica: Replica, lock: threading.RLock) -> None:
        self._replica = replica
        self._lock = lock
        self._counted: int | None = None
        self._since = 0  # commits reported after the counter was last reset

    def add_commits(self, count: int) -> None:
        """The app reported ``count`` commits (caller holds the lock)."""
        self._since += count

    def count(self) -> int | None:
        """Ask the engine now (sync thread only); returns the fresh figure or ``None``."""
        if not self._replica.syncs:
            return None
        # reset first: a commit landing between the reset and the engine's answer is counted
        # twice (an overstatement), never missed
        with self._lock:
            since = self._since
            self._since = 0
        try:
            counted = self._replica.count_unpushed()
        except Exception as exc:  # keep the previous figure: never understate what is at risk
            log.warning("cannot count the unpushed backlog: %s", type(exc).__name__)
            with self._lock:
                self._since += since
            return None
        if counted is None:
            with self._lock:
                self._since += since
            return None
        with self._lock:
            self._counted = counted
        return counted

    def seed(self, held: int | None) -> None:
        """Start from ``held`` (the replica's never-waiting figure) until the engine is
        counted, so no status shows fewer than it holds meanwhile."""
        if held is None:
            return
        with self._lock:
            if self._counted is None:
                self._counted = held

    @property
    def known(self) -> bool:
        """True once the engine has been counted at least once."""
        return self._counted is not None

    def value(self) -> int | None:
        """Last engine count plus commits since, ``None`` when never counted (caller holds
        the lock)."""
        return None if self._counted is None else self._counted + self._since

    @property
    def commits_since(self) -> int:
        """Commits reported since the last count."""
        return self._since
