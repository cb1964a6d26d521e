"""The guide's six replica metrics, and the series the controller exports beside them.

One definition each (name, unit, kind, labels, buckets) serves the simulator's time series,
the live controller's Prometheus export, the alert rules and the Grafana dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("gauge", "counter", "histogram")

#: latency buckets of local reads (s): a local SQLite read is well under the guide's 10 ms
QUERY_LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                         0.1, 0.25, 1.0)
#: duration buckets of a sync (push then pull, s): a round trip up to a timed-out attempt
SYNC_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One monitored quantity.

    Attributes:
        name: metric name (the Prometheus name is derived from it, see ``prometheus_name``).
        unit: unit of the value (``seconds``, ``bytes``, ``count``, ``ratio``, ``info``).
        kind: ``gauge``, ``counter`` or ``histogram``.
        description: what is measured, in the simulator's and the controller's shared terms.
        healthy: the guide's threshold for a healthy value, as text.
        labels: Prometheus label names of the exported series.
        buckets: upper bounds of a histogram's buckets, in ``unit``.
    """

    name: str
    unit: str
    kind: str
    description: str
    healthy: str = "-"
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if (self.kind == "histogram") != bool(self.buckets):
            raise ValueError(f"metric {self.name!r}: buckets go with kind histogram")
        if list(self.buckets) != sorted(set(self.buckets)):
            raise ValueError(f"metric {self.name!r}: buckets must increase, got {self.buckets}")

    @property
    def prometheus_name(self) -> str:
        """Name under which the controller exports it (a histogram adds ``_bucket``,
        ``_sum`` and ``_count`` to it)."""
        suffix = {"seconds": "_seconds", "bytes": "_bytes"}.get(self.unit, "")
        if self.name.endswith(suffix):
            suffix = ""
        total = "_total" if self.kind == "counter" else ""
        return f"synctune_{self.name}{suffix}{total}"

    @property
    def series(self) -> tuple[str, ...]:
        """Every sample name a scrape shows for it."""
        base = self.prometheus_name
        if self.kind == "histogram":
            return (f"{base}_bucket", f"{base}_sum", f"{base}_count")
        return (base,)


SYNC_LAG = MetricSpec("sync_lag", "seconds", "gauge",
                      "Time since the last successful sync ended.", "< 60")
SYNC_FAILURES = MetricSpec("sync_failures", "count", "counter",
                           "Failed sync attempts since start, by failure kind.", "0",
                           labels=("kind",))
LOCAL_DB_SIZE = MetricSpec("local_db_size", "bytes", "gauge",
                           "Size of the local replica file(s).", "-")
QUERY_LATENCY = MetricSpec("query_latency", "seconds", "histogram",
                           "Latency of local reads.", "< 0.010",
                           buckets=QUERY_LATENCY_BUCKETS)
SYNC_BANDWIDTH = MetricSpec("sync_bandwidth", "bytes", "counter",
                            "Bytes moved by syncs, by phase (direction push or pull).", "-",
                            labels=("direction",))
REPLICA_AGE = MetricSpec(
    "replica_age", "seconds", "gauge",
    "Current staleness: now minus the primary commit time of the oldest write not yet visible "
    "here (0 when none); live, bounded above by the time since the last successful pull began.",
    "< sync interval")

#: the six metrics, in the guide's order
METRICS: tuple[MetricSpec, ...] = (SYNC_LAG, SYNC_FAILURES, LOCAL_DB_SIZE, QUERY_LATENCY,
                                   SYNC_BANDWIDTH, REPLICA_AGE)
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)

# ---- exported beside the six: what the alert rules and the dashboard also need
SYNC_DURATION = MetricSpec("sync_duration", "seconds", "histogram",
                           "Duration of sync attempts (push then pull), failed ones included.",
                           buckets=SYNC_DURATION_BUCKETS)
LAST_SYNC = MetricSpec(
    "last_sync_timestamp", "seconds", "gauge",
    "Unix time of the last successful pull, from the engine when it records one (so "
    "time() minus it is the sync lag, right across restarts).")
