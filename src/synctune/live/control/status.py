"""A point-in-time view of a running controller: the six metrics plus what it is doing."""

from __future__ import annotations

from dataclasses import dataclass, field

from synctune.monitoring import METRIC_NAMES
from synctune.policy import Decision


@dataclass(frozen=True, slots=True)
class ControllerStatus:
    """Snapshot of a :class:`~synctune.live.control.controller.SyncController`.

    Attributes:
        time: controller clock (s) when taken.
        sync_lag: seconds since the last successful sync ended (since start when none yet).
        sync_failures: failed sync attempts since start.
        local_db_size: bytes of the local database file(s).
        query_latency: recent local read latency, seconds (95th percentile of the last reads
            reported, 0 when none).
        sync_bandwidth: bytes moved by syncs since start, both directions.
        replica_age: seconds since the last successful pull began (since start when none):
            the live upper bound on staleness (the age of the oldest commit not yet visible
            here) the shared metric definition allows.
        syncs: successful syncs since start.
        unpushed_writes: local changes not yet confirmed pushed: for pyturso the engine's own
            backlog (row changes, including those held from before start) at its last count
            by the sync thread, plus one per commit reported since; else the commits reported.
        consecutive_failures: failed attempts since the last success.
        next_due_in: seconds until the next planned sync (``None`` when none is planned).
        reason: the strategy's reason for its current decision.
        interval: periodic interval in force (s) or ``None``.
        firing: names of alerts firing now.
        strategy: the strategy's repr.
    """

    time: float
    sync_lag: float
    sync_failures: int
    local_db_size: int
    query_latency: float
    sync_bandwidth: int
    replica_age: float
    syncs: int = 0
    unpushed_writes: int = 0
    consecutive_failures: int = 0
    next_due_in: float | None = None
    reason: str = ""
    interval: float | None = None
    firing: tuple[str, ...] = field(default_factory=tuple)
    strategy: str = ""

    def metrics(self) -> dict[str, float]:
        """The six monitored metrics by their shared names (``synctune.monitoring.METRICS``)."""
        return {name: getattr(self, name) for name in METRIC_NAMES}

    def line(self) -> str:
        """One human-readable status line (no secrets: built from numbers and names only)."""
        due = "none" if self.next_due_in is None else f"{self.next_due_in:.1f}s"
        alerts = ",".join(self.firing) or "none"
        return (f"lag={self.sync_lag:.1f}s age={self.replica_age:.1f}s "
                f"syncs={self.syncs} failures={self.sync_failures} "
                f"unpushed={self.unpushed_writes} bytes={self.sync_bandwidth} "
                f"size={self.local_db_size} next={due} ({self.reason}) alerts={alerts}")


def status_reason(decision: Decision | None, strategy_error: str | None,
                  crashed: str | None) -> str:
    """The status line's reason: the strategy's, unless the strategy raises (syncs go on, on a
    fallback backoff) or the sync thread crashed (commits still land, but nothing syncs)."""
    if crashed is not None:
        return f"sync thread crashed ({crashed}); nothing syncs"
    if strategy_error is not None:
        return f"strategy {strategy_error}; syncing on a fallback backoff"
    return decision.reason if decision is not None else "not started"
