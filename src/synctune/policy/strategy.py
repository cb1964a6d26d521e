"""The event interface every sync strategy implements, and the bookkeeping they share.

A *driver* (the simulator on simulated time, the live controller on the real clock) owns the
clock and the replica. It tells a strategy what happened, with the time passed in, and asks it
when the next sync is due. Strategies never read a clock, sleep, or do I/O; randomness comes from
an injected ``random.Random``. The contract, for any driver:

1. ``start(now)`` once.
2. ``on_local_write(now)`` for every local commit; ``on_read(now, count)`` for the app's reads
   (single reads or a batch counted at the time of its last read), each read first asking
   ``before_read(now)`` whether it must wait for a sync when ``max_read_wait`` is above 0;
   ``on_sync_requested(now)``
   when the app asks; ``on_pull_observed(now, pulled, as_of)`` when the replica caught up by
   other means (read-your-writes), with ``as_of`` what that pull reached.
3. Whenever ``next_sync_due(now)`` returns a time ``<= now`` and no sync is in flight, the driver
   calls ``on_sync_started(now)``, runs one sync (push local changes, then pull remote ones) with
   ``sync_timeout()`` as its deadline, and reports ``on_sync_finished`` or ``on_sync_failed``.
   Syncs never overlap.
4. After every call, the driver re-reads ``next_sync_due``: any event may move it.

Times are seconds on the driver's clock (any origin, non-decreasing across calls).
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import FrozenInstanceError, dataclass
from enum import StrEnum

from synctune.policy import _check
from synctune.policy.backoff import Backoff


class FailureKind(StrEnum):
    """Why a sync failed, as far as the driver can tell."""

    TIMEOUT = "timeout"
    NETWORK = "network"
    AUTH = "auth"
    SERVER = "server"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one successful sync observed.

    Attributes:
        duration: wall time of the whole sync in seconds (push plus pull).
        pulled: remote changes applied locally (0 for an empty pull).
        pushed: local changes sent to the primary.
        nbytes: bytes over the network, both directions.
    """

    duration: float
    pulled: int = 0
    pushed: int = 0
    nbytes: int = 0

    def __post_init__(self) -> None:
        # one report per sync: the common well-formed case costs a few compares
        d, p, q, n = self.duration, self.pulled, self.pushed, self.nbytes
        if not (d.__class__ is float and 0.0 <= d < math.inf):
            _check.real("duration", d, minimum=0.0)
        if not (p.__class__ is int and q.__class__ is int and n.__class__ is int
                and p >= 0 and q >= 0 and n >= 0):
            _check.count("pulled", p)
            _check.count("pushed", q)
            _check.count("nbytes", n)


_set = object.__setattr__


class Decision:
    """The strategy's latest answer to "when is the next sync due?", with its reason.

    Immutable (assigning raises :class:`dataclasses.FrozenInstanceError`); equal when ``due``,
    ``reason`` and ``interval`` are.

    Attributes:
        due: absolute time (s) of the next sync, or ``None`` when nothing is planned until an
            event arrives (e.g. a manual strategy with no request).
        reason: short human-readable reason, for logs and notebooks. A strategy that re-plans
            after every sync may pass a zero-argument callable that returns it instead: the
            text is then formatted on first read (the simulator never reads it).
        interval: the periodic interval in force (s), or ``None`` when there is none; the
            ``replica_stale`` alert compares freshness with twice this value.
    """

    __slots__ = ("_reason", "due", "interval")
    __match_args__ = ("due", "reason", "interval")

    due: float | None
    interval: float | None
    _reason: str | Callable[[], str]

    def __init__(self, due: float | None, reason: str | Callable[[], str],
                 interval: float | None = None) -> None:
        _set(self, "due", due)
        _set(self, "_reason", reason)
        _set(self, "interval", interval)

    @property
    def reason(self) -> str:
        """Short human-readable reason, for logs and notebooks."""
        text = self._reason
        if not isinstance(text, str):
            text = text()
            _set(self, "_reason", text)
        return text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision) or other.__class__ is not self.__class__:
            return NotImplemented
        return (self.due, self.reason, self.interval) == (other.due, other.reason, other.interval)

    def __hash__(self) -> int:
        return hash((self.due, self.reason, self.interval))

    def __repr__(self) -> str:
        return (f"{type(self).__qualname__}(due={self.due!r}, reason={self.reason!r}, "
                f"interval={self.interval!r})")

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[type[Decision], tuple[float | None, str, float | None]]:
        return type(self), (self.due, self.reason, self.interval)


