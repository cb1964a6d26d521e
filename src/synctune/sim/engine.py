"""``simulate(config)``: run one strategy over a workload on the simulated clock (SimPy)."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import simpy

from synctune.policy import SyncStrategy
from synctune.policy.errors import InvalidInput
from synctune.sim import fleet_channel, strategies
from synctune.sim import rng as streams
from synctune.sim.config import SimConfig
from synctune.sim.detail import DetailFrames, DetailSink, DetailWriter
from synctune.sim.monitor import NodeHistory, alert_events, metric_series, sample_grid
from synctune.sim.network import Link
from synctune.sim.node import COLD, READ, REQUEST, WRITE, ReplicaNode
from synctune.sim.notify import Notify
from synctune.sim.oracle import Oracle, oracle_pulls
from synctune.sim.primary import PrimaryLog
from synctune.sim.result import SYNC_COLUMNS, SimResult
from synctune.sim.scenarios import scenario
from synctune.sim.sketch import QuantileSketch
from synctune.sim.staleness import staleness
from synctune.sim.subscriber import SubscriberNode
from synctune.sim.tally import NodeOutcome, Tally
from synctune.sim.trace import load_trace
from synctune.sim.visibility import CommitLog, node_visibility, track_slowest
from synctune.sim.workload import PRIMARY, NodeLoad, Workload

_READ_SIGMA = 0.5  # log-normal spread of local read latency
#: reads one process holds at a time when a run is split into chunks of nodes (8 bytes each;
#: each chunk builds the workload again, so not too few)
CHUNK_READS = 1 << 25
_ORACLE_MARGIN_S = 0.05  # the runnable oracle's allowance for transfer and apply
#: reads reach the strategy in batches of at most this span (s), counted at the batch's last
#: read: read-aware strategies learn rates, which a second's delay does not change, and a busy
#: node costs one event per second instead of one per read
READ_BATCH_S = 1.0


def read_batches(reads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reads grouped per ``READ_BATCH_S`` slot: each slot's last read time and its read count."""
    if reads.size == 0:
        return np.empty(0), np.empty(0, dtype=np.int64)
    slot = np.floor(reads / READ_BATCH_S)
    last = np.flatnonzero(np.concatenate([slot[1:] != slot[:-1], [True]]))
    counts = np.diff(np.concatenate([[-1], last]))
    return reads[last], counts


@dataclass(frozen=True, slots=True)
class Setting:
    """Scenario defaults filled into a config."""

    duration: float
    rtt_ms: float
    write_model: str
    base_db_bytes: int
    nodes: int


def resolve(config: SimConfig) -> Setting:
    """The config's settings with the scenario's defaults filled in."""
    sc = scenario(config.scenario if config.trace is None else "web")
    return Setting(
        duration=config.duration if config.duration is not None else sc.duration,
        rtt_ms=config.rtt_ms if config.rtt_ms is not None else sc.rtt_ms,
        write_model=config.write_model if config.write_model is not None else sc.write_model,
        base_db_bytes=(config.base_db_bytes if config.base_db_bytes is not None
                       else (0 if config.trace is not None else sc.base_db_bytes)),
        nodes=config.nodes if config.nodes is not None else sc.nodes,
    )


def build_workload(config: SimConfig, *, only: range | None = None) -> Workload:
    """The workload ``config`` names (trace or scenario), cut to its duration.

    Depends only on the workload fields and the seed, never on the strategy: every strategy
    run with the same seed sees the same workload. With ``only`` (node indices, generated
    scenarios) the other nodes come without reads; everything else is the same.
    """
    if config.trace is not None:
        wl = load_trace(config.trace)
        return wl.clipped(config.duration) if config.duration is not None else wl
    st = resolve(config)
    sc = scenario(config.scenario)
    return sc.build(st.duration, st.nodes, streams.generator(config.seed, "workload"),
                    only=only)


