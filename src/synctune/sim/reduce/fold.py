"""Where reduced nodes go as they are done: the tally, metric series, alert events, detail
tables, and (with detail) the slowest visibility of every commit; and the summary step that
merges the shards of a run into one result."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synctune.sim.config import SimConfig
from synctune.sim.elaborate.commit_record import CommitRecord
from synctune.sim.elaborate.elaborate import Elaboration
from synctune.sim.elaborate.workload import PRIMARY, Workload
from synctune.sim.elaborate.write_plan import NodeWrites
from synctune.sim.reduce.detail import DetailSink
from synctune.sim.reduce.monitor import sample_grid
from synctune.sim.reduce.reduce import detail_rows, reduce_node
from synctune.sim.reduce.tally import Tally
from synctune.sim.reduce.visibility import track_slowest
from synctune.sim.result import SimResult
from synctune.sim.run import fleet_channel
from synctune.sim.run.runner import RanNode


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


@dataclass(frozen=True, slots=True)
class SlowestVisibility:
    """Per commit of the log: the slowest visibility at another node so far (s), and whether
    some node has not seen it (chunks of one run share the commits, so these carry over)."""

    worst: np.ndarray
    unseen: np.ndarray

    @classmethod
    def empty(cls, commits: int) -> SlowestVisibility:
        """Nothing seen yet of ``commits`` commits."""
        return cls(np.full(commits, -np.inf), np.zeros(commits, dtype=bool))


def series_grid(grid: np.ndarray, nodes: int, cfg: SimConfig) -> tuple[np.ndarray, float]:
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


class Collector:
    """Folds reduced nodes into a tally, metric series, alert events and detail tables (with
    detail, also the slowest visibility of every commit)."""

    def __init__(self, elab: Elaboration, writer: DetailSink | None,
                 progress: Callable[[int], object] | None = None) -> None:
        self.cfg, self.spec, self.write_model = elab.cfg, elab.spec, elab.setting.write_model
        self.duration = elab.duration
        self.primary_writes = int(elab.workload.primary_writes.size)
        self.grid = sample_grid(elab.duration, elab.cfg.sample_interval)
        self.series = series_grid(self.grid, len(elab.workload.names), elab.cfg)
        self.writer = writer
        self.progress = progress
        self.tally = Tally()
        self.metric_parts: list[pd.DataFrame] = []
        self.alert_rows: list[dict[str, object]] = []
        self.slowest: SlowestVisibility | None = None
        #: the announcement channel's counts, set when the run is done
        self.extra: dict[str, int] = {}

    def add(self, elab: Elaboration, ran: RanNode) -> None:
        """Reduce ``ran`` and fold it in."""
        kept = self.tally.visibility
        room = kept.exact_limit - kept.count if kept.exact else 0
        red = reduce_node(elab, ran, self.grid, self.series, room)
        if self.cfg.detail:
            if self.slowest is None:
                self.slowest = SlowestVisibility.empty(ran.commits.times.size)
            track_slowest(ran.commits.visibility, ran.commits.own(ran.index),
                          red.timeline.vis_t, red.timeline.seen, self.slowest.worst,
                          self.slowest.unseen)
        if self.writer is not None:
            read_rows, sync_rows = detail_rows(elab.workload.names[ran.index],
                                               elab.load(ran.index), ran.node, red.reads)
            self.writer.add("reads", read_rows)
            self.writer.add("syncs", sync_rows)
        self.tally.add(red.outcome, self.cfg.freshness)
        self.metric_parts.append(red.metrics)
        self.alert_rows += red.alerts
        if self.progress is not None:
            self.progress(1)

    def shard(self) -> Shard:
        """What the nodes folded in come to."""
        metrics = (pd.concat(self.metric_parts, ignore_index=True) if self.metric_parts
                   else pd.DataFrame())
        return Shard(self.tally, metrics, self.alert_rows, self.primary_writes, self.duration,
                     self.extra)

    def result(self, detail_dir: Path | None,
               tables: dict[str, pd.DataFrame] | None) -> SimResult:
        """The run's result (one shard: every node)."""
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


def writes_table(wl: Workload, commits: CommitRecord, writes: tuple[NodeWrites, ...],
                 slowest: SlowestVisibility) -> pd.DataFrame:
    """Every write with its slowest visibility (NaN if some node never saw it)."""
    worst = np.where(slowest.unseen, np.nan, slowest.worst)
    pw = wl.primary_writes
    sel = commits.origin == -1
    pv = np.full(pw.size, np.nan)
    pv[commits.ref[sel]] = worst[sel]
    parts = [pd.DataFrame({"t": pw, "node": PRIMARY, "commit_t": pw, "latency_ms": 0.0,
                           "bytes": wl.primary_bytes, "failed": False, "visibility_max_s": pv})]
    for i, (name, ld) in enumerate(wl.nodes.items()):
        sel = commits.origin == i
        v = np.full(ld.writes.size, np.nan)
        v[commits.ref[sel]] = worst[sel]
        w = writes[i]
        parts.append(pd.DataFrame({"t": ld.writes, "node": name, "commit_t": w.commit,
                                   "latency_ms": w.latency_ms, "bytes": ld.write_bytes,
                                   "failed": ~w.ok, "visibility_max_s": v}))
    return pd.concat(parts, ignore_index=True)
