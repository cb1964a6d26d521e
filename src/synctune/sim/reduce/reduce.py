"""The reduce stage: one node's run, with the commit log, reduced to its outcome.

Pure functions: what a node recorded (its sync rows, replica timeline and held reads) and the
run's commit log in, its reads' staleness and latency, its visibility delays, its oracle count,
its metric history and its :class:`~synctune.sim.reduce.tally.NodeOutcome` out.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synctune.sim.elaborate.commit_record import CommitRecord
from synctune.sim.elaborate.elaborate import Elaboration, free_pulls
from synctune.sim.elaborate.oracle import oracle_pulls
from synctune.sim.elaborate.workload import NodeLoad
from synctune.sim.elaborate.write_plan import NodeWrites
from synctune.sim.reduce.monitor import NodeHistory, alert_events, metric_series
from synctune.sim.reduce.reads import ReadOutcome, read_outcome
from synctune.sim.reduce.sketch import QuantileSketch
from synctune.sim.reduce.tally import NodeOutcome
from synctune.sim.reduce.timeline import Timeline, replica_timeline
from synctune.sim.reduce.visibility import node_visibility
from synctune.sim.result import SYNC_COLUMNS
from synctune.sim.run.node import ReplicaNode
from synctune.sim.run.runner import RanNode
from synctune.sim.run.sync_row import Attempts


@dataclass(frozen=True)
class NodeReduction:
    """What one node's run comes to: its outcome, metric series, alert events, reads and
    replica timeline."""

    outcome: NodeOutcome
    metrics: pd.DataFrame
    alerts: list[dict[str, object]]
    reads: ReadOutcome
    timeline: Timeline


def node_history(elab: Elaboration, i: int, node: ReplicaNode, attempts: Attempts,
                 timeline: Timeline, commits: CommitRecord, writes: NodeWrites,
                 read_latency: np.ndarray) -> NodeHistory:
    """What the node's metrics and alerts are computed from."""
    ld = elab.load(i)
    lf = elab.local_first
    own_t = ld.writes if lf else np.empty(0)
    own_b = ld.write_bytes if lf else np.empty(0, dtype=np.int64)
    own_c = writes.commit if lf else np.empty(0)
    pushed = ~np.isnan(own_c)
    oc_order = np.argsort(own_c[pushed], kind="stable")
    ryw_t = np.asarray(node.ryw_t, dtype=np.float64)
    bw_t = np.concatenate([attempts.end, ryw_t])
    bw_b = np.concatenate([attempts.nbytes, timeline.ryw_bytes])
    bw_order = np.argsort(bw_t, kind="stable")
    iv_t = np.asarray([t for t, _ in node.intervals], dtype=np.float64)
    iv = np.asarray([np.nan if v is None else v for _, v in node.intervals], dtype=np.float64)
    return NodeHistory(
        ok_end=np.union1d(attempts.end[attempts.ok], ryw_t),
        fail_end=attempts.end[~attempts.ok], vis_t=timeline.vis_t, reach=timeline.seen,
        commits=commits.must_see(i, lf), commit_bytes_t=commits.times,
        commit_bytes_cum=commits.cum_bytes,
        own_t=own_t, own_cum=np.concatenate([[0], np.cumsum(own_b)]),
        own_commit_t=own_c[pushed][oc_order],
        own_commit_cum=np.concatenate([[0], np.cumsum(own_b[pushed][oc_order])]),
        read_t=ld.reads, read_latency=read_latency, bw_t=bw_t[bw_order],
        bw_cum=np.concatenate([[0], np.cumsum(bw_b[bw_order])]),
        iv_t=iv_t, iv=iv, base_bytes=elab.setting.base_db_bytes)


def oracle_count(elab: Elaboration, i: int, must_see: np.ndarray, ran_at: np.ndarray) -> int:
    """The fewest pulls keeping node ``i``'s reads within D, judged with the run's read
    semantics (each read when it ran, after the app sync it awaited), so the count stays a
    lower bound for this run's schedule."""
    free_t, free_reach = free_pulls(elab, i)
    return int(oracle_pulls(must_see, ran_at, elab.cfg.freshness, start_reach=-math.inf,
                            free_t=free_t, free_reach=free_reach).size)


def node_outcome(ld: NodeLoad, node: ReplicaNode, attempts: Attempts, timeline: Timeline,
                 writes: NodeWrites, reads: ReadOutcome, visibility: tuple[QuantileSketch, int],
                 oracle: int, fired: dict[str, int]) -> NodeOutcome:
    """The node's figures for the tally."""
    delay, never = visibility
    w_lat = writes.latency_ms
    return NodeOutcome(
        syncs=int(attempts.ok.sum()), sync_failures=int((~attempts.ok).sum()),
        sync_bytes=int(attempts.nbytes.sum() + timeline.ryw_bytes.sum()),
        ryw_pulls=len(node.ryw_t), oracle_syncs=oracle, staleness=reads.staleness,
        read_latency=reads.latency, visibility=delay, visibility_censored=never,
        writes=int(ld.writes.size), write_errors=int((~writes.ok).sum()),
        write_latency_ms=w_lat[~np.isnan(w_lat)], unsynced_max=node.unsynced_max,
        unsynced_end=node.unsynced_end, cold_starts=node.cold_starts, alerts=fired,
        read_waits=reads.held_wait, read_wait_timeouts=reads.held_unserved)


def reduce_node(elab: Elaboration, ran: RanNode, grid: np.ndarray,
                series: tuple[np.ndarray, float], room: int) -> NodeReduction:
    """Node ``ran.index`` reduced: ``grid`` is the alert grid, ``series`` the metric series'
    sample times and window, ``room`` how many visibility delays the tally can still keep
    exactly."""
    i, node, commits = ran.index, ran.node, ran.commits
    name, ld = elab.workload.names[i], elab.load(i)
    attempts = Attempts.of(node.syncs)
    timeline = replica_timeline(node, commits, elab.cfg.sync_overhead_bytes)
    must_see = commits.must_see(i, elab.local_first)
    reads = read_outcome(elab.cfg, i, ld, attempts, timeline, must_see, node,
                         app_syncs_block=elab.cfg.sync_blocks_reads and not elab.oracle,
                         whole_log=not elab.local_first)
    visibility = node_visibility(commits.visibility, commits.own(i), timeline.vis_t,
                                 timeline.seen, room, timeline.seen_upto)
    oracle = oracle_count(elab, i, must_see, reads.ran_at)
    hist = node_history(elab, i, node, attempts, timeline, commits, ran.writes, reads.latency)
    metrics = metric_series(name, hist, *series)
    alerts = alert_events(name, hist, grid, elab.cfg.thresholds)
    fired = Counter(str(a["name"]) for a in alerts if a["state"] == "firing")
    outcome = node_outcome(ld, node, attempts, timeline, ran.writes, reads, visibility,
                           oracle, dict(fired))
    return NodeReduction(outcome, metrics, alerts, reads, timeline)


def detail_rows(name: str, ld: NodeLoad, node: ReplicaNode,
                reads: ReadOutcome) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The node's rows of the ``reads`` and ``syncs`` detail tables."""
    read_rows = pd.DataFrame({"t": ld.reads, "node": name, "staleness_s": reads.staleness,
                              "latency_ms": reads.latency * 1000.0})
    syncs = pd.DataFrame(node.syncs, columns=[*SYNC_COLUMNS[1:], "apply_start"])
    syncs.insert(0, "node", name)
    return read_rows, syncs.drop(columns="apply_start")
