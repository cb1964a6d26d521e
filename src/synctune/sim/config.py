"""What one simulation run is: workload, strategy, network, faults; a frozen, validated value."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from synctune.monitoring import AlertThresholds
from synctune.policy import _check
from synctune.policy.errors import InvalidInput, InvalidType
from synctune.sim.choices import WRITE_MODELS as WRITE_MODELS  # defined apart for --help

if TYPE_CHECKING:
    from synctune.sim.run.strategies import StrategyChoice


#: longest simulated time (s): 30 days; beyond that, change drifts outside any workload model
MAX_DURATION_S = 30 * 86400.0
#: most replica nodes of a generated scenario (a fleet; more is a different question)
MAX_NODES = 100_000


@dataclass(frozen=True, slots=True)
class Outage:
    """The primary is unreachable from ``node`` (every node when ``None``) in ``[start, end)`` s."""

    start: float
    end: float
    node: str | None = None

    def __post_init__(self) -> None:
        _check.real("outage start", self.start, minimum=0.0)
        _check.real("outage end", self.end, minimum=self.start, strict=True)
        if self.node is not None and (not isinstance(self.node, str) or not self.node):
            raise InvalidType(f"outage node must be a node name or None, got {self.node!r}")

    def covers(self, node: str, t: float) -> bool:
        """True when ``node`` cannot reach the primary at time ``t`` (s)."""
        return self.start <= t < self.end and (self.node is None or self.node == node)


def _opt_real(name: str, value: object, *, minimum: float = 0.0, strict: bool = False) -> None:
    if value is not None:
        _check.real(name, value, minimum=minimum, strict=strict)


@dataclass(frozen=True, slots=True)
class SimConfig:
    """One simulation run. Times in seconds unless the name says otherwise.

    Attributes:
        scenario: built-in workload (``web``, ``serverless``, ``microservice``).
        trace: path of a trace file (CSV or parquet); overrides ``scenario`` when given.
        strategy: strategy spec (``periodic:60``, ``on-write``, ``adaptive``, ``a+b``, ``oracle``),
            a :class:`~synctune.policy.SyncStrategy` subclass (built with no arguments) or a
            factory ``f(freshness, rng)`` returning a new strategy object for each node.
        freshness: target staleness D (s) given to the strategy and used by the oracle.
        duration: simulated time (s); ``None`` = scenario default (or the trace's last time).
        rtt_ms: median network round trip (ms); ``None`` = scenario default; 0 = instant syncs.
        seed: seed of every random stream (workload, network, faults, strategies).
        nodes: number of replica nodes for generated scenarios (``None`` = scenario default).
        write_model: ``delegated`` or ``local-first`` (``None`` = scenario default).
        read_your_writes: delegated writes pull the replica up to the write before returning.
        rtt_jitter: spread (sigma of the log) of the round trip around its median.
        bandwidth: bytes per second between node and primary; ``None`` = unlimited.
        failure_prob: probability that a sync attempt fails on its own (network error).
        outages: windows when the primary is unreachable.
        sync_timeout: deadline (s) of a sync attempt when the strategy gives none.
        sync_overhead_bytes: bytes of protocol per sync (an empty pull still costs them).
        apply_s_per_change: seconds to apply one pulled change to the local file.
        read_hold: reads wait while a sync applies pulled changes.
        sync_blocks_reads: reads after an app sync point (or a cold start) wait for the sync
            serving it, the first attempt that starts within ``sync_timeout`` of it (the app
            awaits ``sync()``).
        query_ms: median latency of a local read (ms); log-normal with sigma 0.5.
        base_db_bytes: size of the replica at start (``None`` = scenario default).
        sample_interval: spacing (s) of the metric time series and the alert evaluation.
        thresholds: alert thresholds (the guide's by default).
        detail: keep the per-read, per-write and per-sync tables (``SimResult.reads``,
            ``writes``, ``syncs``); off, a run keeps only its summary, metrics and alerts, and
            its memory does not grow with its reads (turn it off for fleet-size runs).
        detail_dir: directory the detail tables go to, as parquet written in chunks;
            ``None`` = kept in memory with the result (nothing written to disk).
        max_metric_rows: most rows (nodes x samples) of the metric series; past it the series
            is thinned evenly (alerts are still evaluated every ``sample_interval``).
        announce_delay_ms: median delay (ms) of a commit announcement from publisher to
            replica (``announced``); log-normal, with rare TCP retransmissions (docs/fleet.md).
        announce_loss: share of announcements (and heartbeats) lost per replica, in [0, 1).
        announce_outages: silent windows ``(start_s, end_s)`` of the announcement channel.
        watcher_long_poll: the primary holds the watcher's pulls until a commit lands.
    """

    scenario: str = "web"
    trace: str | None = None
    strategy: StrategyChoice = "adaptive"
    freshness: float = 30.0
    duration: float | None = None
    rtt_ms: float | None = None
    seed: int = 0
    nodes: int | None = None
    write_model: str | None = None
    read_your_writes: bool = True
    rtt_jitter: float = 0.2
    bandwidth: float | None = 12.5e6
    failure_prob: float = 0.0
    outages: tuple[Outage, ...] = ()
    sync_timeout: float = 30.0
    sync_overhead_bytes: int = 400
    apply_s_per_change: float = 2e-5
    read_hold: bool = False
    sync_blocks_reads: bool = True
    query_ms: float = 0.3
    base_db_bytes: int | None = None
    sample_interval: float = 10.0
    thresholds: AlertThresholds = field(default_factory=AlertThresholds)
    detail: bool = True
    detail_dir: str | None = None
    max_metric_rows: int = 2_000_000
    announce_delay_ms: float = 1.0
    announce_loss: float = 0.0
    announce_outages: tuple[tuple[float, float], ...] = ()
    watcher_long_poll: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.scenario, str) or not self.scenario:
            raise InvalidType(f"scenario must be a scenario name, got {self.scenario!r}")
        if self.trace is not None and not isinstance(self.trace, str):
            object.__setattr__(self, "trace", _path(self.trace))
        # fail at construction, not deep inside a run (import here: strategies imports policy)
        from synctune.sim.run.strategies import check_choice

        check_choice(self.strategy, _check.real("freshness", self.freshness, minimum=0.0,
                                                strict=True))
        _check.real("freshness", self.freshness, minimum=0.0, strict=True)
        if self.duration is not None:
            _check.real("duration", self.duration, minimum=0.0, strict=True,
                        maximum=MAX_DURATION_S)
        _opt_real("rtt_ms", self.rtt_ms)
        _check.count("seed", self.seed)
        if self.nodes is not None and not 1 <= _check.count("nodes", self.nodes) <= MAX_NODES:
            raise InvalidInput(f"nodes must be in 1..{MAX_NODES:,}, got {self.nodes!r}")
        if self.write_model is not None and self.write_model not in WRITE_MODELS:
            raise InvalidInput(f"write_model must be one of {', '.join(WRITE_MODELS)}, "
                             f"got {self.write_model!r}")
        self._check_network()
        self._check_outputs()
        self._check_announcements()

    def _check_network(self) -> None:
        _check.flag("read_your_writes", self.read_your_writes)
        _check.real("rtt_jitter", self.rtt_jitter, minimum=0.0)
        _opt_real("bandwidth", self.bandwidth, strict=True)
        _check.real("failure_prob", self.failure_prob, minimum=0.0, maximum=1.0)
        outages = tuple(self.outages)
        for o in outages:
            if not isinstance(o, Outage):
                raise InvalidType(f"outages must be Outage values, got {o!r}")
        object.__setattr__(self, "outages", outages)
        _check.real("sync_timeout", self.sync_timeout, minimum=0.0, strict=True)
        _check.count("sync_overhead_bytes", self.sync_overhead_bytes)
        _check.real("apply_s_per_change", self.apply_s_per_change, minimum=0.0)

    def _check_outputs(self) -> None:
        _check.flag("read_hold", self.read_hold)
        _check.flag("sync_blocks_reads", self.sync_blocks_reads)
        _check.real("query_ms", self.query_ms, minimum=0.0)
        if self.base_db_bytes is not None:
            _check.count("base_db_bytes", self.base_db_bytes)
        _check.real("sample_interval", self.sample_interval, minimum=0.0, strict=True)
        if not isinstance(self.thresholds, AlertThresholds):
            raise InvalidType(f"thresholds must be AlertThresholds, got {self.thresholds!r}")
        _check.flag("detail", self.detail)
        if self.detail_dir is not None and not isinstance(self.detail_dir, str):
            object.__setattr__(self, "detail_dir", _path(self.detail_dir, "detail_dir"))
        if _check.count("max_metric_rows", self.max_metric_rows) < 1:
            raise InvalidInput(f"max_metric_rows must be >= 1, got {self.max_metric_rows!r}")

    def _check_announcements(self) -> None:
        _check.real("announce_delay_ms", self.announce_delay_ms, minimum=0.0)
        _check.real("announce_loss", self.announce_loss, minimum=0.0, maximum=1.0,
                    strict_maximum=True)
        from synctune.sim.run.channel import check_outages

        object.__setattr__(self, "announce_outages", check_outages(self.announce_outages))
        _check.flag("watcher_long_poll", self.watcher_long_poll)

    @property
    def bytes_per_second(self) -> float:
        """Bandwidth in bytes/s (infinite when unlimited)."""
        return math.inf if self.bandwidth is None else float(self.bandwidth)


def _path(value: object, name: str = "trace") -> str:
    import os

    if isinstance(value, os.PathLike):
        return os.fsdecode(value)
    raise InvalidType(f"{name} must be a file path or None, got {value!r}")
