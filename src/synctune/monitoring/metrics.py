"""The guide's six replica metrics: names, units and meaning, shared by simulator and live."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One monitored quantity.

    Attributes:
        name: metric name (also the Prometheus name, prefixed ``synctune_``).
        unit: unit of the value.
        kind: ``gauge`` or ``counter``.
        description: what is measured, in the simulator's and the controller's shared terms.
        healthy: the guide's threshold for a healthy value, as text.
    """

    name: str
    unit: str
    kind: str
    description: str
    healthy: str

    @property
    def prometheus_name(self) -> str:
        """Name under which the controller exports it."""
        suffix = {"seconds": "_seconds", "bytes": "_bytes"}.get(self.unit, "")
        total = "_total" if self.kind == "counter" else ""
        return f"synctune_{self.name}{suffix}{total}"


SYNC_LAG = MetricSpec("sync_lag", "seconds", "gauge",
                      "Time since the last successful sync ended.", "< 60")
SYNC_FAILURES = MetricSpec("sync_failures", "count", "counter",
                           "Failed sync attempts since start.", "0")
LOCAL_DB_SIZE = MetricSpec("local_db_size", "bytes", "gauge",
                           "Size of the local replica file(s).", "-")
QUERY_LATENCY = MetricSpec("query_latency", "seconds", "gauge",
                           "Latency of local reads (last or recent quantile).", "< 0.010")
SYNC_BANDWIDTH = MetricSpec("sync_bandwidth", "bytes", "counter",
                            "Bytes moved by syncs, both directions.", "-")
REPLICA_FRESHNESS = MetricSpec(
    "replica_freshness", "seconds", "gauge",
    "Current staleness: now minus the primary commit time of the oldest write not yet visible "
    "here (0 when none); live, bounded above by the time since the last successful pull began.",
    "< sync interval")

#: the six metrics, in the guide's order
METRICS: tuple[MetricSpec, ...] = (SYNC_LAG, SYNC_FAILURES, LOCAL_DB_SIZE, QUERY_LATENCY,
                                   SYNC_BANDWIDTH, REPLICA_FRESHNESS)
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)
