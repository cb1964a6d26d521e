"""When each of a node's reads ran, how stale it was and how long it took (reduce stage).

Vectorised over the node's reads, from its sync attempts and replica timeline: a read after
an app sync point waits for the attempt serving it, a read the strategy held for a pull
(bounded-staleness reads) waits for that pull, and with ``read_hold`` a read during an apply
waits for it to end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synctune.sim.config import SimConfig
from synctune.sim.elaborate import rng as streams
from synctune.sim.elaborate.workload import NodeLoad
from synctune.sim.elaborate.write_plan import READ_SIGMA
from synctune.sim.reduce.staleness import staleness
from synctune.sim.reduce.timeline import Timeline
from synctune.sim.run.node import ReplicaNode
from synctune.sim.run.sync_row import Attempts


@dataclass(frozen=True, slots=True)
class ReadOutcome:
    """A node's reads (times in s).

    Attributes:
        ran_at: when each read ran.
        staleness: how stale each was.
        latency: each read's latency.
        held_wait: for the reads held for a pull, how long each waited.
        held_unserved: held reads that ran without that pull.
    """

    ran_at: np.ndarray
    staleness: np.ndarray
    latency: np.ndarray
    held_wait: np.ndarray
    held_unserved: int


def after_app_syncs(read_t: np.ndarray, ld: NodeLoad, attempts: Attempts,
                    sync_timeout: float) -> np.ndarray:
    """When each read runs: a read after an app sync point waits for the attempt serving it
    (the first one starting within the sync timeout of the request) to end."""
    q = np.sort(np.concatenate([ld.syncs, ld.cold_starts]))
    if q.size == 0 or attempts.start.size == 0:
        return read_t
    starts, ends = attempts.start, attempts.end
    k = np.searchsorted(starts, q, side="left")
    kk = np.minimum(k, starts.size - 1)
    served = (k < starts.size) & (starts[kk] < q + sync_timeout)
    until = np.maximum.accumulate(np.where(served, ends[kk], q))
    m = np.searchsorted(q, read_t, side="right") - 1
    return np.maximum(read_t, np.where(m >= 0, until[np.maximum(m, 0)], -np.inf))


def held_reads(read_t: np.ndarray, node: ReplicaNode, attempts: Attempts,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reads the strategy held for a pull: their indices, when each ran and whether it ran
    without that pull. A held read waits for the first attempt starting at or after it, at
    most its longest wait: it runs when the attempt ends (a failed one answers it too) or
    when its wait runs out."""
    at = attempts
    idx = np.asarray(node.held, dtype=np.int64)
    r = read_t[idx]
    limit = r + np.asarray(node.held_for, dtype=np.float64)
    k = np.searchsorted(at.start, r, side="left")
    kk = np.minimum(k, max(at.start.size - 1, 0))
    answered = k < at.start.size
    end = np.where(answered, at.end[kk] if at.end.size else np.inf, np.inf)
    ran = np.minimum(end, limit)
    fresh = answered & (end <= limit) & (at.ok[kk] if at.ok.size else False)
    return idx, ran, ~fresh


def _apply_holds(read_t: np.ndarray, attempts: Attempts) -> np.ndarray:
    """How long each read waits for an apply in progress (``read_hold``)."""
    ok = attempts.ok
    a0, a1 = attempts.apply_start[ok], attempts.end[ok]
    k = np.searchsorted(a0, read_t, side="right") - 1
    held = (k >= 0) & (read_t < a1[np.maximum(k, 0)])
    wait: np.ndarray = np.where(held, a1[np.maximum(k, 0)] - read_t, 0.0)
    return wait


def read_outcome(cfg: SimConfig, i: int, ld: NodeLoad, attempts: Attempts, timeline: Timeline,
                 must_see: np.ndarray, node: ReplicaNode, *, app_syncs_block: bool,
                 whole_log: bool) -> ReadOutcome:
    """Node ``i``'s reads: when each ran, its staleness and latency; for the reads held for a
    pull, how long each waited and how many ran without it. ``app_syncs_block``: reads wait
    for app sync points (the oracle ignores them, so nothing waits on them); ``whole_log``:
    ``must_see`` is the whole commit log the timeline was looked up in."""
    read_t = ld.reads
    lrng = streams.generator(cfg.seed, "latency", i)
    lat = (cfg.query_ms / 1000.0 * np.exp(
        READ_SIGMA * lrng.standard_normal(read_t.size, dtype=np.float32))).astype(np.float64)
    ran_at = (after_app_syncs(read_t, ld, attempts, cfg.sync_timeout) if app_syncs_block
              else read_t)
    held_wait, unserved = np.empty(0), 0
    if node.held:
        idx, ran, missed = held_reads(read_t, node, attempts)
        if ran_at is read_t:
            ran_at = read_t.copy()
        ran_at[idx] = np.maximum(ran_at[idx], ran)
        held_wait = ran - read_t[idx]  # the wait for the pull (an app sync may add its own)
        unserved = int(missed.sum())
    stale = staleness(ran_at, timeline.vis_t, timeline.seen, must_see,
                      timeline.seen_upto if whole_log else None)
    lat = lat + (ran_at - read_t)
    if cfg.read_hold and attempts.ok.any():
        lat = lat + _apply_holds(read_t, attempts)
    return ReadOutcome(ran_at, stale, lat, held_wait, unserved)
