"""The controller's metrics and alerts, kept as syncs happen (definitions: synctune.monitoring).

Thread-safe on its own lock, which is never held during I/O: the sync thread records outcomes,
any thread reads. Times are controller clock seconds.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable

from synctune.live.control.recorder import TraceRecorder
from synctune.live.control.telemetry import SyncTelemetry
from synctune.monitoring import AlertEvaluator, AlertEvent, AlertThresholds

log = logging.getLogger("synctune.live")


class SyncMetrics:
    """Counters, ages and the alert evaluator of one controller.

    Args:
        thresholds: alert thresholds (the guide's by default).
        on_alert: called with each :class:`~synctune.monitoring.AlertEvent`.
        reads_kept: how many recent read latencies feed ``query_latency``.
        freshness: the freshness target D (s) reads are counted against (``None``: not
            counted), for the stale-reads SLO.
    """

    def __init__(self, thresholds: AlertThresholds | None = None,
                 on_alert: Callable[[AlertEvent], None] | None = None,
                 reads_kept: int = 256, freshness: float | None = None) -> None:
        self.alerts = AlertEvaluator(thresholds)
        #: histograms and labelled counters for the Prometheus export
        self.telemetry = SyncTelemetry(freshness)
        #: where the traffic is recorded, if anywhere
        self.recorder: TraceRecorder | None = None
        self.alert_events: list[AlertEvent] = []
        self._on_alert = on_alert
        self._lock = threading.Lock()
        self._started_at = 0.0
        self.syncs = 0
        self.failures = 0
        self.bandwidth = 0
        self.last_error: str | None = None
        self._last_success_end: float | None = None
        self._last_pull_start: float | None = None
        # appended from app threads without a lock: deque.append is atomic
        self.reads: deque[float] = deque(maxlen=reads_kept)

    def start(self, now: float) -> None:
        """Ages count from ``now`` until the first successful sync."""
        with self._lock:
            self._started_at = now

    def record_success(self, now: float, nbytes: int, pull_started: float | None) -> None:
        """A sync ended well at ``now``; its pull began at ``pull_started``."""
        with self._lock:
            self.syncs += 1
            self.bandwidth += nbytes
            self._last_success_end = now
            if pull_started is not None:
                self._last_pull_start = pull_started
            self.last_error = None

    def record_failure(self, now: float, message: str) -> None:
        """A sync failed at ``now`` with ``message`` (tokens already removed)."""
        with self._lock:
            self.failures += 1
            self.last_error = message
            self.alerts.record_failure(now)

    def lag(self, now: float) -> float:
        """Seconds since the last successful sync ended (before the first one of this run,
        since the engine's record of its last pull when it keeps one, else since start)."""
        engine = self.telemetry.last_sync_unix
        if self._last_success_end is None and engine is not None:
            return max(0.0, time.time() - engine)  # kept across restarts
        return self._age(now, self._last_success_end)

    def age(self, now: float) -> float:
        """The replica's age: seconds since the last successful pull began (since start when
        none yet), the live upper bound on its staleness."""
        return self._age(now, self._last_pull_start)

    def read_latency(self) -> float:
        """95th percentile of the recent read latencies (s), 0 when none."""
        reads = sorted(list(self.reads))
        if not reads:
            return 0.0
        return reads[min(len(reads) - 1, math.ceil(0.95 * len(reads)) - 1)]

    def check_alerts(self, now: float, syncs: bool, interval: float | None) -> list[AlertEvent]:
        """Evaluate the three alerts at ``now``; log, record, report and return state changes."""
        lag = self.lag(now) if syncs else 0.0
        age = self.age(now) if syncs else 0.0
        with self._lock:
            events = self.alerts.observe(now, lag, age, interval)
            self.alert_events.extend(events)
        for event in events:
            level = logging.WARNING if event.state == "firing" else logging.INFO
            log.log(level, "alert %s %s (value %.3g)", event.name, event.state, event.value)
            if self._on_alert is not None:
                try:
                    self._on_alert(event)
                except Exception:
                    log.exception("on_alert callback failed")
        return events

    def _age(self, now: float, since: float | None) -> float:
        return max(0.0, now - (since if since is not None else self._started_at))
