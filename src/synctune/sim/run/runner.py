"""The run stage: each node's strategy and SimPy process, run over the elaborated plan.

Delegated writes make the primary's log known in advance, so nodes never meet: each runs in
its own SimPy environment and is handed on (to be reduced and dropped) before the next starts.
Local-first nodes push into the log during the run, and strategies pooling one budget see each
other's reads, so those run together; the commit log is complete only after the run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from synctune.policy import SyncStrategy
from synctune.policy.errors import InvalidInput
from synctune.sim.elaborate import rng as streams
from synctune.sim.elaborate.commit_record import CommitRecord, record_commits
from synctune.sim.elaborate.elaborate import (
    READ_BATCH_S,
    Elaboration,
    known_commits,
    node_events,
    runnable_oracle,
)
from synctune.sim.elaborate.primary import PrimaryLog
from synctune.sim.elaborate.write_plan import NodeWrites, WritePlan
from synctune.sim.run import fleet_channel, strategies
from synctune.sim.run.node import ReplicaNode
from synctune.sim.run.notify import Notify
from synctune.sim.run.subscriber import SubscriberNode


@dataclass(frozen=True, slots=True)
class RanNode:
    """Node ``index`` after its run, with the complete commit log and its writes."""

    index: int
    node: ReplicaNode
    commits: CommitRecord
    writes: NodeWrites


class Runner:
    """Runs nodes of one elaborated run (a chunk of nodes with delegated writes).

    ``channel`` carries commit announcements (``announced``, ``notify``) across the chunks of
    a run; a factory's announced strategy brings one only when it is built. After the run,
    ``commits`` and ``writes`` hold the commit log and the writes with their commit times.
    """

    def __init__(self, elab: Elaboration,
                 channel: fleet_channel.FleetChannel | None) -> None:
        self.elab = elab
        self.channel = channel
        self.commits: CommitRecord | None = elab.commits
        self.writes: tuple[NodeWrites, ...] = elab.writes

    def strategy_for(self, i: int) -> SyncStrategy:
        """A fresh strategy for node ``i``."""
        elab, cfg = self.elab, self.elab.cfg
        if elab.oracle:
            return runnable_oracle(elab, i)
        if strategies.is_notify(cfg.strategy):
            # learns of commits as they land, and of its reads as they come
            return Notify(cfg.freshness, known_commits(elab, i)[1])
        return strategies.build(cfg.strategy, cfg.freshness,
                                streams.python_random(cfg.seed, "strategy", i))

    def start(self, env: simpy.Environment, log: PrimaryLog, i: int,
              strategy: SyncStrategy | None = None) -> ReplicaNode:
        """Node ``i`` with ``strategy`` (default a fresh one), its process started in ``env``."""
        elab, cfg = self.elab, self.elab.cfg
        if strategy is None:
            strategy = self.strategy_for(i)
        args = (env, i, strategy, elab.links[i], log,
                node_events(elab, i, strategy.max_read_wait > 0.0), elab.duration)
        kw: dict[str, Any] = dict(
            local_first=elab.local_first, write_bytes=elab.load(i).write_bytes,
            ryw_reach=elab.writes[i].ryw_reach, timeout=cfg.sync_timeout,
            overhead=cfg.sync_overhead_bytes, apply_s=cfg.apply_s_per_change,
            base_bytes=elab.setting.base_db_bytes, interval_check=min(1.0, cfg.sample_interval),
            read_batch=READ_BATCH_S)
        if self.channel is None and fleet_channel.is_announced(strategy):
            self.channel = fleet_channel.FleetChannel(cfg)  # a factory's: known only now
        channel = self.channel
        if channel is not None and not channel.published:
            channel.before(elab, log)
        node: ReplicaNode
        if channel is not None and channel.hears(strategy):
            node = SubscriberNode(*args, channel=channel.events_for(i, elab.duration),
                                  dynamic=elab.local_first, **kw)
        else:
            node = ReplicaNode(*args, **kw)
        env.process(node.run())
        return node

    def ran(self, which: range) -> Iterator[RanNode]:
        """Nodes ``which`` after their run, one at a time, with the commit log complete."""
        if self.elab.local_first:
            yield from self._ran_together(which)
            return
        log, commits = self.elab.primary_log, self.commits
        assert log is not None and commits is not None
        first = self.strategy_for(which.start) if len(which) else None
        if first is not None and first.pooled:
            yield from self._ran_pooled(which, log, commits, first)
            return
        for i in which:
            env = simpy.Environment()
            node = self.start(env, log, i, first if i == which.start else None)
            env.run()
            self._ran_one(node)
            yield RanNode(i, node, commits, self.writes[i])

    def _ran_pooled(self, which: range, log: PrimaryLog, commits: CommitRecord,
                    first: SyncStrategy) -> Iterator[RanNode]:
        # replicas sharing a budget see each other's reads as they come: one timeline
        if which != range(len(self.elab.workload.names)):
            raise InvalidInput("strategies pooling one budget run all nodes together, "
                               "not in shards")
        env = simpy.Environment()
        nodes = [self.start(env, log, i, first if i == which.start else None) for i in which]
        env.run()
        for i, node in zip(which, nodes, strict=True):
            self._ran_one(node)
            yield RanNode(i, node, commits, self.writes[i])

    def _ran_one(self, node: ReplicaNode) -> None:
        if self.channel is not None:
            self.channel.ran(node.strategy)

    def _ran_together(self, which: range) -> Iterator[RanNode]:
        # local-first nodes push into the log they pull from: they run together
        elab = self.elab
        n = len(elab.workload.names)
        if which != range(n):
            raise InvalidInput("local-first writes run all nodes together, not in shards")
        planned = elab.planned
        assert planned is not None
        log = PrimaryLog(planned.times, planned.nbytes)
        env = simpy.Environment()
        nodes = deque(self.start(env, log, i) for i in range(n))
        if self.channel is not None:
            self.channel.during(elab, env, log, list(nodes))
        env.run()
        pushed: list[np.ndarray] = []
        for node in nodes:
            assert node.push_commit is not None  # local-first nodes record their pushes
            pushed.append(node.push_commit)
        self.writes = WritePlan(elab.writes, planned).with_pushes(pushed).nodes
        commits = self.commits = record_commits(planned, pushed, elab.workload,
                                                local_first=True)
        for i in range(n):
            node = nodes.popleft()
            self._ran_one(node)
            yield RanNode(i, node, commits, self.writes[i])

    def channel_counts(self) -> dict[str, int]:
        """The announcement channel's counts (none without one)."""
        return self.channel.counts() if self.channel is not None else {}