def node_chunks(config: SimConfig, reads: int) -> list[range]:
    """Ranges of nodes of a generated scenario, each with about ``reads`` reads.

    With delegated writes a run splits by nodes (each chunk builds the workload with only its
    nodes' reads); with local-first writes it runs in one piece.
    """
    if config.trace is not None:
        raise InvalidInput("a trace runs in one piece")
    st = resolve(config)
    whole = [range(st.nodes)]
    if st.write_model == "local-first":
        return whole
    read_rate, _ = scenario(config.scenario).rates(st.nodes)
    per_node = read_rate * st.duration / st.nodes
    size = max(1, int(reads // max(per_node, 1.0)))
    if size >= st.nodes:
        return whole
    return [range(a, min(a + size, st.nodes)) for a in range(0, st.nodes, size)]


def simulate(config: SimConfig, *, workload: Workload | None = None,
             progress: Callable[[int], object] | None = None) -> SimResult:
    """Run ``config.strategy`` over the workload; return tables and summary.

    Args:
        config: the run.
        workload: the workload to use instead of building it from ``config`` (lets a comparison
            build it once); must be the one ``config`` describes for results to mean anything.
        progress: called with 1 as each node is done (a progress bar, say).
    """
    if not isinstance(config, SimConfig):
        raise TypeError(f"config must be a SimConfig, got {config!r}")
    strategies.check_choice(config.strategy, config.freshness)
    spec = strategies.name_of(config.strategy)
    st = resolve(config)
    if workload is not None and not isinstance(workload, Workload):
        raise TypeError(f"workload must be a Workload, got {workload!r}")
    chunks: list[range | None] = [None]
    if workload is None and config.trace is None:
        chunks = list(node_chunks(config, CHUNK_READS))
        if len(chunks) == 1:
            chunks = [None]
    detail_dir: Path | None = None
    frames: DetailFrames | None = None
    writer: DetailSink | None = None
    if config.detail and config.detail_dir is not None:
        detail_dir = Path(config.detail_dir)
        writer = DetailWriter(detail_dir)
    elif config.detail:
        # no directory: kept in memory (what a notebook looks at; no files left behind)
        writer = frames = DetailFrames()
    try:
        sink: _Sink | None = None
        run: _Run | None = None
        for chunk in chunks:
            wl = workload if workload is not None else build_workload(config, only=chunk)
            run = _prepare(config, st, wl, spec, run)
            sink = sink or _Sink(run, writer, progress)
            run.run_nodes(range(len(wl.names)) if chunk is None else chunk, sink)
        assert sink is not None and run is not None
        sink.extra = run.channel_counts()
        if writer is not None:
            writer.add("writes", run.writes_table(sink))
            writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return sink.result(detail_dir, frames.tables if frames is not None else None)


def simulate_nodes(config: SimConfig, nodes: range) -> Shard:
    """Run only ``nodes`` (indices) of ``config``'s generated scenario, without detail: one
    shard of a run (see :mod:`synctune.sim.shards`). Delegated writes only."""
    st = resolve(config)
    if config.trace is not None or st.write_model != "delegated":
        raise InvalidInput("only a generated scenario with delegated writes runs in shards")
    if config.detail:
        raise InvalidInput("detail tables are written by an unsharded run only")
    spec = strategies.name_of(config.strategy)
    # chunks of the shard's nodes in turn, sharing the write plan (as an unsharded run does)
    size = len(node_chunks(config, CHUNK_READS)[0])
    run: _Run | None = None
    sink: _Sink | None = None
    for a in range(nodes.start, nodes.stop, size):
        chunk = range(a, min(a + size, nodes.stop))
        run = _prepare(config, st, build_workload(config, only=chunk), spec, run)
        sink = sink or _Sink(run, None)
        run.run_nodes(chunk, sink)
    if sink is None:
        raise InvalidInput(f"nodes must be a non-empty range, got {nodes!r}")
    assert run is not None
    sink.extra = run.channel_counts()
    return sink.shard()


def _prepare(config: SimConfig, st: Setting, wl: Workload, spec: str,
             prior: _Run | None = None) -> _Run:
    for outage in config.outages:
        if outage.node is not None and outage.node not in wl.nodes:
            raise InvalidInput(f"outage node must be one of {', '.join(wl.names)} or None, "
                             f"got {outage.node!r}")
    duration = float(config.duration) if config.duration is not None else wl.duration
    return _Run(config, st, wl, duration, spec, prior)


@dataclass(frozen=True)
class Shard:
    """What a run of some of the nodes comes to: their tally, metric series and alerts."""

    tally: Tally
    metrics: pd.DataFrame
    alerts: list[dict[str, object]]
    primary_writes: int
    duration: float
    #: the announcement channel's counts: watcher_syncs, announcements, fallback_syncs
    extra: dict[str, int] = dataclasses.field(default_factory=dict)


class _Sink:
    """Where nodes' outcomes go as they are done: the tally, metric series, alert events, the
    detail tables, and (with detail) the slowest visibility of every commit so far."""

    def __init__(self, run: _Run, writer: DetailSink | None,
                 progress: Callable[[int], object] | None = None) -> None:
        cfg = run.cfg
        self.progress = progress
        self.cfg, self.spec, self.write_model = cfg, run.spec, run.st.write_model
        self.duration = run.duration
        self.primary_writes = int(run.wl.primary_writes.size)
        self.grid = sample_grid(run.duration, cfg.sample_interval)
        self.series = _series_grid(self.grid, len(run.names), cfg)
        self.writer = writer
        self.tally = Tally()
        self.metric_parts: list[pd.DataFrame] = []
        self.alert_rows: list[dict[str, object]] = []
        self.worst: np.ndarray | None = None
        self.unseen: np.ndarray | None = None
        self.extra: dict[str, int] = {}

    def shard(self) -> Shard:
        metrics = (pd.concat(self.metric_parts, ignore_index=True) if self.metric_parts
                   else pd.DataFrame())
        return Shard(self.tally, metrics, self.alert_rows, self.primary_writes, self.duration,
                     self.extra)

    def result(self, detail_dir: Path | None,
               tables: dict[str, pd.DataFrame] | None) -> SimResult:
        return finish(self.cfg, self.spec, self.write_model, [self.shard()], detail_dir, tables)


def finish(cfg: SimConfig, spec: str, write_model: str, shards: list[Shard],
           detail_dir: Path | None = None,
           tables: dict[str, pd.DataFrame] | None = None) -> SimResult:
    """The summary step: shards (in node order) merged into one result."""
    tally = Tally()
    for sh in shards:
        tally.merge(sh.tally)
    metrics = pd.concat([sh.metrics for sh in shards if not sh.metrics.empty],
                        ignore_index=True)
    alerts = pd.DataFrame([a for sh in shards for a in sh.alerts],
                          columns=["t", "node", "name", "severity", "state", "value"])
    alerts = alerts.sort_values(["t", "node"], kind="stable", ignore_index=True)
    summary = tally.summary(
        strategy=spec, workload=cfg.trace if cfg.trace is not None else cfg.scenario,
        write_model=write_model, duration=shards[0].duration, freshness=cfg.freshness,
        seed=cfg.seed, primary_writes=shards[0].primary_writes)
    summary = fleet_channel.with_counts(summary, [sh.extra for sh in shards])
    return SimResult(cfg, summary, metrics, alerts, detail_dir, tables)


def _series_grid(grid: np.ndarray, nodes: int, cfg: SimConfig) -> tuple[np.ndarray, float]:
    """The metric series' sample times and window: the alert grid, thinned evenly when
    nodes x samples would exceed ``max_metric_rows``."""
    step = cfg.sample_interval
    k = math.ceil(nodes * grid.size / cfg.max_metric_rows)
    if k <= 1:
        return grid, step
    thin = grid[k - 1::k]
    if thin.size == 0 or thin[-1] < grid[-1]:
        thin = np.append(thin, grid[-1])
    return thin, step * k


def _upto(times: np.ndarray, end: float) -> np.ndarray:
    return times[: np.searchsorted(times, end, side="right")]


@dataclass(frozen=True, slots=True)
class _Attempts:
    """One node's sync attempts as arrays (in start order)."""

    start: np.ndarray
    end: np.ndarray
    ok: np.ndarray
    nbytes: np.ndarray
    apply_start: np.ndarray

    @classmethod
    def of(cls, rows: list[tuple[Any, ...]]) -> _Attempts:
        if not rows:
            e = np.empty(0)
            return cls(e, e, np.empty(0, dtype=bool), np.empty(0, dtype=np.int64), e)
        start, end, ok, _, _, _, nbytes, _, apply_start = zip(*rows, strict=True)
        return cls(np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64),
                   np.asarray(ok, dtype=bool), np.asarray(nbytes, dtype=np.int64),
                   np.asarray(apply_start, dtype=np.float64))


#: what chunks of one delegated run share: the write plan, the commit log and its order
_SHARED = ("w_latency", "w_commit", "w_ok", "w_event", "ryw_reach", "ext", "log", "ct", "co",
           "cr", "origin_t", "cum_bytes", "by_origin", "origin_bounds", "commit_log",
           "channel")


class _Run:
    """One simulation: set-up, the SimPy run, then each node reduced to its outcome.

    Delegated writes make the primary's log known in advance, so nodes never meet: each runs in
    its own SimPy environment and is reduced and dropped before the next starts. Local-first
    nodes push into the log during the run, so they run together, then are reduced one by one.
    """

    def __init__(self, cfg: SimConfig, st: Setting, wl: Workload, duration: float,
                 spec: str, prior: _Run | None = None) -> None:
        self.cfg, self.st, self.wl, self.duration, self.spec = cfg, st, wl, duration, spec
        self.names = wl.names
        self.local_first = st.write_model == "local-first"
        self.ryw = cfg.read_your_writes and not self.local_first
        self.oracle = strategies.is_oracle(cfg.strategy)
        # commit announcements (announced, notify): who publishes what, and the watcher
        self.channel = fleet_channel.FleetChannel.of(cfg)
        seed = cfg.seed
        self.links = [Link(name, st.rtt_ms, cfg.rtt_jitter, cfg.bytes_per_second,
                           cfg.failure_prob, cfg.outages, streams.generator(seed, "network", i),
                           streams.generator(seed, "faults", i))
                      for i, name in enumerate(self.names)]
        if prior is not None and not self.local_first:
            # an earlier chunk of the same run: the same writes, so the same plan and log
            for name in _SHARED:
                setattr(self, name, getattr(prior, name))
        else:
            self._plan_writes()
            self.log: PrimaryLog | None = None

    # ------------------------------------------------------------------ set-up
    def _plan_writes(self) -> None:
        """Delegated writes: commit, acknowledgement and outcome are known before the run."""
        cfg, wl = self.cfg, self.wl
        ext_t = [wl.primary_writes]
        ext_b = [wl.primary_bytes]
        ext_origin = [np.full(wl.primary_writes.size, -1)]
        ext_ref = [np.arange(wl.primary_writes.size)]
        self.w_latency: list[np.ndarray] = []
        self.w_commit: list[np.ndarray] = []
        self.w_ok: list[np.ndarray] = []
        self.w_event: list[np.ndarray] = []
        self.ryw_reach: list[np.ndarray | None] = []
        for i, ld in enumerate(wl.nodes.values()):
            n = ld.writes.size
            wrng = streams.generator(cfg.seed, "writes", i)
            if self.local_first:
                ok = np.ones(n, dtype=bool)
                ev_w = ld.writes
                latency = cfg.query_ms * np.exp(_READ_SIGMA * wrng.standard_normal(n))
                commit = np.full(n, np.nan)
                self.ryw_reach.append(None)
            else:
                link = self.links[i]
                rtt1 = link.rtts(n, wrng)
                rtt2 = link.rtts(n, wrng) if self.ryw else np.zeros(n)
                ok = ~link.down_mask(ld.writes)
                commit = np.where(ok, ld.writes + rtt1 / 2, np.nan)
                ack = ld.writes + rtt1 + rtt2
                latency = np.where(ok, (ack - ld.writes) * 1000.0, np.nan)
                ev_w = ack
                ext_t.append(commit[ok])
                ext_b.append(ld.write_bytes[ok])
                ext_origin.append(np.full(int(ok.sum()), i))
                ext_ref.append(np.flatnonzero(ok))
                self.ryw_reach.append(commit if self.ryw else None)
            self.w_latency.append(latency)
            self.w_commit.append(commit)
            self.w_ok.append(ok)
            self.w_event.append(ev_w)
        self.ext: tuple[np.ndarray, ...] | None = (
            np.concatenate(ext_t), np.concatenate(ext_b).astype(np.int64),
            np.concatenate(ext_origin).astype(np.int32), np.concatenate(ext_ref).astype(np.int32))

    def _events(self, i: int, single_reads: bool = False,
                ) -> tuple[list[float], list[int], list[int]]:
        """Node ``i``'s app events for its strategy, in time order (a write before a request
        at a tie); for writes the ref is the write's index, for reads the batch's read count,
        or with ``single_reads`` (a strategy asked before each read) one read per event and
        its index."""
        ld, end = self.wl.nodes[self.names[i]], self.duration
        # what the app did up to the end; a write's acknowledgement may land after it
        wi = np.flatnonzero(self.w_ok[i] & (ld.writes <= end))
        syncs, cold = _upto(ld.syncs, end), _upto(ld.cold_starts, end)
        if single_reads:
            rb_t = _upto(ld.reads, end)
            rb_n = np.arange(rb_t.size)
        else:
            rb_t, rb_n = read_batches(_upto(ld.reads, end))
        t = np.concatenate([self.w_event[i][wi], syncs, cold, rb_t])
        k = np.concatenate([np.full(wi.size, WRITE), np.full(syncs.size, REQUEST),
                            np.full(cold.size, COLD), np.full(rb_t.size, READ)])
        j = np.concatenate([wi, np.zeros(syncs.size + cold.size, dtype=int), rb_n])
        order = np.lexsort((k, t))
        return t[order].tolist(), k[order].tolist(), j[order].tolist()

    def _known_commits(self, i: int) -> tuple[np.ndarray, float]:
        """Commits node ``i`` must see, known in advance (local-first writes of other nodes
        counted as if pushed at once), and how early a pull must start to show them in time
        (a slow round trip, 3 sigma, plus transfer and apply)."""
        if self.local_first:
            assert self.ext is not None
            known = [self.ext[0]] + [ld.writes for j, ld in enumerate(self.wl.nodes.values())
                                     if j != i]
            commits = np.sort(np.concatenate(known))
        else:
            commits = self.ct  # known in advance, sorted before the nodes run
        # start early enough for a slow round trip (3 sigma) plus transfer and apply; an
        # instant network needs no lead, and then the plan is exactly the oracle's count
        cfg = self.cfg
        instant = (self.links[i].median_rtt == 0.0 and cfg.bandwidth is None
                   and cfg.apply_s_per_change == 0.0)
        rounds = 2 if self.local_first else 1
        lead = 0.0 if instant else (rounds * self.links[i].median_rtt
                                    * math.exp(3 * cfg.rtt_jitter) + _ORACLE_MARGIN_S)
        return commits, lead

    def _oracle(self, i: int) -> Oracle:
        """The runnable oracle for node ``i``: plans from commits known in advance, each pull
        started early enough to be visible before the read that needs it."""
        commits, lead = self._known_commits(i)
        free_t, free_reach = self._free_pulls(i)
        pulls = oracle_pulls(commits, self.wl.nodes[self.names[i]].reads, self.cfg.freshness,
                             start_reach=-math.inf, free_t=free_t, free_reach=free_reach,
                             lag=lead)
        return Oracle(pulls, lead=lead)

    def _free_pulls(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        reach = self.ryw_reach[i]
        if reach is None:
            return np.empty(0), np.empty(0)
        ok = self.w_ok[i]
        ack = self.wl.nodes[self.names[i]].writes[ok] + self.w_latency[i][ok] / 1000.0
        order = np.argsort(ack, kind="stable")
        return ack[order], reach[ok][order]

    def _node(self, env: simpy.Environment, log: PrimaryLog, i: int) -> ReplicaNode:
        """Node ``i`` with a fresh strategy, its process started in ``env``."""
        cfg = self.cfg
        if self.oracle:
            strategy: SyncStrategy = self._oracle(i)
        elif strategies.is_notify(cfg.strategy):
            # learns of commits as they land, and of its reads as they come
            strategy = Notify(cfg.freshness, self._known_commits(i)[1])
        else:
            strategy = strategies.build(cfg.strategy, cfg.freshness,
                                        streams.python_random(cfg.seed, "strategy", i))
        args = (env, i, strategy, self.links[i], log,
                self._events(i, strategy.max_read_wait > 0.0), self.duration)
        kw: dict[str, Any] = dict(
            local_first=self.local_first, write_bytes=self.wl.nodes[self.names[i]].write_bytes,
            ryw_reach=self.ryw_reach[i], timeout=cfg.sync_timeout,
            overhead=cfg.sync_overhead_bytes, apply_s=cfg.apply_s_per_change,
            base_bytes=self.st.base_db_bytes, interval_check=min(1.0, cfg.sample_interval),
            read_batch=READ_BATCH_S)
        node: ReplicaNode
        if self.channel is None and fleet_channel.is_announced(strategy):
            self.channel = fleet_channel.FleetChannel(cfg)  # a factory's: known only now
        if self.channel is not None and not self.channel.published:
            self.channel.before(self, log)
        if self.channel is not None and self.channel.hears(strategy):
            node = SubscriberNode(*args, channel=self.channel.events_for(i, self.duration),
                                  dynamic=self.local_first, **kw)
        else:
            node = ReplicaNode(*args, **kw)
        env.process(node.run())
        return node

    def _ran(self, which: range) -> Iterator[tuple[int, ReplicaNode]]:
        """Nodes ``which`` after their run, one at a time, with the commit log complete."""
        n = len(self.names)
        if not self.local_first:
            if not hasattr(self, "ct"):
                self._commits([])
                # the log from the sorted commits; the unsorted plan is no longer needed
                self.log = PrimaryLog(self.ct, np.diff(self.cum_bytes))
                self.ext = None
            elif self.cfg.detail and self.sink.worst is None:
                self._track_worst()
            log = self.log
            assert log is not None
            for i in which:
                env = simpy.Environment()
                node = self._node(env, log, i)
                env.run()
                yield i, node
            return
        # local-first nodes push into the log they pull from: they run together
        if which != range(n):
            raise InvalidInput("local-first writes run all nodes together, not in shards")
        assert self.ext is not None
        log = self.log = PrimaryLog(self.ext[0], self.ext[1])
        env = simpy.Environment()
        nodes = deque(self._node(env, log, i) for i in range(n))
        if self.channel is not None:
            self.channel.during(self, env, log, list(nodes))
        env.run()
        self._commits(list(nodes))
        for i in range(n):
            yield i, nodes.popleft()

    # --------------------------------------------------------------------- run
    def run_nodes(self, which: range, sink: _Sink) -> None:
        """Run nodes ``which``, each folded into ``sink`` as soon as it is done."""
        self.sink = sink
        for i, node in self._ran(which):
            if self.channel is not None:
                self.channel.ran(node.strategy)
            outcome, metrics, alerts = self._outcome(i, node, sink.grid, sink.series,
                                                     sink.writer)
            sink.tally.add(outcome, self.cfg.freshness)
            sink.metric_parts.append(metrics)
            sink.alert_rows += alerts
            if sink.progress is not None:
                sink.progress(1)

    def channel_counts(self) -> dict[str, int]:
        """The announcement channel's counts (none without one)."""
        return self.channel.counts() if self.channel is not None else {}

    # ---------------------------------------------------------------- results
    def _commits(self, nodes: list[ReplicaNode]) -> None:
        """Every primary commit sorted by commit time, with origin and origin time."""
        assert self.ext is not None
        ext_t, ext_b, ext_origin, ext_ref = self.ext
        t, b, origin, ref = [ext_t], [ext_b], [ext_origin], [ext_ref]
        for i, node in enumerate(nodes):
            pc = node.push_commit
            assert pc is not None  # local-first nodes record their pushes
            ok = ~np.isnan(pc)
            self.w_commit[i] = pc
            t.append(pc[ok])
            b.append(self.wl.nodes[self.names[i]].write_bytes[ok])
            origin.append(np.full(int(ok.sum()), i, dtype=np.int32))
            ref.append(np.flatnonzero(ok).astype(np.int32))
        ct = np.concatenate(t)
        order = np.argsort(ct, kind="stable")
        self.ct = ct[order]
        del ct
        # a fleet's log holds tens of millions of commits: keep it in as few bytes as possible
        self.co = np.concatenate(origin)[order]
        self.cr = np.concatenate(ref)[order]
        self.cum_bytes = np.concatenate([[0], np.cumsum(np.concatenate(b)[order])])
        del order
        # when each write was committed at its origin: the primary's own writes and delegated
        # writes at the primary, local-first writes locally
        self.origin_t = self.ct
        if self.local_first:
            self.origin_t = self.ct.copy()
            for i, ld in enumerate(self.wl.nodes.values()):
                mine = self.co == i
                self.origin_t[mine] = ld.writes[self.cr[mine]]
        self.commit_log = CommitLog.of(self.ct, self.origin_t)
        # commits grouped by origin (-1 = the primary's own): node i's are
        # by_origin[origin_bounds[i + 1]:origin_bounds[i + 2]]
        self.by_origin = np.argsort(self.co, kind="stable").astype(np.int32)
        self.origin_bounds = np.searchsorted(self.co[self.by_origin],
                                             np.arange(-1, len(self.names) + 1))
        if self.cfg.detail and self.sink.worst is None:
            self._track_worst()

    def _track_worst(self) -> None:
        # per commit: slowest other node so far, and whether one has not seen it (chunks
        # of one run share the commits, so these carry over)
        self.sink.worst = np.full(self.ct.size, -np.inf)
        self.sink.unseen = np.zeros(self.ct.size, dtype=bool)

    def _after_app_syncs(self, rt: np.ndarray, ld: NodeLoad, at: _Attempts) -> np.ndarray:
        """When each read runs: a read after an app sync point waits for the attempt serving
        it (the first one starting within the sync timeout of the request) to end."""
        q = np.sort(np.concatenate([ld.syncs, ld.cold_starts]))
        if q.size == 0 or at.start.size == 0:
            return rt
        starts, ends = at.start, at.end
        k = np.searchsorted(starts, q, side="left")
        kk = np.minimum(k, starts.size - 1)
        served = (k < starts.size) & (starts[kk] < q + self.cfg.sync_timeout)
        until = np.maximum.accumulate(np.where(served, ends[kk], q))
        m = np.searchsorted(q, rt, side="right") - 1
        return np.maximum(rt, np.where(m >= 0, until[np.maximum(m, 0)], -np.inf))

    def _timeline(self, node: ReplicaNode) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The node's replica timeline (syncs and read-your-writes pulls), and the bytes each
        read-your-writes pull moved (what it brought beyond what the replica had)."""
        n_sync = len(node.vis_t)
        vis_t = np.concatenate([node.vis_t, node.ryw_t])
        reach = np.concatenate([node.vis_reach, node.ryw_reach])
        order = np.argsort(vis_t, kind="stable")
        vis_t, reach = vis_t[order], reach[order]
        seen = np.maximum.accumulate(reach)
        before = np.concatenate([[-np.inf], seen[:-1]])
        is_ryw = order >= n_sync
        cum = self.cum_bytes
        gained = (cum[np.searchsorted(self.ct, reach[is_ryw], side="right")]
                  - cum[np.searchsorted(self.ct, before[is_ryw], side="right")])
        ryw_bytes = np.empty(len(node.ryw_t), dtype=np.int64)
        ryw_bytes[order[is_ryw] - n_sync] = np.maximum(gained, 0) + self.cfg.sync_overhead_bytes
        return vis_t, seen, ryw_bytes

    @staticmethod
    def _held_reads(rt: np.ndarray, node: ReplicaNode, at: _Attempts,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Reads the strategy held for a pull (bounded-staleness reads): their indices, when
        each ran and whether it ran without that pull. A held read waits for the first attempt
        starting at or after it, at most its longest wait: it runs when the attempt ends (a
        failed one answers it too) or when its wait runs out."""
        idx = np.asarray(node.held, dtype=np.int64)
        r = rt[idx]
        limit = r + np.asarray(node.held_for, dtype=np.float64)
        k = np.searchsorted(at.start, r, side="left")
        kk = np.minimum(k, max(at.start.size - 1, 0))
        answered = k < at.start.size
        end = np.where(answered, at.end[kk] if at.end.size else np.inf, np.inf)
        ran = np.minimum(end, limit)
        fresh = answered & (end <= limit) & (at.ok[kk] if at.ok.size else False)
        return idx, ran, ~fresh

    def _reads(self, i: int, ld: NodeLoad, at: _Attempts, vis_t: np.ndarray,
               reach: np.ndarray, must_see: np.ndarray, node: ReplicaNode,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """When node ``i``'s reads ran, their staleness and latency (s), vectorised; and for
        the reads held for a pull, how long each waited (s) and how many ran without it."""
        cfg, rt = self.cfg, ld.reads
        lrng = streams.generator(cfg.seed, "latency", i)
        lat = (cfg.query_ms / 1000.0 * np.exp(
            _READ_SIGMA * lrng.standard_normal(rt.size, dtype=np.float32))).astype(np.float64)
        # the oracle ignores app sync points, so nothing waits on them
        blocks = cfg.sync_blocks_reads and not self.oracle
        run_at = self._after_app_syncs(rt, ld, at) if blocks else rt
        held_wait, unserved = np.empty(0), 0
        if node.held:
            idx, ran, missed = self._held_reads(rt, node, at)
            if run_at is rt:
                run_at = rt.copy()
            run_at[idx] = np.maximum(run_at[idx], ran)
            held_wait = ran - rt[idx]  # the wait for the pull (an app sync may add its own)
            unserved = int(missed.sum())
        stale = staleness(run_at, vis_t, reach, must_see)
        lat = lat + (run_at - rt)
        if cfg.read_hold and at.ok.any():
            a0, a1 = at.apply_start[at.ok], at.end[at.ok]
            k = np.searchsorted(a0, rt, side="right") - 1
            held = (k >= 0) & (rt < a1[np.maximum(k, 0)])
            lat = lat + np.where(held, a1[np.maximum(k, 0)] - rt, 0.0)
        return run_at, stale, lat, held_wait, unserved

    def _visibility(self, i: int, vis_t: np.ndarray,
                    reach: np.ndarray) -> tuple[QuantileSketch, int]:
        """Delays (s) until other origins' commits became visible at node ``i``, for those that
        did, and how many never did (see :mod:`synctune.sim.visibility`)."""
        own = np.sort(self.by_origin[self.origin_bounds[i + 1]:self.origin_bounds[i + 2]])
        sink = self.sink
        if sink.worst is not None and sink.unseen is not None:
            track_slowest(self.commit_log, own, vis_t, reach, sink.worst, sink.unseen)
        kept = sink.tally.visibility
        room = kept.exact_limit - kept.count if kept.exact else 0
        return node_visibility(self.commit_log, own, vis_t, reach, room)

    def _outcome(self, i: int, node: ReplicaNode, grid: np.ndarray,
                 series: tuple[np.ndarray, float], writer: DetailSink | None,
                 ) -> tuple[NodeOutcome, pd.DataFrame, list[dict[str, object]]]:
        """Node ``i`` reduced to its outcome, its metric series and its alert events; its
        reads and syncs go to ``writer`` (with ``detail``)."""
        cfg, name = self.cfg, self.names[i]
        ld = self.wl.nodes[name]
        at = _Attempts.of(node.syncs)
        vis_t, reach, ryw_bytes = self._timeline(node)
        must_see = self.ct[self.co != i] if self.local_first else self.ct
        run_at, stale, lat, held_wait, unserved = self._reads(i, ld, at, vis_t, reach,
                                                              must_see, node)
        delay, never = self._visibility(i, vis_t, reach)
        free_t, free_reach = self._free_pulls(i)
        # judged with the same read semantics as the run: each read when it ran (after the
        # app sync it awaited), so the count stays a lower bound for this run's schedule
        oracle = oracle_pulls(must_see, run_at, cfg.freshness, start_reach=-math.inf,
                              free_t=free_t, free_reach=free_reach).size
        hist = self._history(i, node, at, vis_t, reach, must_see, ryw_bytes, lat)
        metrics = metric_series(name, hist, *series)
        alerts = alert_events(name, hist, grid, cfg.thresholds)
        fired = Counter(str(a["name"]) for a in alerts if a["state"] == "firing")
        if writer is not None:
            writer.add("reads", pd.DataFrame({"t": ld.reads, "node": name,
                                              "staleness_s": stale,
                                              "latency_ms": lat * 1000.0}))
            syncs = pd.DataFrame(node.syncs, columns=[*SYNC_COLUMNS[1:], "apply_start"])
            syncs.insert(0, "node", name)
            writer.add("syncs", syncs.drop(columns="apply_start"))
        w_lat = self.w_latency[i]
        outcome = NodeOutcome(
            syncs=int(at.ok.sum()), sync_failures=int((~at.ok).sum()),
            sync_bytes=int(at.nbytes.sum() + ryw_bytes.sum()), ryw_pulls=len(node.ryw_t),
            oracle_syncs=int(oracle), staleness=stale, read_latency=lat,
            visibility=delay, visibility_censored=never,
            writes=int(ld.writes.size), write_errors=int((~self.w_ok[i]).sum()),
            write_latency_ms=w_lat[~np.isnan(w_lat)], unsynced_max=node.unsynced_max,
            unsynced_end=node.unsynced_end, cold_starts=node.cold_starts, alerts=dict(fired),
            read_waits=held_wait, read_wait_timeouts=unserved)
        return outcome, metrics, alerts

    def _history(self, i: int, node: ReplicaNode, at: _Attempts, vis_t: np.ndarray,
                 reach: np.ndarray, must_see: np.ndarray, ryw_bytes: np.ndarray,
                 lat: np.ndarray) -> NodeHistory:
        ld = self.wl.nodes[self.names[i]]
        own_t = ld.writes if self.local_first else np.empty(0)
        own_b = ld.write_bytes if self.local_first else np.empty(0, dtype=np.int64)
        own_c = self.w_commit[i] if self.local_first else np.empty(0)
        pushed = ~np.isnan(own_c)
        oc_order = np.argsort(own_c[pushed], kind="stable")
        ryw_t = np.asarray(node.ryw_t, dtype=np.float64)
        bw_t = np.concatenate([at.end, ryw_t])
        bw_b = np.concatenate([at.nbytes, ryw_bytes])
        bw_order = np.argsort(bw_t, kind="stable")
        iv_t = np.asarray([t for t, _ in node.intervals], dtype=np.float64)
        iv = np.asarray([np.nan if v is None else v for _, v in node.intervals],
                        dtype=np.float64)
        return NodeHistory(
            ok_end=np.union1d(at.end[at.ok], ryw_t), fail_end=at.end[~at.ok], vis_t=vis_t,
            reach=reach, commits=must_see,
            commit_bytes_t=self.ct, commit_bytes_cum=self.cum_bytes,
            own_t=own_t, own_cum=np.concatenate([[0], np.cumsum(own_b)]),
            own_commit_t=own_c[pushed][oc_order],
            own_commit_cum=np.concatenate([[0], np.cumsum(own_b[pushed][oc_order])]),
            read_t=ld.reads, read_latency=lat, bw_t=bw_t[bw_order],
            bw_cum=np.concatenate([[0], np.cumsum(bw_b[bw_order])]),
            iv_t=iv_t, iv=iv, base_bytes=self.st.base_db_bytes)

    def writes_table(self, sink: _Sink) -> pd.DataFrame:
        """Every write with its slowest visibility (NaN if some node never saw it)."""
        wl = self.wl
        assert sink.worst is not None and sink.unseen is not None
        worst = np.where(sink.unseen, np.nan, sink.worst)
        parts = []
        pw = wl.primary_writes
        sel = self.co == -1
        pv = np.full(pw.size, np.nan)
        pv[self.cr[sel]] = worst[sel]
        parts.append(pd.DataFrame({"t": pw, "node": PRIMARY, "commit_t": pw, "latency_ms": 0.0,
                                   "bytes": wl.primary_bytes, "failed": False,
                                   "visibility_max_s": pv}))
        for i, (name, ld) in enumerate(wl.nodes.items()):
            sel = self.co == i
            v = np.full(ld.writes.size, np.nan)
            v[self.cr[sel]] = worst[sel]
            parts.append(pd.DataFrame({"t": ld.writes, "node": name, "commit_t": self.w_commit[i],
                                       "latency_ms": self.w_latency[i], "bytes": ld.write_bytes,
                                       "failed": ~self.w_ok[i], "visibility_max_s": v}))
        return pd.concat(parts, ignore_index=True)
