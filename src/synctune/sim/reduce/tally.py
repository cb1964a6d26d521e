"""Per-node outcomes and the fixed-size running totals they fold into.

A run reduces each node, as soon as it is done, to a :class:`NodeOutcome` (its reads', writes'
and syncs' figures), folds it into a :class:`Tally` and drops it, so memory holds one node's
arrays at a time. Tallies of disjoint sets of nodes (shards) merge; :meth:`Tally.summary` is the
summary step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from synctune.monitoring import ALERTS
from synctune.sim.reduce.sketch import QuantileSketch
from synctune.sim.result import RunSummary


@dataclass(frozen=True)
class NodeOutcome:
    """What one node's run came to (times in seconds).

    Attributes:
        syncs, sync_failures: successful and failed attempts.
        sync_bytes: bytes moved by syncs and read-your-writes pulls.
        ryw_pulls: read-your-writes pulls.
        oracle_syncs: the oracle's pull count for this node on this run's commits.
        staleness: staleness of each read.
        read_latency: latency of each read.
        visibility: delays until other origins' commits became visible here (pairs seen),
            as a sketch (a fleet's log is too long to hold them all).
        visibility_censored: other origins' commits never visible here.
        writes: writes issued here; write_errors: those lost to an outage.
        write_latency_ms: latency of each acknowledged write (ms).
        unsynced_max, unsynced_end: local-first writes not pushed, at most and at the end.
        cold_starts: cold starts.
        alerts: firings per alert name.
        read_waits: how long (s) each read held for a pull waited (bounded-staleness reads).
        read_wait_timeouts: held reads that ran without that pull (the wait ran out or the
            attempt failed).
    """

    syncs: int
    sync_failures: int
    sync_bytes: int
    ryw_pulls: int
    oracle_syncs: int
    staleness: np.ndarray
    read_latency: np.ndarray
    visibility: QuantileSketch
    visibility_censored: int
    writes: int
    write_errors: int
    write_latency_ms: np.ndarray
    unsynced_max: int
    unsynced_end: int
    cold_starts: int
    alerts: dict[str, int]
    read_waits: np.ndarray = field(default_factory=lambda: np.empty(0))
    read_wait_timeouts: int = 0


def _alert_counts() -> dict[str, int]:
    return {a.name: 0 for a in ALERTS}


@dataclass
class Tally:
    """Running totals over nodes: counts, sums, maxima and quantile sketches.

    Its size does not grow with reads or writes (see :mod:`synctune.sim.reduce.sketch` for the
    sketches' bound).
    """

    nodes: int = 0
    syncs: int = 0
    sync_failures: int = 0
    sync_bytes: int = 0
    ryw_pulls: int = 0
    oracle_syncs: int = 0
    stale_reads: int = 0
    over_freshness_reads: int = 0
    visibility_censored: int = 0
    writes: int = 0
    write_errors: int = 0
    unsynced_max: int = 0
    unsynced_end: int = 0
    cold_starts: int = 0
    read_wait_timeouts: int = 0
    alerts: dict[str, int] = field(default_factory=_alert_counts)
    staleness: QuantileSketch = field(default_factory=QuantileSketch)
    read_latency: QuantileSketch = field(default_factory=QuantileSketch)
    visibility: QuantileSketch = field(default_factory=QuantileSketch)
    write_latency_ms: QuantileSketch = field(default_factory=QuantileSketch)
    read_waits: QuantileSketch = field(default_factory=QuantileSketch)

    def add(self, o: NodeOutcome, freshness: float) -> None:
        """Fold one node's outcome in (``freshness`` is the target D, s)."""
        self.nodes += 1
        self.syncs += o.syncs
        self.sync_failures += o.sync_failures
        self.sync_bytes += o.sync_bytes
        self.ryw_pulls += o.ryw_pulls
        self.oracle_syncs += o.oracle_syncs
        self.stale_reads += int(np.count_nonzero(o.staleness > 0))
        self.over_freshness_reads += int(np.count_nonzero(o.staleness > freshness))
        self.visibility_censored += o.visibility_censored
        self.writes += o.writes
        self.write_errors += o.write_errors
        self.unsynced_max = max(self.unsynced_max, o.unsynced_max)
        self.unsynced_end += o.unsynced_end
        self.cold_starts += o.cold_starts
        for name, n in o.alerts.items():
            self.alerts[name] = self.alerts.get(name, 0) + n
        self.staleness.add(o.staleness)
        self.read_latency.add(o.read_latency)
        self.visibility.merge(o.visibility)
        self.write_latency_ms.add(o.write_latency_ms)
        self.read_waits.add(o.read_waits)
        self.read_wait_timeouts += o.read_wait_timeouts

    def merge(self, other: Tally) -> None:
        """Fold in the tally of another, disjoint set of nodes (another shard)."""
        for name in ("nodes", "syncs", "sync_failures", "sync_bytes", "ryw_pulls",
                     "oracle_syncs", "stale_reads", "over_freshness_reads",
                     "visibility_censored", "writes", "write_errors", "unsynced_end",
                     "cold_starts", "read_wait_timeouts"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.unsynced_max = max(self.unsynced_max, other.unsynced_max)
        for name, n in other.alerts.items():
            self.alerts[name] = self.alerts.get(name, 0) + n
        self.staleness.merge(other.staleness)
        self.read_latency.merge(other.read_latency)
        self.visibility.merge(other.visibility)
        self.write_latency_ms.merge(other.write_latency_ms)
        self.read_waits.merge(other.read_waits)

    def summary(self, *, strategy: str, workload: str, write_model: str, duration: float,
                freshness: float, seed: int, primary_writes: int) -> RunSummary:
        """The summary step: the run's figures from the totals of all its nodes."""
        st, vis, waits = self.staleness, self.visibility, self.read_waits
        reads = st.count
        if self.oracle_syncs:
            per_oracle = self.syncs / self.oracle_syncs
        else:
            per_oracle = 0.0 if not self.syncs else float("inf")
        return RunSummary(
            strategy=strategy, workload=workload, write_model=write_model, nodes=self.nodes,
            duration_s=duration, freshness_s=freshness, seed=seed,
            syncs=self.syncs, sync_failures=self.sync_failures,
            oracle_syncs=self.oracle_syncs, syncs_per_oracle=per_oracle,
            ryw_pulls=self.ryw_pulls, bytes=self.sync_bytes, reads=reads,
            writes=primary_writes + self.writes, write_errors=self.write_errors,
            stale_read_fraction=self.stale_reads / reads if reads else 0.0,
            over_freshness_fraction=self.over_freshness_reads / reads if reads else 0.0,
            staleness_mean_s=st.mean, staleness_p99_s=st.quantile(99),
            staleness_max_s=st.max,
            visibility_mean_s=vis.mean, visibility_p99_s=vis.quantile(99),
            visibility_max_s=vis.max, visibility_censored=self.visibility_censored,
            write_latency_p99_ms=self.write_latency_ms.quantile(99),
            read_latency_p99_ms=self.read_latency.quantile(99) * 1000.0,
            unsynced_writes_max=self.unsynced_max, unsynced_writes_end=self.unsynced_end,
            cold_starts=self.cold_starts,
            read_waits=waits.count,
            read_wait_timeout_fraction=(self.read_wait_timeouts / waits.count if waits.count
                                        else 0.0),
            read_wait_p50_ms=waits.quantile(50) * 1000.0,
            read_wait_p99_ms=waits.quantile(99) * 1000.0,
            alerts_high_sync_lag=self.alerts.get("high_sync_lag", 0),
            alerts_sync_failure=self.alerts.get("sync_failure", 0),
            alerts_replica_stale=self.alerts.get("replica_stale", 0),
        )
