"""Drive a sync strategy against a real replica, in a background thread: the app-facing facade.

The app keeps reading and writing its own local connection; it only tells the controller about
commits (:meth:`SyncController.notify_write`, one lock and a few float operations) and never
waits on the network: every app-facing call takes only the short state lock, which the sync
thread never holds while it talks to the replica. Its pieces (the thread, one attempt, the
metrics, history and backlog) are the other modules of :mod:`synctune.live.control`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from synctune.live.announce.announcer import Announcer
from synctune.live.app import fork_guard
from synctune.live.app.connection import SyncedConnection
from synctune.live.control.announce_link import AnnouncementLink, AnnounceSnapshot
from synctune.live.control.backlog import UnpushedBacklog
from synctune.live.control.history import SyncAttempt, SyncHistory
from synctune.live.control.metrics import SyncMetrics
from synctune.live.control.recorder import TraceRecorder
from synctune.live.control.shutdown import StopReport
from synctune.live.control.status import ControllerStatus, status_reason
from synctune.live.control.strategy_guard import GuardedDriver, StrategyGuard
from synctune.live.control.sync_loop import SyncLoop
from synctune.live.control.telemetry import SyncTelemetry, engine_pull_unix
from synctune.live.replica.base import Replica
from synctune.live.timing import REAL_TIME, Timer, checked_clocks
from synctune.monitoring import AlertEvaluator, AlertEvent, AlertThresholds
from synctune.policy import SyncStrategy, _check
from synctune.policy.driver import freshness_target
from synctune.policy.errors import InvalidType

log = logging.getLogger("synctune.live")

DEFAULT_TIMEOUT = 10.0

__all__ = ["DEFAULT_TIMEOUT", "SyncAttempt", "SyncController"]


class SyncController:
    """Runs ``strategy`` against ``replica`` in a background thread.

    Args:
        replica: the database to keep in sync.
        strategy: when to sync (any :class:`~synctune.policy.SyncStrategy`; not yet started).
        clock: seconds; drives the strategy, metrics and alerts. Defaults to ``timer.now``.
            A clock that steps back (a wall clock) is held steady: time goes on from its last
            reading (:class:`~synctune.live.timing.SteadyClock`).
        timer: the monotonic clock (s) and the waits and sleeps behind the schedule, backoff,
            sync deadlines and the stop deadline (real time by default;
            :class:`~synctune.live.timing.ManualTimer` for tests).
        default_timeout: deadline (s) of a sync when the strategy offers none.
        thresholds: alert thresholds (the guide's by default).
        on_alert: called with each :class:`~synctune.monitoring.AlertEvent` (from the sync
            thread).
        check_every: longest sleep (s) between alert evaluations while idle.
        freshness: the freshness target D (s) reads are counted against for the stale-reads
            SLO, for a strategy without one of its own (``None``: not counted). A strategy
            with a target (``strategy.freshness_target``) sets D itself; passing a different
            one raises ``ValueError``.
        recorder: writes the traffic seen here (reads, commits, sync points, pulls) as a
            trace; started and closed with the controller.
        announcer: commit announcements (:mod:`synctune.live.announce`): the controller
            announces its own writes once the primary has them (after each push of local
            writes, after each delegated write), and feeds the hints it hears to the strategy
            (``on_announcement``, ``on_channel``) on the sync thread.
        watcher_heartbeat: announce as a watcher instead (``synctune watch``): what each pull
            finds, and a heartbeat every this many seconds; hears nothing.
    """

    def __init__(self, replica: Replica, strategy: SyncStrategy, *,
                 clock: Callable[[], float] | None = None,
                 timer: Timer = REAL_TIME,
                 default_timeout: float = DEFAULT_TIMEOUT,
                 thresholds: AlertThresholds | None = None,
                 on_alert: Callable[[AlertEvent], None] | None = None,
                 check_every: float = 1.0, freshness: float | None = None,
                 recorder: TraceRecorder | None = None, announcer: Announcer | None = None,
                 watcher_heartbeat: float | None = None) -> None:
        if not isinstance(replica, Replica):
            raise TypeError(f"replica must be a Replica, got {type(replica).__name__}")
        if not isinstance(strategy, SyncStrategy):
            raise TypeError(f"strategy must be a SyncStrategy, got {type(strategy).__name__}")
        clock = checked_clocks(timer, clock)
        self.replica, self.strategy, self._clock, self._timer = replica, strategy, clock, timer
        self.default_timeout = _check.real("default_timeout", default_timeout, minimum=0.0,
                                           strict=True)
        check_every = _check.real("check_every", check_every, minimum=0.0, strict=True)
        self._delegated, self._syncs = replica.writes_delegated, replica.syncs
        # bounded-staleness reads: only then do app reads ask before running
        self._reads_wait = replica.syncs and strategy.max_read_wait > 0.0
        # guards the strategy and the backlog counter; never held during I/O. Reentrant: a
        # signal handler calling stop() may interrupt this very thread inside notify_write
        self._lock = threading.RLock()
        if recorder is not None and not isinstance(recorder, TraceRecorder):
            raise InvalidType(f"recorder must be a TraceRecorder, got {recorder!r}")
        self._freshness_target = freshness_target(strategy, freshness)
        self._metrics = SyncMetrics(thresholds, on_alert, freshness=self._freshness_target)
        self._metrics.recorder = self._recorder = recorder
        self._history = SyncHistory()
        self._backlog = UnpushedBacklog(replica, self._lock)
        # a strategy that raises never fails an app call nor ends the sync thread
        self._guard = StrategyGuard(self._metrics.telemetry)
        self._driver = GuardedDriver(strategy, self.default_timeout, self._guard)
        self._loop = SyncLoop(replica, self._driver, self._lock, timer=timer, clock=clock,
                              metrics=self._metrics, history=self._history,
                              backlog=self._backlog, check_every=check_every)
        self._wake = self._loop.wake
        self._link = None if announcer is None else AnnouncementLink.attach(
            announcer, self._loop, self._driver, self._history, clock, watcher_heartbeat)
        #: how the last :meth:`stop` ended (``None`` before one)
        self.stop_report: StopReport | None = None

    # ------------------------------------------------------------- lifecycle
    def start(self) -> SyncController:
        """Start the strategy and the sync thread; returns ``self``. A controller runs once:
        after :meth:`stop` it raises ``RuntimeError`` (make a new one for the replica)."""
        if self._loop.forked:
            raise fork_guard.refuse("this controller")
        if self.stop_report is not None:
            raise RuntimeError("SyncController.start: this controller was stopped and cannot "
                               "restart; make a new SyncController for the replica")
        if self._loop.started:
            raise RuntimeError("SyncController.start: already started")
        with self._lock:
            started_at = self._clock()
            self._driver.start(started_at)
        self._metrics.start(started_at)
        self.telemetry.restore_last_sync(engine_pull_unix(self.replica))
        if self._recorder is not None and not self._recorder.started:
            self._recorder.start()
        # the engine itself is counted by the sync thread: an operation an earlier controller
        # abandoned may hold it (an async start runs on the event loop)
        self._backlog.seed(self.replica.pending_changes())
        self._loop.start()
        if self._link is not None:
            self._link.open()
        log.info("controller started: %r on %r", self.strategy, self.replica)
        return self

    def stop(self, deadline: float = 5.0) -> bool:
        """Flush unpushed writes and stop the thread; returns within ``deadline`` seconds.

        Returns True when nothing committed locally is left unpushed. A sync still running at
        the deadline is abandoned, not awaited: it ends at its own deadline and fails cleanly,
        the engine keeping its backlog for the next start. :attr:`stop_report` says what
        happened (what was abandoned, what is unpushed and how it was counted). It may be
        called from a signal handler, which may have interrupted this thread's own
        ``notify_write``: it then waits out the deadline and reports what it counted.
        In a forked child it returns True at once, touching nothing (all is the parent's).
        """
        deadline = _check.real("deadline", deadline, minimum=0.0)
        if self._loop.forked:  # before any lock: a parent thread may have held it at the fork
            self.stop_report = StopReport(True, 0, True, None, "controller", 0.0, forked=True)
            return True
        began = self._timer.now()
        if self._link is not None:
            self._link.close()
        if not self._loop.started:  # no thread: nothing runs against the replica
            now = self._loop.unpushed_now()
            report = StopReport(True, now.changes, now.exact, None, now.counted_by, 0.0)
        else:
            self._loop.request_stop(began + deadline)
            ended = self._loop.wait_done(began + deadline)
            report = self._loop.stop_report(ended, self._timer.now() - began)
        report = replace(report, batches_on_primary=self.replica.unconfirmed_batches)
        self.stop_report = report
        if self._recorder is not None:  # the trace's tail gets what the deadline has left
            self._recorder.close(max(0.05, began + deadline - self._timer.now()))
        # logged on a helper thread given what the deadline has left: a log handler that blocks
        # (a full pipe, a hung log sink) never holds stop() past its deadline
        level = logging.INFO if report.flushed else logging.WARNING
        logger = threading.Thread(target=log.log, args=(level, "controller %s", report.message()),
                                  name="synctune-stop-log", daemon=True)
        logger.start()
        logger.join(max(0.0, began + deadline - self._timer.now()))
        return report.flushed

    def __enter__(self) -> SyncController:
        return self.start() if not self._loop.started else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ app events
    def notify_write(self, count: int = 1) -> None:
        """The app committed ``count`` local writes (call after each commit; cheap)."""
        if count.__class__ is not int or count < 0:  # bad input raises; a strategy bug never
            _check.count("count", count)
        with self._lock:
            now = self._clock()
            self._driver.write(now, count, self._delegated)
            if not self._delegated:
                self._backlog.add_commits(count)
        if self._recorder is not None:
            self._recorder.write(count)
        if self._delegated and self._link is not None:  # the primary has it now
            self._link.delegated_write()
        if not self._wake.is_set():
            self._wake.set()

    def notify_read(self, count: int = 1) -> None:
        """The app served ``count`` reads from the replica (cheap; read-aware strategies such
        as ``Budgeted`` learn the read rate from it, and pull nowhere nobody reads).

        :meth:`record_query` (what app connections call per read) already counts its read:
        call this only for reads that bypass it.
        """
        if count.__class__ is not int or count < 0:  # bad input raises; a strategy bug never
            _check.count("count", count)
        with self._lock:
            now = self._clock()
            self._driver.read(now, count)
            # before start() there is no schedule to move (reads are still counted)
            due = self._driver.next_due(now) if self._loop.started else None
        # the stale-reads SLO counts every read; a replica with nothing to sync is never stale
        bound = self._metrics.age(now) if self._syncs and self._loop.started else 0.0
        self._metrics.telemetry.count_reads(count, bound)
        if self._recorder is not None:
            self._recorder.read(count)
        # a read may make a sync due now (a stale-read budget running low)
        if due is not None and due <= now and not self._wake.is_set():
            self._wake.set()

    def before_read(self) -> float:
        """Hold a read for a fresh pull when the strategy asks (bounded-staleness reads).

        App connections call it before each read outside their own transaction. When the
        replica cannot vouch for data within the freshness target (a strategy with
        ``max_read_wait`` > 0, such as ``budgeted+read-wait:1``), the sync becomes due, the
        sync thread is woken and the caller waits, at most ``max_read_wait`` real seconds, for
        a sync started at or after the read; then the read runs, fresh or not. Call it holding
        no lock: a commit never waits for it. Returns the seconds waited (0.0 at once when the
        replica is fresh enough or reads never wait).
        """
        hold = self._hold_read()
        if hold is None:
            return 0.0
        asked, wait = hold
        began = time.monotonic()
        fresh = self._history.wait_after(asked, wait, self._loop.alive)
        self._metrics.telemetry.count_read_wait(fresh)
        return time.monotonic() - began

    async def before_read_async(self) -> float:
        """:meth:`before_read` for a coroutine: it awaits the pull, holding no thread, so
        waiting reads never keep the event loop's worker threads from a commit."""
        hold = self._hold_read()
        if hold is None:
            return 0.0
        asked, wait = hold
        began = time.monotonic()
        fresh = await self._history.wait_after_async(asked, wait, self._loop.alive)
        self._metrics.telemetry.count_read_wait(fresh)
        return time.monotonic() - began

    def _hold_read(self) -> tuple[float, float] | None:
        """Ask the strategy whether a read waits; if so, wake the sync thread and return when
        it was asked (controller clock) and the longest wait (s)."""
        if not self._reads_wait or not self._loop.started or self._loop.forked:
            return None
        with self._lock:
            asked = self._clock()
            wait = self._driver.before_read(asked)
        if wait <= 0.0:
            return None
        self._wake.set()
        return asked, wait

    def request_sync(self) -> None:
        """Ask for a sync as soon as possible (the guide's manual ``sync()``), without waiting."""
        self._request()

    def sync_now(self, timeout: float | None = None) -> bool:
        """Request a sync and wait (at most ``timeout`` real seconds) for one started after the
        request. Returns True if that sync succeeded."""
        if self._loop.forked:  # no sync thread here, and its lock may be held for good
            return False
        return self._history.wait_after(self._request(), timeout, self._loop.alive)

    async def sync_now_async(self, timeout: float | None = None) -> bool:
        """:meth:`sync_now` for a coroutine: it awaits the sync holding no thread."""
        if self._loop.forked:
            return False
        return await self._history.wait_after_async(self._request(), timeout, self._loop.alive)

    def _request(self) -> float:
        """Request a sync now; returns when it was asked (controller clock)."""
        with self._lock:
            asked = self._clock()
            self._driver.request(asked)
        if self._recorder is not None:
            self._recorder.sync_point()
        self._wake.set()
        return asked

    def record_query(self, seconds: float) -> None:
        """Report one local read's latency in seconds (feeds ``query_latency``); the read also
        counts as one :meth:`notify_read`."""
        if seconds.__class__ is not float or not 0.0 <= seconds < math.inf:
            seconds = _check.real("seconds", seconds, minimum=0.0)
        self._metrics.reads.append(seconds)
        self._metrics.telemetry.query_latency.observe(seconds)
        self.notify_read(1)  # counts it (SLO, recording) and tells the strategy

    def connection(self, **kwargs: Any) -> SyncedConnection:
        """A thread-safe app connection on the replica that reports commits and read latency
        here, and holds reads for a fresh pull when the strategy asks (:meth:`before_read`;
        see :class:`~synctune.live.app.connection.SyncedConnection`; keyword arguments such as
        ``busy_timeout`` go to it). Opening one does not wait on the network while the
        replica's pool has one ready (see :mod:`synctune.live.app.connection_pool`)."""
        if self._reads_wait:
            kwargs.setdefault("before_read", self.before_read)
        return self.replica.connection(on_commit=self.notify_write, on_read=self.record_query,
                                       **kwargs)

    # ----------------------------------------------------------------- views
    def status(self) -> ControllerStatus:
        """Current metrics and state (any thread; never waits on the network)."""
        syncs = self.replica.syncs
        with self._lock:
            now = self._clock()
            decision = self._driver.decide(now) if self._loop.started else None
            unpushed = self._backlog.value()
            if unpushed is None:
                unpushed = self._driver.state.unpushed_writes
            failures_in_row = self._driver.state.consecutive_failures
            interval = self._driver.interval_in_force()
            strategy = repr(self.strategy)
        reason = status_reason(decision, self._guard.error, self._loop.crashed)
        m = self._metrics
        return ControllerStatus(
            time=now, sync_lag=m.lag(now) if syncs else 0.0, sync_failures=m.failures,
            local_db_size=self.replica.local_db_size(), query_latency=m.read_latency(),
            sync_bandwidth=m.bandwidth, replica_age=m.age(now) if syncs else 0.0,
            syncs=m.syncs, unpushed_writes=unpushed, consecutive_failures=failures_in_row,
            next_due_in=None if decision is None or decision.due is None
            else max(0.0, decision.due - now),
            reason=reason, interval=interval, firing=m.alerts.firing, strategy=strategy)

    def snapshot(self) -> dict[str, float]:
        """The six metrics (``synctune.monitoring.METRICS`` names) as a dict."""
        return self.status().metrics()

    def announcements(self) -> AnnounceSnapshot | None:
        """Hints heard and sent, hint lag, channel state and whether the strategy is on its
        fallback (``None`` without an announcer)."""
        return None if self._link is None else self._link.snapshot(self._lock)

    @property
    def history(self) -> deque[SyncAttempt]:
        """The most recent sync attempts (up to 1,000), oldest first."""
        return self._history.attempts

    @property
    def telemetry(self) -> SyncTelemetry:
        """Histograms and labelled counters for the Prometheus export."""
        return self._metrics.telemetry

    @property
    def alerts(self) -> AlertEvaluator:
        """The in-process alert evaluator."""
        return self._metrics.alerts

    @property
    def alert_events(self) -> list[AlertEvent]:
        """Every alert state change so far, oldest first."""
        return self._metrics.alert_events

    @property
    def last_error(self) -> str | None:
        """Message of the last failed sync (tokens already removed), or ``None``."""
        return self._metrics.last_error

    def check_alerts(self) -> list[AlertEvent]:
        """Evaluate the three alerts now; log, record and return state changes."""
        with self._lock:
            now = self._clock()
            interval = self._driver.interval_in_force()
        return self._metrics.check_alerts(now, self.replica.syncs, interval)

    @property
    def freshness_target(self) -> float | None:
        """The freshness target D (s) reads are counted against (``None``: not counted)."""
        return self._freshness_target

    def __repr__(self) -> str:
        return f"SyncController({self.replica!r}, {self.strategy!r})"

