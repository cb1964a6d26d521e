"""What a simulation run returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from synctune.sim.config import SimConfig


@dataclass(frozen=True)
class SimResult:
    """Tables and summary of one run (times in seconds from the start).

    Attributes:
        config: the configuration run (its seed included).
        reads: ``t, node, staleness_s, latency_ms`` per read (empty unless ``config.detail``).
        writes: ``t, node, commit_t, latency_ms, bytes, failed, visibility_max_s`` per write,
            ``node == "primary"`` for other clients' writes (empty unless ``config.detail``).
        syncs: ``node, start, end, ok, failure, pulled, pushed, bytes, reach`` per attempt.
        metrics: the six metrics per node at every sample time (``t, node, sync_lag,
            sync_failures, local_db_size, query_latency, sync_bandwidth, replica_freshness``,
            plus ``sync_interval``, the interval in force).
        alerts: ``t, node, name, severity, state, value``: every firing and resolving.
        summary: the figures of :data:`SUMMARY_FIELDS` (flat, JSON-friendly).
    """

    config: SimConfig
    reads: pd.DataFrame
    writes: pd.DataFrame
    syncs: pd.DataFrame
    metrics: pd.DataFrame
    alerts: pd.DataFrame
    summary: dict[str, Any]

    def __repr__(self) -> str:
        s = self.summary
        return (f"SimResult(strategy={s['strategy']!r}, syncs={s['syncs']}, "
                f"oracle_syncs={s['oracle_syncs']}, "
                f"stale_read_fraction={s['stale_read_fraction']:.4g})")


#: summary keys, in table order, with their meaning
SUMMARY_FIELDS: dict[str, str] = {
    "strategy": "strategy spec",
    "workload": "scenario name or trace path",
    "write_model": "delegated or local-first",
    "nodes": "replica nodes",
    "duration_s": "simulated seconds",
    "freshness_s": "freshness target D (s)",
    "seed": "random seed",
    "syncs": "successful syncs (all nodes)",
    "sync_failures": "failed sync attempts",
    "oracle_syncs": "fewest pulls keeping every read within D (the physical limit)",
    "syncs_per_oracle": "syncs / oracle_syncs",
    "ryw_pulls": "read-your-writes pulls after delegated writes",
    "bytes": "bytes moved by syncs and read-your-writes pulls",
    "reads": "local reads",
    "writes": "writes issued (nodes and primary)",
    "write_errors": "delegated writes lost to an outage",
    "stale_read_fraction": "share of reads with staleness > 0",
    "over_freshness_fraction": "share of reads with staleness > D",
    "staleness_mean_s": "mean read staleness (s)",
    "staleness_p99_s": "99th percentile read staleness (s)",
    "staleness_max_s": "largest read staleness (s)",
    "visibility_mean_s": "mean write visibility delay (s), per (write, other node)",
    "visibility_p99_s": "99th percentile write visibility delay (s)",
    "visibility_max_s": "largest write visibility delay (s)",
    "visibility_censored": "(write, node) pairs not visible by the end",
    "write_latency_p99_ms": "99th percentile write latency (ms)",
    "read_latency_p99_ms": "99th percentile local read latency (ms)",
    "unsynced_writes_max": "most local-first writes committed locally but not pushed, any node",
    "unsynced_writes_end": "local-first writes still unpushed at the end (at risk)",
    "cold_starts": "serverless cold starts",
    "alerts_high_sync_lag": "high_sync_lag firings",
    "alerts_sync_failure": "sync_failure firings",
    "alerts_replica_stale": "replica_stale firings",
}
