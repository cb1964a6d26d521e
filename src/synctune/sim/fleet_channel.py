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

import numpy as np
import simpy

from synctune.policy.announced import Announced
from synctune.policy.strategy import SyncStrategy
from synctune.policy.watcher import Watcher
from synctune.sim import rng as streams
from synctune.sim.channel import ChannelModel
from synctune.sim.config import SimConfig
from synctune.sim.result import RunSummary
from synctune.sim.strategies import build, is_notify
from synctune.sim.subscriber import SubscriberNode

#: a delivery delay the watcher's cadence allows for: the model's p99 (log-normal, sigma 0.5)
_DELAY_P99 = math.exp(0.5 * 2.326)


def announcing(cfg: SimConfig) -> bool:
    """Whether the run's replicas hear a channel: ``notify``, or an :class:`Announced`."""
    if is_notify(cfg.strategy):
        return True
    try:
        probe = build(cfg.strategy, cfg.freshness, random.Random(0))
    except Exception:
        return False
    return isinstance(probe, Announced)


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