SYNC_INTERVAL = MetricSpec("sync_interval", "seconds", "gauge",
                           "Periodic sync interval in force; absent when there is none.")
SYNCS = MetricSpec("syncs", "count", "counter", "Successful syncs since start.")
UNPUSHED_WRITES = MetricSpec("unpushed_writes", "count", "gauge",
                             "Local changes not yet confirmed pushed, data at risk (the "
                             "engine's backlog where the adapter counts it).", "0")
READS = MetricSpec("reads", "count", "counter", "Local reads reported since start.")
READS_OVER_FRESHNESS = MetricSpec(
    "reads_over_freshness", "count", "counter",
    "Reads made while the replica's staleness bound exceeded the freshness target D (an upper "
    "bound on the reads older than D).")
READ_WAITS = MetricSpec(
    "read_waits", "count", "counter",
    "Reads held for a fresh pull (bounded-staleness reads, read-wait), by outcome: fresh (a "
    "pull started after the read succeeded in time) or waited_out (the wait ran out or the "
    "pull failed, and the read ran on older data).", labels=("outcome",))
FRESHNESS_TARGET = MetricSpec("freshness_target", "seconds", "gauge",
                              "The freshness target D; absent when none is set.")
ALERT_FIRING = MetricSpec("alert_firing", "count", "gauge",
                          "1 while the in-process evaluator has the alert firing.",
                          labels=("alertname",))
CHECKPOINTS = MetricSpec("checkpoints", "count", "counter",
                         "Checkpoints of the local write-ahead log since start, by outcome "
                         "(done, or put off while reads were open); they keep local_db_size "
                         "bounded.", labels=("outcome",))
BUILD_INFO = MetricSpec("build_info", "info", "gauge",
                        "Always 1; the labels say which synctune and Python export.",
                        labels=("version", "python"))

ANNOUNCE_HINTS = MetricSpec("announce_hints", "count", "counter",
                            "Commit announcements heard from others, by kind (commit, heartbeat).",
                            labels=("kind",))
ANNOUNCE_HINT_LAG = MetricSpec(
    "announce_hint_lag", "seconds", "histogram",
    "How old an announced commit was when its hint was heard (sender's clock to ours).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0))
ANNOUNCE_FALLBACK_ACTIVE = MetricSpec(
    "announce_fallback_active", "count", "gauge",
    "1 while the strategy syncs on its fallback tuner (channel down or watcher silent), else 0.",
    "0")
ANNOUNCE_CHANNEL_UP = MetricSpec("announce_channel_up", "count", "gauge",
                                 "1 while the announcement channel is connected, else 0.", "1")
ANNOUNCE_PUBLISHED = MetricSpec("announce_published", "count", "counter",
                                "Announcements this process published, by outcome (sent, "
                                "dropped: queue full or channel failing).", labels=("outcome",))
ANNOUNCE_JUNK = MetricSpec("announce_junk", "count", "counter",
                           "Messages on the channel that were not valid hints (dropped).")
ANNOUNCE_LOST = MetricSpec("announce_lost", "count", "counter",
                           "Others' hints found lost on the way (a gap in a sender's numbers); "
                           "each made the replica pull once.")
#: exported only by a controller with an announcer
ANNOUNCE_EXPORTED: tuple[MetricSpec, ...] = (ANNOUNCE_HINTS, ANNOUNCE_HINT_LAG,
                                             ANNOUNCE_FALLBACK_ACTIVE, ANNOUNCE_CHANNEL_UP,
                                             ANNOUNCE_PUBLISHED, ANNOUNCE_JUNK, ANNOUNCE_LOST)

#: everything the live controller exports, the six first
EXPORTED: tuple[MetricSpec, ...] = (*METRICS, SYNC_DURATION, LAST_SYNC, SYNC_INTERVAL, SYNCS,
                                    UNPUSHED_WRITES, READS, READS_OVER_FRESHNESS, READ_WAITS,
                                    FRESHNESS_TARGET, CHECKPOINTS, ALERT_FIRING, BUILD_INFO)
