"""The write plan: when each node's writes commit, are acknowledged and what they cost.

Delegated writes go to the primary at once, so their commit, acknowledgement and outcome are
known before the run. Local-first writes commit locally and reach the primary only when a sync
pushes them: their commit times at the primary are filled in after the run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from synctune.sim.config import SimConfig
from synctune.sim.elaborate import rng as streams
from synctune.sim.elaborate.network import Link
from synctune.sim.elaborate.workload import Workload

#: log-normal spread of local read (and local-first write) latency
READ_SIGMA = 0.5


@dataclass(frozen=True, slots=True)
class NodeWrites:
    """One node's writes as planned (times in s).

    Attributes:
        latency_ms: each write's latency (ms; NaN when lost to an outage).
        commit: when each committed at the primary (NaN: lost, or a local-first write not
            pushed).
        ok: whether each was committed (lost to an outage otherwise).
        heard: when the node's strategy hears of each (the acknowledgement when delegated).
        ryw_reach: with read-your-writes, the commit time each acknowledgement's pull
            reaches (delegated only).
    """

    latency_ms: np.ndarray
    commit: np.ndarray
    ok: np.ndarray
    heard: np.ndarray
    ryw_reach: np.ndarray | None


@dataclass(frozen=True, slots=True)
class PlannedCommits:
    """Commits known before the run, unsorted: time (s), bytes, origin node (-1 = the
    primary's own) and the index of the write at its origin."""

    times: np.ndarray
    nbytes: np.ndarray
    origin: np.ndarray
    ref: np.ndarray


@dataclass(frozen=True, slots=True)
class WritePlan:
    """Every node's writes, and the commits known before the run."""

    nodes: tuple[NodeWrites, ...]
    planned: PlannedCommits

    def with_pushes(self, push_commit: Sequence[np.ndarray]) -> WritePlan:
        """The plan with local-first writes' commit times at the primary, as pushed."""
        nodes = tuple(dataclasses.replace(w, commit=c)
                      for w, c in zip(self.nodes, push_commit, strict=True))
        return dataclasses.replace(self, nodes=nodes)


def plan_writes(cfg: SimConfig, wl: Workload, links: Sequence[Link], *, local_first: bool,
                ryw: bool) -> WritePlan:
    """Every node's writes planned; the commits known in advance are the primary's own plus
    (delegated) every node's committed writes."""
    times, nbytes = [wl.primary_writes], [wl.primary_bytes]
    origin = [np.full(wl.primary_writes.size, -1)]
    ref = [np.arange(wl.primary_writes.size)]
    nodes = []
    for i, ld in enumerate(wl.nodes.values()):
        wrng = streams.generator(cfg.seed, "writes", i)
        n = ld.writes.size
        if local_first:
            latency = cfg.query_ms * np.exp(READ_SIGMA * wrng.standard_normal(n))
            nodes.append(NodeWrites(latency, np.full(n, np.nan), np.ones(n, dtype=bool),
                                    ld.writes, None))
            continue
        link = links[i]
        rtt1 = link.rtts(n, wrng)
        rtt2 = link.rtts(n, wrng) if ryw else np.zeros(n)
        ok = ~link.down_mask(ld.writes)
        commit = np.where(ok, ld.writes + rtt1 / 2, np.nan)
        ack = ld.writes + rtt1 + rtt2
        latency = np.where(ok, (ack - ld.writes) * 1000.0, np.nan)
        nodes.append(NodeWrites(latency, commit, ok, ack, commit if ryw else None))
        times.append(commit[ok])
        nbytes.append(ld.write_bytes[ok])
        origin.append(np.full(int(ok.sum()), i))
        ref.append(np.flatnonzero(ok))
    planned = PlannedCommits(
        np.concatenate(times), np.concatenate(nbytes).astype(np.int64),
        np.concatenate(origin).astype(np.int32), np.concatenate(ref).astype(np.int32))
    return WritePlan(tuple(nodes), planned)
