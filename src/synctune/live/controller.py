"""Drive a sync strategy against a real replica on the real clock, in a background thread.

The app keeps reading and writing its own local connection; it only tells the controller about
commits (:meth:`SyncController.notify_write`, a lock and a few float operations) and never waits
on the network. One thread per controller asks the strategy when the next sync is due, sleeps
until then (or until an event may have moved it), and runs each sync - push, then pull - with
the strategy's :meth:`~synctune.policy.SyncStrategy.sync_timeout` (or ``default_timeout``) as
its deadline. The six shared metrics and three alerts are kept as the syncs happen.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from synctune.live.replica import Replica, SyncError, classify
from synctune.live.status import ControllerStatus
from synctune.monitoring import AlertEvaluator, AlertEvent, AlertThresholds
from synctune.policy import Decision, FailureKind, SyncReport, SyncStrategy, _check

log = logging.getLogger("synctune.live")

DEFAULT_TIMEOUT = 10.0
_MIN_TIMEOUT = 0.05


@dataclass(frozen=True, slots=True)
class SyncAttempt:
    """One sync as the controller ran it (controller clock, seconds).

    Attributes:
        started: when it started.
        ended: when it succeeded or failed.
        ok: True when it succeeded.
        kind: the failure kind, or ``None`` on success.
        reason: the strategy's reason for running it.
    """

    started: float
    ended: float
    ok: bool
    kind: FailureKind | None
    reason: str


class SyncController:
    """Runs ``strategy`` against ``replica`` in a background thread.

    Args:
        replica: the database to keep in sync.
        strategy: when to sync (any :class:`~synctune.policy.SyncStrategy`; not yet started).
        clock: seconds, non-decreasing; drives the strategy, metrics and alerts. Waiting and
            the per-sync deadlines always use real seconds.
        default_timeout: deadline (s) of a sync when the strategy offers none.
        thresholds: alert thresholds (the guide's by default).
        on_alert: called with each :class:`~synctune.monitoring.AlertEvent` (from the sync
            thread).
        check_every: longest sleep (s) between alert evaluations while idle.
    """

    def __init__(self, replica: Replica, strategy: SyncStrategy, *,
                 clock: Callable[[], float] = time.monotonic,
                 default_timeout: float = DEFAULT_TIMEOUT,
                 thresholds: AlertThresholds | None = None,
                 on_alert: Callable[[AlertEvent], None] | None = None,
                 check_every: float = 1.0) -> None:
        if not isinstance(replica, Replica):
            raise TypeError(f"replica must be a Replica, got {type(replica).__name__}")
        if not isinstance(strategy, SyncStrategy):
            raise TypeError(f"strategy must be a SyncStrategy, got {type(strategy).__name__}")
        if not callable(clock):
            raise TypeError(f"clock must be callable, got {clock!r}")
        self.replica = replica
        self.strategy = strategy
        self._clock = clock
        self.default_timeout = _check.real("default_timeout", default_timeout, minimum=0.0,
                                           strict=True)
        self._check_every = _check.real("check_every", check_every, minimum=0.0, strict=True)
        self._delegated = replica.writes_delegated
        self.alerts = AlertEvaluator(thresholds)
        self._on_alert = on_alert
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._done = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._stop_by: float | None = None  # real monotonic time
        self._started_at = 0.0
        # metrics
        self._syncs = 0
        self._failures = 0
        self._bandwidth = 0
        self._last_success_end: float | None = None
        self._fresh_since: float | None = None
        self._reads: deque[float] = deque(maxlen=256)
        self._last_decision: Decision | None = None
        self._last_attempt: tuple[float, bool] | None = None  # (started, succeeded)
        self._last_error: str | None = None
        self._next_check = -math.inf
        self.alert_events: list[AlertEvent] = []
        #: the most recent sync attempts, oldest first
        self.history: deque[SyncAttempt] = deque(maxlen=1000)

    # ------------------------------------------------------------- lifecycle
    def start(self) -> SyncController:
        """Start the strategy and the sync thread; returns ``self``."""
        if self._thread is not None:
            raise RuntimeError("SyncController.start: already started")
        with self._lock:
            self._started_at = self._clock()
            self.strategy.start(self._started_at)
        self._thread = threading.Thread(target=self._run, name="synctune-sync", daemon=True)
        self._thread.start()
        log.info("controller started: %r on %r", self.strategy, self.replica)
        return self

    def stop(self, deadline: float = 5.0) -> bool:
        """Flush unpushed writes and stop the thread within ``deadline`` seconds.

        Returns True when the thread ended and nothing committed locally is left unpushed.
        Never waits longer than ``deadline`` (a sync still running then is abandoned: its own
        deadline ends it shortly after).
        """
        _check.real("deadline", deadline, minimum=0.0)
        end = time.monotonic() + deadline
        with self._lock:
            self._stopping = True
            self._stop_by = end
        self._wake.set()
        if self._thread is not None:
            self._thread.join(max(0.0, end - time.monotonic()))
            if self._thread.is_alive():
                log.warning("controller stop: deadline of %g s reached during a sync", deadline)
                return False
        flushed = self._unpushed() == 0
        log.info("controller stopped (%s)", "all writes pushed" if flushed else
                 "some writes remain unpushed")
        return flushed

    def __enter__(self) -> SyncController:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ app events
    def notify_write(self, count: int = 1) -> None:
        """The app committed ``count`` local writes (call after each commit; cheap)."""
        with self._lock:
            self.strategy.on_local_write(self._clock(), count, self._delegated)
        if not self._wake.is_set():
            self._wake.set()

    def request_sync(self) -> None:
        """Ask for a sync as soon as possible (the guide's manual ``sync()``), without waiting."""
        with self._lock:
            self.strategy.on_sync_requested(self._clock())
        self._wake.set()

    def sync_now(self, timeout: float | None = None) -> bool:
        """Request a sync and wait (at most ``timeout`` s) for one started after the request.

        Returns True if that sync succeeded.
        """
        with self._lock:
            asked = self._clock()
            self.strategy.on_sync_requested(asked)
        self._wake.set()
        limit = None if timeout is None else time.monotonic() + timeout
        with self._done:
            while self._last_attempt is None or self._last_attempt[0] < asked:
                left = None if limit is None else limit - time.monotonic()
                if (left is not None and left <= 0) or self._thread is None \
                        or not self._thread.is_alive():
                    return False
                self._done.wait(left if left is not None else 0.5)
            return self._last_attempt[1]

    def record_query(self, seconds: float) -> None:
        """Report one local read's latency in seconds (feeds ``query_latency``)."""
        if seconds.__class__ is not float or not 0.0 <= seconds < math.inf:
            seconds = _check.real("seconds", seconds, minimum=0.0)
        self._reads.append(seconds)

    def connection(self, **kwargs: Any) -> Any:
        """An app connection on the replica that reports commits and read latency here."""
        from synctune.live.connection import SyncedConnection

        return SyncedConnection(self.replica.connect(), self, **kwargs)

    # ----------------------------------------------------------------- views
    def status(self) -> ControllerStatus:
        """Current metrics and state (safe to call from any thread)."""
        with self._lock:
            now = self._clock()
            decision = self.strategy.decide(now) if self._thread is not None else None
            syncs = self.replica.syncs
            lag = self._age(now, self._last_success_end) if syncs else 0.0
            fresh = self._age(now, self._fresh_since) if syncs else 0.0
            status = ControllerStatus(
                time=now, sync_lag=lag, sync_failures=self._failures,
                local_db_size=self.replica.local_db_size(),
                query_latency=self._read_latency(), sync_bandwidth=self._bandwidth,
                replica_freshness=fresh, syncs=self._syncs,
                unpushed_writes=self.strategy.unpushed_writes,
                consecutive_failures=self.strategy.consecutive_failures,
                next_due_in=None if decision is None or decision.due is None
                else max(0.0, decision.due - now),
                reason=decision.reason if decision is not None else "not started",
                interval=self.strategy.interval_in_force, firing=self.alerts.firing,
                strategy=repr(self.strategy))
        return status

    def snapshot(self) -> dict[str, float]:
        """The six metrics (``synctune.monitoring.METRICS`` names) as a dict."""
        return self.status().metrics()

    @property
    def last_error(self) -> str | None:
        """Message of the last failed sync (tokens already removed), or ``None``."""
        return self._last_error

    def check_alerts(self) -> list[AlertEvent]:
        """Evaluate the three alerts now; log, record and return state changes."""
        with self._lock:
            now = self._clock()
            syncs = self.replica.syncs
            lag = self._age(now, self._last_success_end) if syncs else 0.0
            fresh = self._age(now, self._fresh_since) if syncs else 0.0
            events = self.alerts.observe(now, lag, fresh, self.strategy.interval_in_force)
        for event in events:
            self.alert_events.append(event)
            level = logging.WARNING if event.state == "firing" else logging.INFO
            log.log(level, "alert %s %s (value %.3g)", event.name, event.state, event.value)
            if self._on_alert is not None:
                try:
                    self._on_alert(event)
                except Exception:
                    log.exception("on_alert callback failed")
        return events

    # --------------------------------------------------------------- helpers
    def _age(self, now: float, since: float | None) -> float:
        return max(0.0, now - (since if since is not None else self._started_at))

    def _read_latency(self) -> float:
        reads = sorted(self._reads)
        if not reads:
            return 0.0
        return reads[min(len(reads) - 1, math.ceil(0.95 * len(reads)) - 1)]

    def _unpushed(self) -> int:
        pending = 0
        counter = getattr(self.replica, "pending_changes", None)
        if counter is not None and self.replica.syncs:
            try:
                pending = int(counter())
            except Exception:
                pending = 0
        return max(self.strategy.unpushed_writes if self.replica.syncs else 0, pending)

    # ------------------------------------------------------------ the thread
    def _run(self) -> None:
        try:
            while True:
                self._wake.clear()
                with self._lock:
                    if self._stopping:
                        break
                    now = self._clock()
                    decision = self.strategy.decide(now)
                    if decision != self._last_decision:
                        self._last_decision = decision
                        log.debug("next sync %s: %s", "none planned" if decision.due is None
                                  else f"in {max(0.0, decision.due - now):.3f} s",
                                  decision.reason)
                    run = decision.due is not None and decision.due <= now and self.replica.syncs
                if time.monotonic() >= self._next_check:
                    self.check_alerts()
                    self._next_check = time.monotonic() + self._check_every
                if run:
                    self._sync_once(decision.reason)
                    continue
                wait = self._check_every
                if decision.due is not None:
                    wait = min(wait, max(decision.due - now, 0.0))
                self._wake.wait(wait)
            self._flush()
        except Exception:
            log.exception("sync thread crashed")
            raise

    def _flush(self) -> None:
        """On stop: push what is left, retrying until the stop deadline."""
        pause = 0.05
        while self.replica.syncs and self._unpushed() > 0:
            assert self._stop_by is not None
            if time.monotonic() >= self._stop_by:
                return
            if self._sync_once("flush before stop"):
                continue
            left = self._stop_by - time.monotonic()
            time.sleep(max(0.0, min(pause, left)))
            pause = min(pause * 2, 1.0)

    def _sync_once(self, reason: str) -> bool:
        with self._lock:
            started = self._clock()
            self.strategy.on_sync_started(started)
            timeout = self.strategy.sync_timeout() or self.default_timeout
            if self._stop_by is not None:
                timeout = min(timeout, self._stop_by - time.monotonic())
        timeout = max(timeout, _MIN_TIMEOUT)
        real_end = time.monotonic() + timeout
        log.info("sync started (%s), timeout %.3g s", reason, timeout)
        ok = False
        try:
            pushed = self.replica.push(timeout)
            pull_started = self._clock()
            left = real_end - time.monotonic()
            if left <= 0:
                raise SyncError(FailureKind.TIMEOUT, f"no time left to pull within {timeout:g} s")
            pulled = self.replica.pull(left)
        except Exception as exc:
            if isinstance(exc, SyncError):
                kind, message = exc.kind, str(exc)
            else:  # an adapter bug: keep the type only, never a message that may hold secrets
                kind, message = classify(exc, ""), f"{type(exc).__name__} in the replica adapter"
            with self._lock:
                now = self._clock()
                self.strategy.on_sync_failed(now, kind, max(0.0, now - started))
                self._failures += 1
                self._last_error = message
                self.alerts.record_failure(now)
                failures = self.strategy.consecutive_failures
            log.warning("sync failed after %.3f s (%s, %d in a row): %s", now - started,
                        kind.value, failures, message)
        else:
            ok = True
            with self._lock:
                now = self._clock()
                report = SyncReport(duration=max(0.0, now - started), pulled=pulled.changes,
                                    pushed=pushed.changes, nbytes=pushed.nbytes + pulled.nbytes)
                self.strategy.on_sync_finished(now, report)
                self._syncs += 1
                self._bandwidth += report.nbytes
                self._last_success_end = now
                self._fresh_since = pull_started
                self._last_error = None
            log.info("sync done in %.3f s: pushed %d, pulled %d, %d bytes", report.duration,
                     report.pushed, report.pulled, report.nbytes)
        self.history.append(SyncAttempt(started, now, ok, None if ok else kind, reason))
        with self._done:
            self._last_attempt = (started, ok)
            self._done.notify_all()
        self.check_alerts()
        self._next_check = time.monotonic() + self._check_every
        return ok

    def __repr__(self) -> str:
        return f"SyncController({self.replica!r}, {self.strategy!r})"
