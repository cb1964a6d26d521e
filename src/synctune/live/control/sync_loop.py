"""The sync thread: ask the strategy when, wait until then, run one attempt, repeat; flush on stop.

Owns every call to the replica (counting the backlog, pushing, pulling), so the app's calls on
:class:`~synctune.live.control.controller.SyncController` only ever take the short state lock,
which is never held during I/O. All waiting and deadlines go through the injected
:class:`~synctune.live.timing.Timer`.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from typing import NamedTuple

from synctune.live.app import fork_guard
from synctune.live.control.backlog import UnpushedBacklog
from synctune.live.control.history import SyncAttempt, SyncHistory
from synctune.live.control.metrics import SyncMetrics
from synctune.live.control.shutdown import StopReport
from synctune.live.control.strategy_guard import FALLBACK, GuardedDriver
from synctune.live.control.sync_run import SyncOutcome, run_sync
from synctune.live.control.telemetry import engine_pull_unix
from synctune.live.replica.base import Replica
from synctune.live.timing import SYNC_THREAD_NAME, Timer
from synctune.policy import Decision, SyncReport

log = logging.getLogger("synctune.live")

#: first and longest pause (s) between flush attempts on stop
FLUSH_PAUSE = (0.05, 1.0)
#: shortest pause (s) between the end of one attempt and the start of the next, when the next
#: is already due as the last ends. A strategy stuck on a due time in the past (or a periodic
#: interval of microseconds) otherwise starts syncs back to back: 239 in 2.5 s measured on
#: loopback, each about 10 ms. 10 ms at least halves that and leaves the thread idle half the
#: time even then, while a legitimate back-to-back sync (writes that came during the last one)
#: is delayed by at most 10 ms, nothing next to freshness targets of a second or more.
MIN_GAP = 0.01


class Unpushed(NamedTuple):
    """A count of local changes not confirmed pushed: how many, who counted (``"engine"`` or
    ``"controller"``), and whether it is exact."""

    changes: int
    counted_by: str
    exact: bool


class SyncLoop:
    """One background thread taking ``driver``'s steps against ``replica``.

    Shares ``lock`` (guarding the driver and ``backlog``) with the controller's app-facing
    calls; it holds it only between replica calls.
    """

    def __init__(self, replica: Replica, driver: GuardedDriver, lock: threading.RLock, *,
                 timer: Timer, clock: Callable[[], float], metrics: SyncMetrics,
                 history: SyncHistory, backlog: UnpushedBacklog, check_every: float) -> None:
        self.replica = replica
        self.driver = driver
        self.strategy = driver.strategy
        self._lock = lock
        self._timer = timer
        self._clock = clock
        self._metrics = metrics
        self._history = history
        self._backlog = backlog
        self._guard = driver.guard
        self._check_every = check_every
        #: set to wake the thread early (an event may have moved the next sync)
        self.wake = threading.Event()
        #: set once the thread has ended
        self.done = threading.Event()
        #: the part of a sync running now: "push", "pull" or None
        self.in_flight: str | None = None
        #: what was unpushed as the thread ended (None: it has not, or nothing syncs)
        self.final_unpushed: Unpushed | None = None
        #: the exception type that ended the thread early, if one did
        self.crashed: str | None = None
        self._stop_by: float | None = None  # timer time
        self._thread: threading.Thread | None = None
        self._last_decision: Decision | None = None
        self._next_check = -math.inf
        self._next_count = -math.inf
        self._born = fork_guard.generation
        # the fallback schedule while the strategy raises: retries so far, and since when
        self._fallback_retries = 0
        self._fallback_from: float | None = None
        #: called under the lock before each decision with the controller time (announcements)
        self.before_decide: Callable[[float], None] | None = None
        #: called under the lock after each successful sync: (seconds since it started,
        #: changes pushed, changes pulled)
        self.after_sync: Callable[[float, int, int], None] | None = None
        self._last_end: float | None = None  # timer time the last attempt ended

    # ----------------------------------------------------------- control
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=SYNC_THREAD_NAME, daemon=True)
        self._thread.start()

    @property
    def started(self) -> bool:
        return self._thread is not None

    def alive(self) -> bool:
        """True while the thread runs (never in a forked child: the thread stayed behind)."""
        return self._thread is not None and not self.done.is_set() and not self.forked

    @property
    def forked(self) -> bool:
        """True in a child forked after this loop was made (its lock may be held for good)."""
        return self._born != fork_guard.generation

    def request_stop(self, by: float) -> None:
        """Stop scheduling; flush until ``by`` (timer time), then end."""
        with self._lock:
            self._stop_by = by if self._stop_by is None else min(self._stop_by, by)
        self.replica.cut_short(max(0.0, by - self._timer.now()))  # a running push ends by then
        self.wake.set()

    def wait_done(self, by: float) -> bool:
        """Wait until the thread ends or ``by`` (timer time); True when it ended."""
        while not self.done.is_set():
            left = by - self._timer.now()
            if left <= 0:
                return False
            self._timer.wait(self.done, left)
        return True

    def unpushed_now(self) -> Unpushed:
        """A fresh count of unpushed changes (sync thread, or no thread running).

        When the engine cannot count just now, its last count plus the commits reported since
        (never fewer than are at risk), marked inexact; adapters that cannot count at all give
        the strategy's count of reported commits.
        """
        counted = self._backlog.count()
        if counted is not None:
            return Unpushed(counted, "engine", True)
        with self._lock:
            known = self._backlog.value()
            if known is not None:
                return Unpushed(known, "engine", False)
            return Unpushed(self.driver.state.unpushed_writes, "controller", True)

    def stop_report(self, ended: bool, seconds: float) -> StopReport:
        """What a stop achieved: ``ended`` (the thread ended in time) after ``seconds``."""
        final = self.final_unpushed
        if ended and final is not None:
            # commits the app reported after that last count are in the file, unpushed too
            with self._lock:
                known = self._backlog.value() if final.counted_by == "engine" \
                    else self.driver.state.unpushed_writes
            late = max(0, (known or 0) - final.changes)
            return StopReport(True, final.changes + late, final.exact and not late, None,
                              final.counted_by, seconds)
        with self._lock:
            estimate = self._backlog.value()
            exact = self._backlog.commits_since == 0
            fallback = self.driver.state.unpushed_writes
        abandoned = None if ended else (self.in_flight or "sync step")
        if estimate is not None:
            return StopReport(ended, estimate, exact, abandoned, "engine", seconds)
        unpushed = fallback if self.replica.syncs else 0
        return StopReport(ended, unpushed, ended, abandoned, "controller", seconds)

    # ------------------------------------------------------------ thread
    def _run(self) -> None:
        try:
            self.adopt_backlog()
            while True:
                self.wake.clear()
                errors = self._guard.errors
                with self._lock:
                    if self._stop_by is not None:
                        break
                    now = self._clock()
                    if self.before_decide is not None:
                        self.before_decide(now)
                    decision = self._fallback(self.driver.decide(now), now)
                    run = decision.due is not None and decision.due <= now and self.replica.syncs
                self._guard.log_new()
                self._log_decision(decision, now)
                if self._timer.now() >= self._next_check:
                    self.check_alerts()
                    self._maintain()
                if run:
                    self._keep_gap()
                    self.attempt(decision.reason, errors)
                    continue
                self._recount_if_written()
                wait = self._check_every
                if decision.due is not None:
                    wait = min(wait, max(decision.due - now, 0.0))
                self._timer.wait(self.wake, wait)
            self._flush()
            self.final_unpushed = self.unpushed_now() if self.replica.syncs else None
        except Exception as exc:
            self.crashed = type(exc).__name__
            log.exception("sync thread crashed: no more syncs until a new controller starts")
        finally:
            self.done.set()
            self._history.wake()

    def _keep_gap(self) -> None:
        """Leave at least :data:`MIN_GAP` between attempts: a due time in the past never makes
        a busy loop."""
        if self._last_end is not None:
            left = self._last_end + MIN_GAP - self._timer.now()
            if left > 0:
                self._timer.sleep(left)

    def adopt_backlog(self) -> None:
        """Changes the engine held before start are at risk too: count them and tell the
        strategy, so it plans their push like any other write (the thread's first step; the
        controller's ``start`` seeded the figure from the replica's never-waiting count)."""
        held = self._backlog.count()
        if held:
            with self._lock:
                self.driver.write(self._clock(), held)
            log.info("the engine holds %d unpushed local changes from before start", held)

    def _fallback(self, decision: Decision | None, now: float) -> Decision:
        """The strategy's decision, or while it is not trusted (it raised since its last clean
        sync) a sync on :data:`FALLBACK`: unpushed commits still get pushed, at least every
        ``FALLBACK.cap`` s."""
        error = self._guard.error
        if error is None:
            self._fallback_retries, self._fallback_from = 0, None
            assert decision is not None  # decide raising sets the error
            return decision
        if self._fallback_from is None:
            self._fallback_from = now
        # not the strategy's own decision: its state may say "due now" for good (a busy loop)
        due = self._fallback_from + FALLBACK.ceiling(self._fallback_retries + 1)
        return Decision(due, f"strategy {error}; fallback backoff")

    def _recount_if_written(self) -> None:
        # at most once per check_every: counting reads the engine's change table
        if self._backlog.commits_since and self._timer.now() >= self._next_count:
            self._backlog.count()
            self._next_count = self._timer.now() + self._check_every

    def _log_decision(self, decision: Decision, now: float) -> None:
        if decision != self._last_decision:
            self._last_decision = decision
            log.debug("next sync %s: %s", "none planned" if decision.due is None
                      else f"in {max(0.0, decision.due - now):.3f} s", decision.reason)

    def check_alerts(self) -> None:
        with self._lock:
            now = self._clock()
            interval = self.driver.interval_in_force()
        self._metrics.check_alerts(now, self.replica.syncs, interval)
        self._next_check = self._timer.now() + self._check_every

    def _maintain(self) -> None:
        """The replica's housekeeping (a checkpoint) between syncs, never during one."""
        try:
            self.replica.maintain()
        except Exception:
            log.exception("replica maintenance failed")

    def _flush(self) -> None:
        """On stop: push what is left, retrying with a short backoff until the stop deadline."""
        assert self._stop_by is not None
        pause, longest = FLUSH_PAUSE
        while self.replica.syncs and self.unpushed_now().changes > 0:
            if self._timer.now() >= self._stop_by:
                return
            if self.attempt("flush before stop"):
                continue
            self._timer.sleep(min(pause, self._stop_by - self._timer.now()))
            pause = min(pause * 2, longest)

    def _phase(self, phase: str | None) -> None:
        if phase == "pull":  # the push is confirmed: the engine's backlog just shrank
            self._backlog.count()
        self.in_flight = phase

    def attempt(self, reason: str, errors: int | None = None) -> bool:
        """Run one sync now and account for it; True when it succeeded. ``errors``: the
        strategy errors counted when the sync was decided (the strategy is trusted again only
        once it decided and handled a whole sync without raising)."""
        errors = self._guard.errors if errors is None else errors
        with self._lock:
            started = self._clock()
            timeout = self.driver.begin(started)
            if self._stop_by is not None:
                timeout = min(timeout, self._stop_by - self._timer.now())
        log.info("sync started (%s), timeout %.3g s", reason, timeout)
        outcome = run_sync(self.replica, timeout, timer=self._timer, clock=self._clock,
                           phase=self._phase)
        self._last_end = self._timer.now()
        self._account(started, reason, outcome)
        if self._guard.errors == errors:  # a whole sync without raising: trusted again
            self._guard.trust()
        else:
            self._fallback_retries += 1
            self._fallback_from = self._clock()
        self._guard.log_new()
        return outcome.ok

    def _account(self, started: float, reason: str, outcome: SyncOutcome) -> None:
        with self._lock:
            now = self._clock()
            duration = max(0.0, now - started)
            if outcome.ok:
                assert outcome.pushed is not None and outcome.pulled is not None
                report = SyncReport(duration=duration, pulled=outcome.pulled.changes,
                                    pushed=outcome.pushed.changes, nbytes=outcome.nbytes)
                self.driver.finished(now, report)
                if self.after_sync is not None:
                    self.after_sync(duration, report.pushed, report.pulled)
            else:
                kind = outcome.kind
                assert kind is not None
                self.driver.failed(now, kind, duration)
            failures = self.driver.state.consecutive_failures
        tele = self._metrics.telemetry
        if outcome.ok:
            assert outcome.pushed is not None and outcome.pulled is not None
            tele.on_sync_done(duration, outcome.pushed.nbytes, outcome.pulled.nbytes,
                              engine_pull_unix(self.replica))
            if self._metrics.recorder is not None:
                self._metrics.recorder.pull(outcome.pulled.changes)
            self._metrics.record_success(now, outcome.nbytes, outcome.pull_started)
            log.info("sync done in %.3f s: pushed %d, pulled %d, %d bytes", duration,
                     report.pushed, report.pulled, report.nbytes)
        else:
            assert outcome.kind is not None and outcome.message is not None
            tele.on_sync_failed(duration, outcome.kind)
            self._metrics.record_failure(now, outcome.message)
            log.warning("sync failed after %.3f s (%s, %d in a row): %s", duration,
                        outcome.kind.value, failures, outcome.message)
        self._history.record(SyncAttempt(started, now, outcome.ok, outcome.kind, reason))
        self.check_alerts()
        self._maintain()
