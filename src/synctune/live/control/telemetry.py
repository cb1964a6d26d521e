"""What the controller counts for the Prometheus export beyond its status: histograms of read
latency and sync duration, failures by kind, bytes by direction, reads older than D, reads held
for a fresh pull, and the wall-clock time of the last successful pull (the engine's own record
when it keeps one).

Fed by the controller from the app's threads (reads) and the sync thread (syncs); read by the
exporter at scrape time. No call here touches the replica or the network.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from synctune.live.replica.base import Replica
from synctune.monitoring.histogram import Histogram, HistogramSnapshot
from synctune.monitoring.metrics import QUERY_LATENCY_BUCKETS, SYNC_DURATION_BUCKETS
from synctune.policy import FailureKind, _check

__all__ = ["DIRECTIONS", "SyncTelemetry", "TelemetrySnapshot", "engine_pull_unix"]

#: the values of the ``direction`` label of the bandwidth counter
DIRECTIONS = ("push", "pull")


def engine_pull_unix(replica: Replica) -> float | None:
    """The engine's own Unix time (s) of its last pull, when the adapter offers one
    (:attr:`~synctune.live.replica.base.Capabilities.reports_pull_time`).

    Call it only where the replica may be used (the sync thread, or before it starts): the
    adapter takes its own lock.
    """
    if not replica.capabilities.reports_pull_time:
        return None
    try:
        value = replica.last_pull_unix_time()
    except Exception:  # a stats call must never break a sync
        return None
    return float(value) if value else None


@dataclass(frozen=True, slots=True)
class TelemetrySnapshot:
    """Counters at one moment (see :class:`SyncTelemetry`)."""

    query_latency: HistogramSnapshot
    sync_duration: HistogramSnapshot
    failures: dict[str, int]
    bandwidth: dict[str, int]
    reads: int
    reads_over_freshness: int
    last_sync_unix: float | None
    freshness: float | None
    read_waits: int = 0
    read_waits_out: int = 0


class SyncTelemetry:
    """Counters and histograms for one controller.

    Args:
        freshness: the freshness target D (s) reads are judged against, or ``None``.
        wall_clock: Unix time in seconds (for the last-sync timestamp when the engine has none).
    """

    def __init__(self, freshness: float | None = None,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.freshness = (None if freshness is None else
                          _check.real("freshness", freshness, minimum=0.0, strict=True))
        self._wall = wall_clock
        self.query_latency = Histogram(QUERY_LATENCY_BUCKETS)
        self.sync_duration = Histogram(SYNC_DURATION_BUCKETS)
        self._lock = threading.Lock()
        self._failures = dict.fromkeys((*(k.value for k in FailureKind), "strategy"), 0)
        self._bandwidth = dict.fromkeys(DIRECTIONS, 0)
        self._reads = 0
        self._over = 0
        self._waits = 0
        self._waits_out = 0
        self._last_sync_unix: float | None = None

    def on_read(self, latency: float, staleness_bound: float) -> None:
        """One local read took ``latency`` s while the replica was at most
        ``staleness_bound`` s old."""
        self.query_latency.observe(latency)
        self.count_reads(1, staleness_bound)

    def count_reads(self, count: int, staleness_bound: float) -> None:
        """``count`` reads (latency unknown) while the replica was at most ``staleness_bound``
        s old."""
        over = self.freshness is not None and staleness_bound > self.freshness
        with self._lock:
            self._reads += count
            if over:
                self._over += count

    def count_read_wait(self, fresh: bool) -> None:
        """A read was held for a pull (bounded-staleness reads); ``fresh``: one came in time."""
        with self._lock:
            self._waits += 1
            if not fresh:
                self._waits_out += 1

    def on_sync_failed(self, duration: float, kind: FailureKind) -> None:
        """A sync attempt failed after ``duration`` s for ``kind``."""
        self.sync_duration.observe(duration)
        with self._lock:
            self._failures[kind.value] = self._failures.get(kind.value, 0) + 1

    def on_strategy_error(self) -> None:
        """A strategy call raised (counted as ``sync_failures{kind="strategy"}``: a sync the
        strategy could not plan or account for)."""
        with self._lock:
            self._failures["strategy"] += 1

    def on_sync_done(self, duration: float, pushed_bytes: int, pulled_bytes: int,
                     engine_pull_unix: float | None) -> None:
        """A sync succeeded after ``duration`` s; ``engine_pull_unix`` is the engine's own
        record of the pull (Unix s) when it keeps one, else the wall clock is used."""
        self.sync_duration.observe(duration)
        with self._lock:
            self._bandwidth["push"] += pushed_bytes
            self._bandwidth["pull"] += pulled_bytes
            self._last_sync_unix = (engine_pull_unix if engine_pull_unix is not None
                                    else self._wall())

    def restore_last_sync(self, engine_pull_unix: float | None) -> None:
        """Start from the engine's record of its last pull (Unix s), kept across restarts."""
        if engine_pull_unix is not None:
            with self._lock:
                if self._last_sync_unix is None or engine_pull_unix > self._last_sync_unix:
                    self._last_sync_unix = engine_pull_unix

    @property
    def last_sync_unix(self) -> float | None:
        """Unix time (s) of the last successful pull known, or ``None``."""
        return self._last_sync_unix

    def snapshot(self) -> TelemetrySnapshot:
        """Everything, for one scrape."""
        with self._lock:
            failures, bandwidth = dict(self._failures), dict(self._bandwidth)
            reads, over, last = self._reads, self._over, self._last_sync_unix
            waits, waits_out = self._waits, self._waits_out
        return TelemetrySnapshot(self.query_latency.snapshot(), self.sync_duration.snapshot(),
                                 failures, bandwidth, reads, over, last, self.freshness,
                                 waits, waits_out)
