"""The elaborate stage of a run: everything known before SimPy starts.

From the config and the workload it builds the links, the write plan and (delegated writes)
the frozen commit log; per node it gives the app's events for the strategy, the commits known
in advance, and the runnable oracle's plan. Nothing here changes once built: chunks of one
delegated run share the plan and the log.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from synctune.sim.config import SimConfig
from synctune.sim.elaborate import rng as streams
from synctune.sim.elaborate.commit_record import CommitRecord, record_commits
from synctune.sim.elaborate.network import Link
from synctune.sim.elaborate.oracle import Oracle, oracle_pulls
from synctune.sim.elaborate.primary import PrimaryLog
from synctune.sim.elaborate.workload import NodeLoad, Workload
from synctune.sim.elaborate.write_plan import NodeWrites, PlannedCommits, WritePlan, plan_writes
from synctune.sim.run import strategies
from synctune.sim.run.node import COLD, READ, REQUEST, WRITE
from synctune.sim.setting import Setting

#: the runnable oracle's allowance for transfer and apply (s)
ORACLE_MARGIN_S = 0.05
#: reads reach the strategy in batches of at most this span (s), counted at the batch's last
#: read: read-aware strategies learn rates, which a second's delay does not change, and a busy
#: node costs one event per second instead of one per read
READ_BATCH_S = 1.0


@dataclass(frozen=True)
class Elaboration:
    """A run as elaborated (times in s).

    Attributes:
        cfg, setting, workload, spec: the run and its strategy's name.
        duration: simulated seconds.
        links: each node's network path.
        writes: each node's writes as planned (local-first commit times come with the run).
        planned: local-first only, the commits known in advance (the primary's own); the run
            adds the pushes.
        commits: delegated only, the commit log (known in advance).
        primary_log: delegated only, the log the nodes pull from.
    """

    cfg: SimConfig
    setting: Setting
    workload: Workload
    spec: str
    duration: float
    links: tuple[Link, ...]
    writes: tuple[NodeWrites, ...]
    planned: PlannedCommits | None
    commits: CommitRecord | None
    primary_log: PrimaryLog | None

    @property
    def local_first(self) -> bool:
        """Whether writes commit locally and are pushed by syncs."""
        return self.setting.write_model == "local-first"

    @property
    def oracle(self) -> bool:
        """Whether the strategy is the oracle (which plans from the commits)."""
        return strategies.is_oracle(self.cfg.strategy)

    def load(self, i: int) -> NodeLoad:
        """Node ``i``'s app operations."""
        return self.workload.nodes[self.workload.names[i]]


def elaborate(cfg: SimConfig, setting: Setting, wl: Workload, duration: float, spec: str,
              prior: Elaboration | None = None) -> Elaboration:
    """The run elaborated; ``prior``, an earlier chunk of the same delegated run, lends its
    write plan and commit log (the same writes give the same plan)."""
    links = tuple(Link(name, setting.rtt_ms, cfg.rtt_jitter, cfg.bytes_per_second,
                       cfg.failure_prob, cfg.outages, streams.generator(cfg.seed, "network", i),
                       streams.generator(cfg.seed, "faults", i))
                  for i, name in enumerate(wl.names))
    local_first = setting.write_model == "local-first"
    if prior is not None and not local_first:
        return Elaboration(cfg, setting, wl, spec, duration, links, prior.writes, None,
                           prior.commits, prior.primary_log)
    ryw = cfg.read_your_writes and not local_first
    plan: WritePlan = plan_writes(cfg, wl, links, local_first=local_first, ryw=ryw)
    if local_first:
        return Elaboration(cfg, setting, wl, spec, duration, links, plan.nodes, plan.planned,
                           None, None)
    commits = record_commits(plan.planned, [], wl, local_first=False)
    log = PrimaryLog(commits.times, np.diff(commits.cum_bytes))
    return Elaboration(cfg, setting, wl, spec, duration, links, plan.nodes, None, commits, log)


def _upto(times: np.ndarray, end: float) -> np.ndarray:
    return times[: np.searchsorted(times, end, side="right")]


def read_batches(reads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reads grouped per ``READ_BATCH_S`` slot: each slot's last read time and its read count."""
    if reads.size == 0:
        return np.empty(0), np.empty(0, dtype=np.int64)
    slot = np.floor(reads / READ_BATCH_S)
    last = np.flatnonzero(np.concatenate([slot[1:] != slot[:-1], [True]]))
    counts = np.diff(np.concatenate([[-1], last]))
    return reads[last], counts


def node_events(elab: Elaboration, i: int, single_reads: bool = False,
                ) -> tuple[list[float], list[int], list[int]]:
    """Node ``i``'s app events for its strategy, in time order (a write before a request at a
    tie): times, kinds and refs. For writes the ref is the write's index, for reads the
    batch's read count, or with ``single_reads`` (a strategy asked before each read) one read
    per event and its index."""
    ld, end, writes = elab.load(i), elab.duration, elab.writes[i]
    # what the app did up to the end; a write's acknowledgement may land after it
    wi = np.flatnonzero(writes.ok & (ld.writes <= end))
    syncs, cold = _upto(ld.syncs, end), _upto(ld.cold_starts, end)
    if single_reads:
        rb_t = _upto(ld.reads, end)
        rb_n = np.arange(rb_t.size)
    else:
        rb_t, rb_n = read_batches(_upto(ld.reads, end))
    t = np.concatenate([writes.heard[wi], syncs, cold, rb_t])
    k = np.concatenate([np.full(wi.size, WRITE), np.full(syncs.size, REQUEST),
                        np.full(cold.size, COLD), np.full(rb_t.size, READ)])
    j = np.concatenate([wi, np.zeros(syncs.size + cold.size, dtype=int), rb_n])
    order = np.lexsort((k, t))
    return t[order].tolist(), k[order].tolist(), j[order].tolist()


def known_commits(elab: Elaboration, i: int) -> tuple[np.ndarray, float]:
    """Commits node ``i`` must see, known in advance (local-first writes of other nodes
    counted as if pushed at once), and how early a pull must start to show them in time (a
    slow round trip, 3 sigma, plus transfer and apply)."""
    if elab.local_first:
        assert elab.planned is not None
        known = [elab.planned.times] + [ld.writes for j, ld in
                                        enumerate(elab.workload.nodes.values()) if j != i]
        commits = np.sort(np.concatenate(known))
    else:
        assert elab.commits is not None
        commits = elab.commits.times  # known in advance, sorted before the nodes run
    # an instant network needs no lead, and then the plan is exactly the oracle's count
    cfg, link = elab.cfg, elab.links[i]
    instant = (link.median_rtt == 0.0 and cfg.bandwidth is None
               and cfg.apply_s_per_change == 0.0)
    rounds = 2 if elab.local_first else 1
    lead = 0.0 if instant else (rounds * link.median_rtt * math.exp(3 * cfg.rtt_jitter)
                                + ORACLE_MARGIN_S)
    return commits, lead


def free_pulls(elab: Elaboration, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Node ``i``'s read-your-writes pulls, known in advance: when each acknowledgement lands
    (s, sorted) and the commit time it reaches (none without read-your-writes)."""
    writes = elab.writes[i]
    if writes.ryw_reach is None:
        return np.empty(0), np.empty(0)
    ok = writes.ok
    ack = elab.load(i).writes[ok] + writes.latency_ms[ok] / 1000.0
    order = np.argsort(ack, kind="stable")
    return ack[order], writes.ryw_reach[ok][order]


def runnable_oracle(elab: Elaboration, i: int) -> Oracle:
    """The runnable oracle for node ``i``: plans from commits known in advance, each pull
    started early enough to be visible before the read that needs it."""
    commits, lead = known_commits(elab, i)
    free_t, free_reach = free_pulls(elab, i)
    pulls = oracle_pulls(commits, elab.load(i).reads, elab.cfg.freshness,
                         start_reach=-math.inf, free_t=free_t, free_reach=free_reach, lag=lead)
    return Oracle(pulls, lead=lead)
