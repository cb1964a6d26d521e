"""The event interface every sync strategy implements.

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

Both drivers take these steps through one :class:`~synctune.policy.driver.SyncDriver`. What
the driver knows of the replica (unpushed writes, the sync in flight, requests, failures in a
row, reads) is one :class:`~synctune.policy.sync_state.SyncState` record, which the events
update and strategies only read; a strategy adds its own estimates through the ``_after_*``
hooks (:mod:`synctune.policy.hooks`), and the parts of a combination share one record.
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod

from synctune.policy import _check
from synctune.policy.backoff import Backoff
from synctune.policy.decision import Decision, FailureKind, SyncReport
from synctune.policy.hooks import StrategyHooks
from synctune.policy.record_views import RecordViews
from synctune.policy.sync_state import SyncState

__all__ = ["Decision", "FailureKind", "SyncReport", "SyncState", "SyncStrategy"]


_INF = math.inf

class SyncStrategy(StrategyHooks, RecordViews, ABC):
    """Base class: turns events into transitions of the driver's :class:`SyncState`, and asks
    the subclass for a decision from it.

    Subclasses implement :meth:`_decide`, called lazily after any event, and may extend the
    ``_after_*`` observation hooks. They read the record (``self._state``) and never write it.
    Per-write and per-read work is O(1) and allocation-free.

    Shared here so every strategy behaves the same: a pending app request moves the due time
    forward to the request (the reason then says so), and a strategy built with a ``backoff``
    gets a jittered retry time after each failure (:attr:`_retry_at`, cleared by a success),
    which its :meth:`_decide` places as it sees fit.

    A strategy used on its own keeps its own record; a driver hands it its record with
    :meth:`bind`, and a combination (:class:`~synctune.policy.any_of.AnyOf`) shares one
    record with its parts.
    """

    #: short name used in tables and CLI specs
    name: str = "strategy"
    #: whether a pending app request moves the due time (reference strategies may opt out)
    honours_requests: bool = True
    # whether the class observes writes, reads, sync starts and successes (set per class: the
    # hot paths skip a hook nobody extends)
    _hears_writes = False
    _hears_reads = False
    _hears_starts = False
    _hears_successes = False
    _own_decide = False  # a subclass that extends decide() is always asked through it

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        base = StrategyHooks
        cls._hears_writes = cls._after_write is not base._after_write
        cls._hears_reads = cls._after_read is not base._after_read
        cls._hears_starts = cls._after_sync_started is not base._after_sync_started
        cls._hears_successes = cls._after_success is not base._after_success
        cls._own_decide = cls.decide is not SyncStrategy.decide

    def __init__(self, backoff: Backoff | None = None, rng: random.Random | None = None) -> None:
        self._state = SyncState()
        # the combination this strategy is part of: it re-decides when this part does
        self._owner: SyncStrategy | None = None
        self._decision: Decision | None = None
        # retry after failures: only strategies given a backoff retry on their own
        self._backoff = backoff
        self._rng = rng if rng is not None or backoff is None else random.Random()
        self._retry_at: float | None = None
        self._retry_reason = ""

    @property
    def state(self) -> SyncState:
        """The record this strategy decides from (read it; the events write it)."""
        return self._state

    def bind(self, state: SyncState) -> None:
        """Decide from ``state``, the driver's record, from now on (call before ``start``)."""
        if not isinstance(state, SyncState):
            raise TypeError(f"state must be a SyncState, got {state!r}")
        self._state = state
        self._decision = None

    @property
    def freshness_target(self) -> float | None:
        """The freshness target D (s) this strategy plans for, or ``None`` when it has none."""
        return None

    # ------------------------------------------------------------------ events
    def start(self, now: float) -> None:
        """Begin at time ``now`` (s). Call once, before any other event."""
        st = self._state
        st.tick("now", now)
        st.started_at = now
        self._decision = None
        self._after_start(now)

    def on_local_write(self, now: float, count: int = 1, pushed: bool = False) -> None:
        """``count`` writes by this node's app were committed at ``now`` (s).

        With ``pushed=False`` (local-first: Turso sync, libSQL offline writes) they await a push
        and are data at risk until a sync confirms it. With ``pushed=True`` (libSQL embedded
        replicas, whose writes go to the primary) they are already durable; strategies that sync
        on write still react to them, to bring the node's view up to date.
        """
        if count.__class__ is not int or count != 1:  # True == 1, so test the type too
            _check.count("count", count)
        if pushed.__class__ is not bool:
            _check.flag("pushed", pushed)
        # the record's write transition, inline (the hottest event; SyncState has the others)
        st = self._state
        if now.__class__ is not float or not (st.now <= now < _INF):
            st.tick_slow("now", now)
        else:
            st.now = now
        if st.in_flight_since is None:
            if st.first_unsynced is None:
                st.first_unsynced = now
            if not pushed:
                if st.first_unpushed is None:
                    st.first_unpushed = now
                st.unpushed += count
        else:
            if st.first_unsynced_since_start is None:
                st.first_unsynced_since_start = now
            if not pushed:
                if st.first_since_start is None:
                    st.first_since_start = now
                st.unpushed_since_start += count
        if self._hears_writes:
            self._after_write(now, count, pushed)
        self._decision = None

    def on_read(self, now: float, count: int = 1) -> None:
        """The app served ``count`` reads from the replica, the last of them at ``now`` (s).

        Read-aware strategies learn the read rate from these; others only count them. Cheap
        enough to call per read; a driver may also batch reads that are close in time.
        """
        # per read: the tick's fast path inlined, no validation for the plain case
        st = self._state
        if now.__class__ is not float or not (st.now <= now < _INF):
            st.tick_slow("now", now)
        else:
            st.now = now
        if (count.__class__ is not int or count < 1) and _check.count("count", count) == 0:
            return
        st.reads += count
        if self._hears_reads:
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
        self._state.tick("now", now)
        if pulled.__class__ is not int or pulled < 0:
            _check.count("pulled", pulled)
        if as_of is not None:
            _check.real("as_of", as_of, maximum=now)
        self._after_pull_observed(now, pulled, as_of)
        self._decision = None

    def on_sync_requested(self, now: float) -> None:
        """The app asked for a sync at ``now`` (s) (a manual sync point).

        The next attempt that starts at or after ``now`` answers the request, whether it succeeds
        or fails (as the app's ``sync()`` call returns or raises); a request made while a sync is
        in flight leads to one more attempt after it.
        """
        st = self._state
        st.tick("now", now)
        st.request(now)
        self._after_request(now)
        self._decision = None

    def on_announcement(self, now: float, commit_time: float | None = None) -> None:
        """A hint arrived at ``now`` (s): the primary has a commit at ``commit_time`` (s, on this
        driver's clock) that this replica may not have yet.

        ``None`` means "something may have changed" (a reconnect, a gap in the channel). A hint
        carries no data and may be late, lost, doubled or forged: strategies that listen plan a
        pull from it, the rest ignore it.
        """
        st = self._state
        if now.__class__ is not float or not (st.now <= now < _INF):
            st.tick_slow("now", now)
        else:
            st.now = now
        if commit_time is not None:
            _check.real("commit_time", commit_time)
        self._after_announcement(now, commit_time)

    def on_channel(self, now: float, up: bool) -> None:
        """The announcement channel went up (``True``) or down (``False``) at ``now`` (s)."""
        st = self._state  # every heartbeat: the tick's fast path inlined
        if now.__class__ is not float or not (st.now <= now < _INF):
            st.tick_slow("now", now)
        else:
            st.now = now
        if up.__class__ is not bool:
            _check.flag("up", up)
        self._after_channel(now, up)

    def on_sync_started(self, now: float) -> None:
        """The driver started a sync at ``now`` (s)."""
        st = self._state
        if now.__class__ is not float or not (st.now <= now < _INF):
            st.tick_slow("now", now)
        else:
            st.now = now
        st.sync_started(now)
        if self._hears_starts:
            self._after_sync_started(now)
        self._decision = None

    def on_sync_finished(self, now: float, report: SyncReport) -> None:
        """The sync started earlier finished at ``now`` (s) with ``report``."""
        st = self._state
        if now.__class__ is not float or not (st.now <= now < _INF):
            st.tick_slow("now", now)
        else:
            st.now = now
        if report.__class__ is not SyncReport and not isinstance(report, SyncReport):
            raise TypeError(f"report must be a SyncReport, got {report!r}")
        self._succeeded(now, st.sync_finished(now), report)

    def on_sync_failed(self, now: float, kind: FailureKind | str, duration: float) -> None:
        """The sync started earlier failed at ``now`` (s) after ``duration`` s, for ``kind``."""
        st = self._state
        st.tick("now", now)
        try:
            kind = FailureKind(kind)
        except ValueError:
            raise ValueError(f"kind must be one of {[k.value for k in FailureKind]}, "
                             f"got {kind!r}") from None
        _check.real("duration", duration, minimum=0.0)
        st.sync_failed(now)
        self._failed(now, kind, duration)

    def _succeeded(self, now: float, started: float, report: SyncReport) -> None:
        """This strategy's part of a success (the record is already updated)."""
        self._retry_at = None
        if self._hears_successes:
            self._after_success(now, started, report)
        self._decision = None

    def _failed(self, now: float, kind: FailureKind, duration: float) -> None:
        """This strategy's part of a failure: the one place a retry time is drawn."""
        if self._backoff is not None:
            n = self._state.consecutive_failures
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
        # asked after every event: a standing decision is answered without re-deciding
        decision = self._decision
        if decision is not None and not self._own_decide:
            st = self._state
            if now.__class__ is float and st.now <= now < _INF:
                st.now = now
                return decision.due
        return self.decide(now).due

    def decide(self, now: float) -> Decision:
        """The current decision with its reason (cached until the next event)."""
        # asked after every event by every driver: the tick's fast path is inlined
        st = self._state
        if now.__class__ is not float or not (st.now <= now < _INF):
            st.tick_slow("now", now)
        else:
            st.now = now
        decision = self._decision
        if decision is None:
            if st.started_at is None:
                raise RuntimeError(f"{type(self).__name__}.start(now) must be called first")
            decision = self._decide(now)
            requested = st.requested_at
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

    @property
    def pooled(self) -> bool:
        """True when this strategy shares state with other replicas' strategies (a pooled
        :class:`~synctune.policy.stale_budget.StaleReadBudget`): their events must then come
        in one timeline, as they do live (a simulator runs such replicas together)."""
        return False

    def sync_timeout(self) -> float | None:
        """Deadline (s) for the next sync attempt, or ``None`` to let the driver choose."""
        return None

    @property
    def interval_in_force(self) -> float | None:
        """The periodic interval in force (s), or ``None``; used by the replica_stale alert."""
        return None

    # ------------------------------------------------------------ subclassing
    @abstractmethod
    def _decide(self, now: float) -> Decision:
        """Compute the next decision from the current state (the base applies app requests)."""

    def _redecide(self) -> None:
        """Drop the cached decision, and the decision of the combination this is part of."""
        self._decision = None
        owner = self._owner
        if owner is not None:
            owner._redecide()

    def _anchor(self) -> float:
        """End of the last attempt, or the start time: where periodic schedules count from."""
        st = self._state  # inlined: periodic schedules ask after every write
        end = st.last_attempt_end
        if end is not None:
            return end
        assert st.started_at is not None
        return st.started_at

    # ----------------------------------------------------------------- helpers
    def _tick(self, name: str, now: float) -> None:
        self._state.tick(name, now)

    def _tick_slow(self, name: str, now: float) -> None:
        self._state.tick_slow(name, now)

    def __or__(self, other: SyncStrategy) -> SyncStrategy:
        from synctune.policy.any_of import AnyOf

        return AnyOf(self, other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
