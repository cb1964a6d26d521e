"""The driver's record of one replica: what is unpushed, in flight, requested and failing.

One record per replica, owned by whoever drives the strategy (the simulator's node, the live
sync thread; a strategy used on its own makes its own). Strategies only read it: every
transition (a request, a sync started, finished or failed; a write and a read, the hottest
events, inline in :class:`~synctune.policy.strategy.SyncStrategy`'s ``on_local_write`` and
``on_read``) is written once, so that the parts of a combined strategy share one record
instead of each rebuilding it.
"""

from __future__ import annotations

import math

from synctune.policy import _check

_INF = math.inf

class SyncState:
    """What the driver has seen of one replica, in seconds on the driver's clock.

    Attributes:
        now: time of the latest event (s); events never go back in time.
        started_at: when the driver started (s), ``None`` before ``start``.
        in_flight_since: start (s) of the sync in flight, ``None`` when none is.
        unpushed: local writes not pushed, committed before the sync in flight (or with none
            in flight); ``first_unpushed`` is the oldest one's commit time (s).
        unpushed_since_start: those committed while a sync is in flight;
            ``first_since_start`` the oldest of them (s).
        first_unsynced: oldest write, pushed or not, no sync has followed yet (s), before the
            sync in flight; ``first_unsynced_since_start`` the same for writes during it.
        requested_at: oldest pending app request (s); ``requested_in_flight`` the first one
            made while a sync was in flight (it asks for one more attempt).
        last_attempt_end: end (s) of the last attempt, success or not.
        last_success_end: end (s) of the last successful sync.
        consecutive_failures: failed attempts since the last success.
        reads: reads reported so far.
    """

    __slots__ = ("consecutive_failures", "first_since_start", "first_unpushed",
                 "first_unsynced", "first_unsynced_since_start", "in_flight_since",
                 "last_attempt_end", "last_success_end", "now", "reads", "requested_at",
                 "requested_in_flight", "started_at", "unpushed", "unpushed_since_start")

    def __init__(self) -> None:
        self.now = -math.inf
        self.started_at: float | None = None
        self.in_flight_since: float | None = None
        self.unpushed = 0
        self.first_unpushed: float | None = None
        self.unpushed_since_start = 0
        self.first_since_start: float | None = None
        self.first_unsynced: float | None = None
        self.first_unsynced_since_start: float | None = None
        self.requested_at: float | None = None
        self.requested_in_flight: float | None = None
        self.last_attempt_end: float | None = None
        self.last_success_end: float | None = None
        self.consecutive_failures = 0
        self.reads = 0

    # ------------------------------------------------------------- transitions
    def tick(self, name: str, now: float) -> None:
        """Move the clock to ``now`` (s); raises naming ``name`` if it is not a time or goes
        back."""
        # hot path: a float compare covers the common case; validate properly only when odd
        if now.__class__ is not float or not (self.now <= now < _INF):
            self.tick_slow(name, now)
            return
        self.now = now

    def tick_slow(self, name: str, now: float) -> None:
        """:meth:`tick` for a value that is not a plain float in range: check it fully."""
        value = _check.real(name, now)
        if value < self.now:
            raise ValueError(f"{name} must not go backwards: got {now!r} after {self.now!r}")
        self.now = value

    def request(self, now: float) -> None:
        """The app asked for a sync at ``now``."""
        if self.in_flight_since is not None:
            if self.requested_in_flight is None:
                self.requested_in_flight = now
        elif self.requested_at is None:
            self.requested_at = now

    def sync_started(self, now: float) -> None:
        """A sync started at ``now``; raises ``RuntimeError`` if one is in flight."""
        if self.in_flight_since is not None:
            raise RuntimeError("on_sync_started: a sync is already in flight")
        self.in_flight_since = now

    def sync_finished(self, now: float) -> float:
        """The sync in flight succeeded at ``now``; returns when it started."""
        started = self.in_flight_since  # _land inline: once per sync, on the decision's path
        if started is None:
            raise RuntimeError("on_sync_finished: no sync is in flight")
        self.in_flight_since = None
        # everything committed before the sync started is now pushed
        self.unpushed, self.first_unpushed = self.unpushed_since_start, self.first_since_start
        self.unpushed_since_start, self.first_since_start = 0, None
        self.first_unsynced, self.first_unsynced_since_start = (
            self.first_unsynced_since_start, None)
        self.requested_at, self.requested_in_flight = self.requested_in_flight, None
        self.last_attempt_end = self.last_success_end = now
        self.consecutive_failures = 0
        return started

    def sync_failed(self, now: float) -> float:
        """The sync in flight failed at ``now``; returns when it started."""
        started = self._land("on_sync_failed")
        # nothing was pushed: fold writes seen during the attempt back into the backlog
        if self.first_unpushed is None:
            self.first_unpushed = self.first_since_start
        self.unpushed += self.unpushed_since_start
        self.unpushed_since_start, self.first_since_start = 0, None
        if self.first_unsynced is None:
            self.first_unsynced = self.first_unsynced_since_start
        self.first_unsynced_since_start = None
        # the attempt answered the requests made before it (the app saw the error)
        self.requested_at, self.requested_in_flight = self.requested_in_flight, None
        self.last_attempt_end = now
        self.consecutive_failures += 1
        return started

    def _land(self, event: str) -> float:
        started = self.in_flight_since
        if started is None:
            raise RuntimeError(f"{event}: no sync is in flight")
        self.in_flight_since = None
        return started

    # ------------------------------------------------------------------ views
    @property
    def unpushed_writes(self) -> int:
        """Local writes committed but not yet confirmed pushed."""
        return self.unpushed + self.unpushed_since_start

    @property
    def oldest_unpushed_write(self) -> float | None:
        """Commit time (s) of the oldest local write not yet pushed, or ``None``."""
        return self.first_unpushed if self.first_unpushed is not None else self.first_since_start

    @property
    def oldest_unsynced_write(self) -> float | None:
        """Commit time (s) of the oldest write, pushed or not, that no sync has followed yet."""
        if self.first_unsynced is not None:
            return self.first_unsynced
        return self.first_unsynced_since_start

    @property
    def in_flight(self) -> bool:
        """True between a sync's start and its outcome."""
        return self.in_flight_since is not None

    def anchor(self) -> float:
        """End of the last attempt, or the start: where periodic schedules count from."""
        if self.last_attempt_end is not None:
            return self.last_attempt_end
        assert self.started_at is not None
        return self.started_at

    def __repr__(self) -> str:
        return (f"SyncState(now={self.now!r}, unpushed={self.unpushed_writes}, "
                f"in_flight_since={self.in_flight_since!r}, "
                f"requested_at={self.requested_at!r}, "
                f"consecutive_failures={self.consecutive_failures})")