class SyncStrategy(ABC):
    """Base class: event bookkeeping shared by all strategies.

    Subclasses implement :meth:`_decide`, called lazily after any event, and may extend the
    ``_after_*`` hooks. Per-write and per-read work is O(1) and allocation-free.

    Shared here so every strategy behaves the same: a pending app request moves the due time
    forward to the request (the reason then says so), and a strategy built with a ``backoff``
    gets a jittered retry time after each failure (:attr:`_retry_at`, cleared by a success),
    which its :meth:`_decide` places as it sees fit.
    """

    #: short name used in tables and CLI specs
    name: str = "strategy"
    #: whether a pending app request moves the due time (reference strategies may opt out)
    honours_requests: bool = True

    def __init__(self, backoff: Backoff | None = None, rng: random.Random | None = None) -> None:
        self._now = -math.inf
        self._started_at: float | None = None
        self._in_flight_since: float | None = None
        # unpushed local writes: those before the in-flight sync started, and those since
        self._unpushed = 0
        self._first_unpushed: float | None = None
        self._unpushed_since_start = 0
        self._first_since_start: float | None = None
        # oldest write of either kind (pushed or not) not yet followed by a sync: same split
        self._first_unsynced: float | None = None
        self._first_unsynced_since_start: float | None = None
        # app requests: the oldest one pending, and the first one made while a sync was in flight
        self._requested_at: float | None = None
        self._requested_in_flight: float | None = None
        self._last_attempt_end: float | None = None
        self._last_success_end: float | None = None
        self._consecutive_failures = 0
        self._decision: Decision | None = None
        self._reads = 0
        # retry after failures: only strategies given a backoff retry on their own
        self._backoff = backoff
        self._rng = rng if rng is not None or backoff is None else random.Random()
        self._retry_at: float | None = None
        self._retry_reason = ""

    # ------------------------------------------------------------------ events
    def start(self, now: float) -> None:
        """Begin at time ``now`` (s). Call once, before any other event."""
        self._tick("now", now)
        self._started_at = now
        self._decision = None

    def on_local_write(self, now: float, count: int = 1, pushed: bool = False) -> None:
        """``count`` writes by this node's app were committed at ``now`` (s).

        With ``pushed=False`` (local-first: Turso sync, libSQL offline writes) they await a push
        and are data at risk until a sync confirms it. With ``pushed=True`` (libSQL embedded
        replicas, whose writes go to the primary) they are already durable; strategies that sync
        on write still react to them, to bring the node's view up to date.
        """
        self._tick("now", now)
        if count.__class__ is not int or count != 1:  # True == 1, so test the type too
            _check.count("count", count)
        if pushed.__class__ is not bool:
            _check.flag("pushed", pushed)
        if self._in_flight_since is None:
            if self._first_unsynced is None:
                self._first_unsynced = now
            if not pushed:
                if self._first_unpushed is None:
                    self._first_unpushed = now
                self._unpushed += count
        else:
            if self._first_unsynced_since_start is None:
                self._first_unsynced_since_start = now
            if not pushed:
                if self._first_since_start is None:
                    self._first_since_start = now
                self._unpushed_since_start += count
        self._decision = None

    def on_read(self, now: float, count: int = 1) -> None:
        """The app served ``count`` reads from the replica, the last of them at ``now`` (s).

        Read-aware strategies learn the read rate from these; others only count them. Cheap
        enough to call per read; a driver may also batch reads that are close in time.
        """
        # per read: the tick's fast path inlined, no validation for the plain case
        if now.__class__ is not float or not (self._now <= now < math.inf):
            self._tick_slow("now", now)
        else:
            self._now = now
        if (count.__class__ is not int or count < 1) and _check.count("count", count) == 0:
            return
        self._reads += count
        self._after_read(now, count)

    def on_pull_observed(self, now: float, pulled: int = 0, as_of: float | None = None) -> None:
        """The replica caught up with the primary outside a scheduled sync, seen at ``now`` (s).

        For example libSQL's read-your-writes pull after a delegated write, which brings the
        replica up to that write's frame (``pulled`` changes). Strategies that plan from the
        replica's age (``Adaptive``) count from it; fixed schedules ignore it.

        ``as_of`` (s, ``<= now``) is what the pull reached: the replica now holds the primary's
        data as of then. A read-your-writes pull reaches the write's commit, about one and a
        half round trips before ``now``; ``None`` means ``now`` (a pull that reached the
        primary's head). Strategies that vouch for data (``ReadWait``) count from it.
        """
        self._tick("now", now)
        if pulled.__class__ is not int or pulled < 0:
            _check.count("pulled", pulled)
        if as_of is not None:
            _check.real("as_of", as_of, maximum=now)
        self._after_pull_observed(now, pulled)
        self._decision = None

    def on_sync_requested(self, now: float) -> None:
        """The app asked for a sync at ``now`` (s) (a manual sync point).

        The next attempt that starts at or after ``now`` answers the request, whether it succeeds
        or fails (as the app's ``sync()`` call returns or raises); a request made while a sync is
        in flight leads to one more attempt after it.
        """
        self._tick("now", now)
        if self._in_flight_since is not None:
            if self._requested_in_flight is None:
                self._requested_in_flight = now
        elif self._requested_at is None:
            self._requested_at = now
        self._decision = None

    def on_announcement(self, now: float, commit_time: float | None = None) -> None:
        """A hint arrived at ``now`` (s): the primary has a commit at ``commit_time`` (s, on this
        driver's clock) that this replica may not have yet.

        ``None`` means "something may have changed" (a reconnect, a gap in the channel). A hint
        carries no data and may be late, lost, doubled or forged: strategies that listen plan a
        pull from it, the rest ignore it.
        """
        self._tick("now", now)
        if commit_time is not None:
            _check.real("commit_time", commit_time)
        self._after_announcement(now, commit_time)

    def on_channel(self, now: float, up: bool) -> None:
        """The announcement channel went up (``True``) or down (``False``) at ``now`` (s)."""
        self._tick("now", now)
        if up.__class__ is not bool:
            _check.flag("up", up)
        self._after_channel(now, up)

    def on_sync_started(self, now: float) -> None:
        """The driver started a sync at ``now`` (s)."""
        self._tick("now", now)
        if self._in_flight_since is not None:
            raise RuntimeError("on_sync_started: a sync is already in flight")
        self._in_flight_since = now
        self._decision = None

    def on_sync_finished(self, now: float, report: SyncReport) -> None:
        """The sync started earlier finished at ``now`` (s) with ``report``."""
        self._tick("now", now)
        if not isinstance(report, SyncReport):
            raise TypeError(f"report must be a SyncReport, got {report!r}")
        started = self._end_flight("on_sync_finished")
        # everything committed before the sync started is now pushed
        self._unpushed, self._first_unpushed = self._unpushed_since_start, self._first_since_start
        self._unpushed_since_start, self._first_since_start = 0, None
        self._first_unsynced, self._first_unsynced_since_start = (
            self._first_unsynced_since_start, None)
        self._requested_at, self._requested_in_flight = self._requested_in_flight, None
        self._last_attempt_end = self._last_success_end = now
        self._consecutive_failures = 0
        self._retry_at = None
        self._after_success(now, started, report)
        self._decision = None

    def on_sync_failed(self, now: float, kind: FailureKind | str, duration: float) -> None:
        """The sync started earlier failed at ``now`` (s) after ``duration`` s, for ``kind``."""
        self._tick("now", now)
        try:
            kind = FailureKind(kind)
        except ValueError:
            raise ValueError(f"kind must be one of {[k.value for k in FailureKind]}, "
                             f"got {kind!r}") from None
        _check.real("duration", duration, minimum=0.0)
        self._end_flight("on_sync_failed")
        # nothing was pushed: fold writes seen during the attempt back into the backlog
        if self._first_unpushed is None:
            self._first_unpushed = self._first_since_start
        self._unpushed += self._unpushed_since_start
        self._unpushed_since_start, self._first_since_start = 0, None
        if self._first_unsynced is None:
            self._first_unsynced = self._first_unsynced_since_start
        self._first_unsynced_since_start = None
        # the attempt answered the requests made before it (the app saw the error)
        self._requested_at, self._requested_in_flight = self._requested_in_flight, None
        self._last_attempt_end = now
        self._consecutive_failures += 1
        if self._backoff is not None:
            n = self._consecutive_failures
            assert self._rng is not None
            self._retry_at = now + self._backoff.delay(n, self._rng)
            self._retry_reason = f"retry {n} after backoff ({kind.value})"
        self._after_failure(now, kind, duration)
        self._decision = None

    # ----------------------------------------------------------------- queries
    def next_sync_due(self, now: float) -> float | None:
        """Absolute time (s) the next sync is due, or ``None`` if none is planned.

        A value ``<= now`` means "sync now". While a sync is in flight the answer is about the
        sync after it.
        """
        return self.decide(now).due

    def decide(self, now: float) -> Decision:
        """The current decision with its reason (cached until the next event)."""
        # asked after every event by every driver: the tick's fast path is inlined
        if now.__class__ is not float or not (self._now <= now < math.inf):
            self._tick_slow("now", now)
        else:
            self._now = now
        decision = self._decision
        if decision is None:
            if self._started_at is None:
                raise RuntimeError(f"{type(self).__name__}.start(now) must be called first")
            decision = self._decide(now)
            requested = self._requested_at
            if requested is not None and (decision.due is None or requested <= decision.due) \
                    and self.honours_requests:
                decision = Decision(requested, "app requested a sync", decision.interval)
            self._decision = decision
        return decision

    def before_read(self, now: float) -> float:
        """A read is about to run at ``now`` (s): how long (s) it should wait, at most, for a
        sync started at or after ``now`` to finish; 0.0 to run at once (the default).

        Bounded-staleness parts (:class:`~synctune.policy.read_wait.ReadWait`) answer more
        than 0 when the replica cannot vouch for data younger than the freshness target, and
        then make a sync due at ``now``. Call :meth:`on_read` after the read as usual.
        """
        return 0.0

    @property
    def max_read_wait(self) -> float:
        """The longest (s) :meth:`before_read` may ever answer; 0.0 when reads never wait."""
        return 0.0

    def sync_timeout(self) -> float | None:
        """Deadline (s) for the next sync attempt, or ``None`` to let the driver choose."""
        return None

    @property
    def interval_in_force(self) -> float | None:
        """The periodic interval in force (s), or ``None``; used by the replica_stale alert."""
        return None

    @property
    def unpushed_writes(self) -> int:
        """Local writes committed but not yet confirmed pushed."""
        return self._unpushed + self._unpushed_since_start

    @property
    def oldest_unpushed_write(self) -> float | None:
        """Commit time (s) of the oldest local write not yet pushed, or ``None``."""
        return self._first_unpushed if self._first_unpushed is not None else self._first_since_start

    @property
    def oldest_unsynced_write(self) -> float | None:
        """Commit time (s) of the oldest write, pushed or not, that no sync has followed yet."""
        if self._first_unsynced is not None:
            return self._first_unsynced
        return self._first_unsynced_since_start

    @property
    def reads(self) -> int:
        """Reads reported through :meth:`on_read`."""
        return self._reads

    @property
    def consecutive_failures(self) -> int:
        """Failed attempts since the last success."""
        return self._consecutive_failures

    @property
    def in_flight(self) -> bool:
        """True between ``on_sync_started`` and its outcome."""
        return self._in_flight_since is not None

    # ------------------------------------------------------------ subclassing
    @abstractmethod
    def _decide(self, now: float) -> Decision:
        """Compute the next decision from the current state (the base applies app requests)."""

    def _after_success(self, now: float, started: float, report: SyncReport) -> None:  # noqa: B027
        """Hook: a sync that started at ``started`` succeeded at ``now``."""

    def _after_failure(self, now: float, kind: FailureKind, duration: float) -> None:  # noqa: B027
        """Hook: a sync failed at ``now``."""

    def _after_pull_observed(self, now: float, pulled: int) -> None:  # noqa: B027
        """Hook: the replica caught up outside a scheduled sync."""

    def _after_announcement(self, now: float, commit_time: float | None) -> None:  # noqa: B027
        """Hook: a commit announcement arrived; set ``self._decision = None`` to re-decide."""

    def _after_channel(self, now: float, up: bool) -> None:  # noqa: B027
        """Hook: the announcement channel went up or down."""

    def _after_read(self, now: float, count: int) -> None:  # noqa: B027
        """Hook: ``count`` reads up to ``now``; set ``self._decision = None`` to re-decide."""

    def _anchor(self) -> float:
        """End of the last attempt, or the start time: where periodic schedules count from."""
        if self._last_attempt_end is not None:
            return self._last_attempt_end
        assert self._started_at is not None
        return self._started_at

    # ----------------------------------------------------------------- helpers
    def _tick(self, name: str, now: float) -> None:
        # hot path: a float compare covers the common case; validate properly only when odd
        if now.__class__ is not float or not (self._now <= now < math.inf):
            self._tick_slow(name, now)
            return
        self._now = now

    def _tick_slow(self, name: str, now: float) -> None:
        value = _check.real(name, now)
        if value < self._now:
            raise ValueError(f"{name} must not go backwards: got {now!r} after {self._now!r}")
        self._now = value

    def _end_flight(self, event: str) -> float:
        if self._in_flight_since is None:
            raise RuntimeError(f"{event}: no sync is in flight")
        started = self._in_flight_since
        self._in_flight_since = None
        return started

    def __or__(self, other: SyncStrategy) -> SyncStrategy:
        from synctune.policy.any_of import AnyOf

        return AnyOf(self, other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
