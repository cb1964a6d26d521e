"""Who announces what in a simulated fleet, and what each replica hears.

Publishers: a node's delegated write (sent when the write returns, naming the time it was
issued: the earliest its commit can be), a node's push of local-first writes (sent when it
lands, naming the sync's start), and the watcher, which announces each of its pulls that
brought changes (the outside writers' commits, and the fleet's own again: a second chance for
a lost hint). A replica does not hear its own hints. ``notify`` hears every commit at its
commit time instead (a perfect channel).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import random
from typing import TYPE_CHECKING

import numpy as np
import simpy

from synctune.policy.announced import Announced
from synctune.policy.strategy import SyncStrategy
from synctune.policy.watcher import Watcher
from synctune.sim.config import SimConfig
from synctune.sim.elaborate import rng as streams
from synctune.sim.elaborate.network import Link
from synctune.sim.elaborate.primary import PrimaryLog
from synctune.sim.result import RunSummary
from synctune.sim.run.channel import ChannelModel
from synctune.sim.run.node import ReplicaNode
from synctune.sim.run.notify import Notify
from synctune.sim.run.strategies import build, is_notify, is_oracle
from synctune.sim.run.subscriber import SubscriberNode
from synctune.sim.run.watcher import WatcherNode

if TYPE_CHECKING:
    from synctune.sim.elaborate.elaborate import Elaboration

#: a delivery delay the watcher's cadence allows for: the model's p99 (log-normal, sigma 0.5)
_DELAY_P99 = math.exp(0.5 * 2.326)


def announcing(cfg: SimConfig) -> bool:
    """Whether the run's replicas hear a channel, as far as its spec says: ``notify``, or a
    spec that builds an :class:`Announced` (a class or factory is known only when the engine
    builds a node's strategy: it is never called for a look here)."""
    if is_notify(cfg.strategy):
        return True
    if not isinstance(cfg.strategy, str) or is_oracle(cfg.strategy):
        return False
    return isinstance(build(cfg.strategy, cfg.freshness, random.Random(0)), Announced)


def is_announced(strategy: SyncStrategy) -> bool:
    """Whether a node's strategy listens to announcements (so it gets a subscriber node)."""
    return isinstance(strategy, Announced)


def model_of(cfg: SimConfig) -> ChannelModel:
    """The channel the run's replicas hear: perfect for ``notify``, else as configured."""
    if is_notify(cfg.strategy):
        return ChannelModel.perfect()
    return ChannelModel(cfg.announce_delay_ms, cfg.announce_loss, cfg.announce_outages)


def watcher_for(cfg: SimConfig, model: ChannelModel) -> Watcher:
    """The watcher's cadence for this run's D, channel and long-poll setting."""
    return Watcher(cfg.freshness, long_poll=cfg.watcher_long_poll,
                   announce_delay=model.delay_ms / 1000.0 * _DELAY_P99,
                   rng=streams.python_random(cfg.seed, "watcher"))


class Hints:
    """Every hint published before the run: when sent (s), the commit time it names (NaN =
    unknown) and who sent it (node index; -1 = the watcher or the primary's log)."""

    def __init__(self) -> None:
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.sent = self.commit = np.empty(0)
        self.origin = np.empty(0, dtype=np.int32)

    def add(self, sent: np.ndarray, commit: np.ndarray, origin: int) -> None:
        sent = np.asarray(sent, dtype=np.float64)
        self._parts.append((sent, np.asarray(commit, dtype=np.float64),
                            np.full(sent.size, origin, dtype=np.int32)))
        self.sent, self.commit, self.origin = (np.concatenate([p[k] for p in self._parts])
                                               for k in range(3))

    @property
    def count(self) -> int:
        """Hints published."""
        return int(self.sent.size)

    def for_node(self, i: int, model: ChannelModel, duration: float, seed: int,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What node ``i`` hears: the others' hints through ``model``, its heartbeats and
        reconnects (times, kinds, values)."""
        others = self.origin != i
        rng = streams.generator(seed, "announce", i)
        return model.node_events(self.sent[others], self.commit[others], self.origin[others],
                                 duration, rng)


def _deliver(node: SubscriberNode, t: float, commit: float, _event: object) -> None:
    node.deliver(t, commit)


class Publisher:
    """Hints published during the run (local-first pushes, the watcher's finds), each
    delivered to every other subscriber through the channel model."""

    def __init__(self, env: simpy.Environment, model: ChannelModel,
                 nodes: list[SubscriberNode], seed: int) -> None:
        self.env, self.model, self.nodes = env, model, nodes
        self._rngs = [streams.generator(seed, "announce", 100_000 + k) for k in range(len(nodes))]
        self.count = 0

    def publish(self, origin: int, sent: float, commit: float) -> None:
        """``origin`` (-1 = the watcher) announces at ``sent`` a commit at ``commit`` (s)."""
        self.count += 1
        env = self.env
        for k, node in enumerate(self.nodes):
            if node.index == origin:
                continue
            arrive = float(self.model.arrivals(np.array([sent]), self._rngs[k])[0])
            if arrive != arrive:
                continue  # lost
            if arrive <= env.now:
                node.deliver(arrive, commit)
            else:
                ev = env.timeout(arrive - env.now)
                ev.callbacks.append(functools.partial(_deliver, node, arrive, commit))

    def on_push(self, origin: int, landed: float, started: float) -> None:
        """A node's push landed at ``landed``: announced naming the sync's start (the
        earliest its commits can have landed), or the exact time on a perfect channel."""
        self.publish(origin, landed, landed if self.model.ideal else started)


def with_counts(summary: RunSummary, parts: list[dict[str, int]]) -> RunSummary:
    """``summary`` with the channel's counts of its shards (the watcher and the hints are the
    run's, the same in every shard; fallback syncs are per node), the watcher's pulls added
    to ``syncs``: they are requests at the primary like any replica's."""
    parts = [p for p in parts if p]
    if not parts:
        return summary
    watcher = max(p["watcher_syncs"] for p in parts)
    syncs = summary.syncs + watcher
    oracle = summary.oracle_syncs
    per_oracle = syncs / oracle if oracle else (0.0 if not syncs else math.inf)
    return dataclasses.replace(
        summary, syncs=syncs, syncs_per_oracle=per_oracle, watcher_syncs=watcher,
        announcements=max(p["announcements"] for p in parts),
        fallback_syncs=sum(p["fallback_syncs"] for p in parts))


class FleetChannel:
    """A run's announcements: the hints known before it, those published during it (local-
    first pushes), the watcher, and the counts for the summary.

    The run as elaborated is passed in (``run``): its commit log and write plan."""

    def __init__(self, cfg: SimConfig) -> None:
        self.cfg = cfg
        self.model = model_of(cfg)
        self.hints = Hints()
        self.published = False
        self.watcher: WatcherNode | None = None
        self.publisher: Publisher | None = None
        self.fallback_syncs = 0

    @classmethod
    def of(cls, cfg: SimConfig) -> FleetChannel | None:
        """The run's channel, or ``None`` when its replicas hear none."""
        return cls(cfg) if announcing(cfg) else None

    def hears(self, strategy: SyncStrategy) -> bool:
        """Whether a node with ``strategy`` gets the channel's events."""
        return isinstance(strategy, Notify) or is_announced(strategy)

    def events_for(self, i: int, duration: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What node ``i`` hears of the hints published before the run."""
        return self.hints.for_node(i, self.model, duration, self.cfg.seed)

    def watch(self, run: Elaboration, env: simpy.Environment, log: PrimaryLog) -> WatcherNode:
        """The watcher node, its process started in ``env``."""
        cfg = self.cfg
        commits = np.sort(_planned(run)) if run.local_first else _commit_times(run)
        link = Link("watcher", run.setting.rtt_ms, cfg.rtt_jitter, cfg.bytes_per_second,
                    cfg.failure_prob, cfg.outages, streams.generator(cfg.seed, "watcher", 1),
                    streams.generator(cfg.seed, "watcher", 2))
        node = WatcherNode(env, watcher_for(cfg, self.model), link, log, run.duration,
                           commits=commits, timeout=cfg.sync_timeout,
                           overhead=cfg.sync_overhead_bytes, apply_s=cfg.apply_s_per_change)
        env.process(node.run())
        self.watcher = node
        return node

    def before(self, run: Elaboration, log: PrimaryLog) -> None:
        """The hints known before the nodes run: with delegated writes all of them (the
        writes' and the watcher's), with local-first writes the primary's own commits on a
        perfect channel (the rest are published as pushes land)."""
        hints, ideal = self.hints, self.model.ideal
        if run.local_first:
            if ideal:
                hints.add(_planned(run), _planned(run), -1)
        elif ideal:
            ct = _commit_times(run)
            hints.add(ct, ct, -1)  # every commit, its own too, as it lands
        else:
            for j, ld in enumerate(run.workload.nodes.values()):
                ok = run.writes[j].ok & (ld.writes <= run.duration)
                hints.add(run.writes[j].heard[ok], ld.writes[ok], j)
            env = simpy.Environment()
            w = self.watch(run, env, log)
            env.run()
            hints.add(np.asarray(w.sent), np.asarray(w.floor), -1)
        self.published = True

    def during(self, run: Elaboration, env: simpy.Environment, log: PrimaryLog,
               nodes: list[ReplicaNode]) -> None:
        """Local-first: pushes (and the watcher's finds) announced as they happen."""
        subs = [n for n in nodes if isinstance(n, SubscriberNode)]
        pub = self.publisher = Publisher(env, self.model, subs, self.cfg.seed)
        for n in nodes:
            n.on_push = pub.on_push
        if not self.model.ideal:
            self.watch(run, env, log).on_announce = functools.partial(pub.publish, -1)

    def ran(self, strategy: SyncStrategy) -> None:
        """A node is done: count its fallback syncs."""
        if isinstance(strategy, Announced):
            self.fallback_syncs += strategy.fallback_syncs

    def counts(self) -> dict[str, int]:
        """The run's watcher syncs, announcements published and fallback syncs."""
        published = self.hints.count + (self.publisher.count if self.publisher else 0)
        return {"watcher_syncs": self.watcher.syncs if self.watcher is not None else 0,
                "announcements": published, "fallback_syncs": self.fallback_syncs}


def _planned(run: Elaboration) -> np.ndarray:
    """Local-first: the commits known before the run (the primary's own), unsorted."""
    assert run.planned is not None
    return run.planned.times


def _commit_times(run: Elaboration) -> np.ndarray:
    """Delegated: every commit time, sorted."""
    assert run.commits is not None
    return run.commits.times
