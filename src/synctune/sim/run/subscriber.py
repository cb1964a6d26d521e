"""A replica node that hears the announcement channel: hints, heartbeats and reconnects reach
its strategy in time order with the app's events.

Channel events known before the run (delegated writes: the primary's log and the watcher's
pulls are known in advance) are merged with the app's events and handed over inline, as app
events are. With local-first writes, pushes made during the run are announced as they land:
such a node waits on the simulated clock between its events, so that a hint published by
another node wakes it at its arrival. A hint that arrives while this node's own sync is in
flight reaches the strategy when the sync ends (with its commit time, so the plan is the same;
a pull never counts such a hint as covered anyway).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from synctune.sim.run.channel import BEAT, HINT, UP
from synctune.sim.run.node import ReplicaNode

_INF = math.inf


class SubscriberNode(ReplicaNode):
    """A :class:`ReplicaNode` whose strategy hears the channel.

    Args:
        channel: the node's channel events known before the run: times, kinds (``HINT``,
            ``BEAT``, ``UP``) and values (a hint's commit time, NaN = unknown), sorted.
        dynamic: hints may also be delivered during the run (:meth:`deliver`).
        *args, **kwargs: as :class:`ReplicaNode`.
    """

    def __init__(self, *args: Any, channel: tuple[np.ndarray, np.ndarray, np.ndarray],
                 dynamic: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        t, k, v = channel
        self._inbox: list[tuple[float, int, int, float]] = [
            (ti, n, ki, vi) for n, (ti, ki, vi)
            in enumerate(zip(t.tolist(), k.tolist(), v.tolist(), strict=True))]
        self._seq = len(self._inbox)  # already in time order: a heap as it is
        self._dynamic = dynamic
        self._wake: simpy.Event | None = None
        self.hints = 0

    def deliver(self, t: float, commit: float) -> None:
        """A hint published during the run reaches this node at ``t`` (s)."""
        heapq.heappush(self._inbox, (t, self._seq, HINT, commit))
        self._seq += 1
        wake = self._wake
        if wake is not None and not wake.triggered:
            wake.succeed()

    def _sleep(self, t: float) -> Generator[simpy.events.Event, object, bool]:
        """Wait until ``t`` (s) or a delivery; True when a delivery came first."""
        env = self.env
        wake = self._wake = env.event()
        yield env.any_of([env.timeout(t - env.now), wake])
        self._wake = None
        return env.now < t

    def _give(self, now: float, kind: int, value: float) -> None:
        d = self.driver
        if self._pend:
            self._count_reads()
        if kind == HINT:
            self.hints += 1
            d.announcement(now, None if value != value else min(value, now))
        elif kind in (BEAT, UP):  # a heartbeat, or a (re)connect
            d.channel(now, True)

    def run(self) -> Generator[simpy.events.Event, object, None]:
        """The SimPy process: :meth:`ReplicaNode.run` with the channel's events merged in."""
        env, driver = self.env, self.driver
        next_due, handle = driver.next_due, self._handle
        ev_t, n, inbox, dynamic = self._ev_t, self._n, self._inbox, self._dynamic
        driver.start(0.0)
        self._note_interval(0.0)
        now, end, i = 0.0, self.end, 0
        while True:
            due = next_due(now)
            t_ev = ev_t[i] if i < n else _INF
            t_in = inbox[0][0] if inbox else _INF
            nxt = t_ev if t_ev < t_in else t_in
            # as in ReplicaNode.run: the run is [0, end], tested on the actual start
            start = _INF if due is None else (due if due > now else now)
            if due is not None and due < nxt and start <= end:
                if dynamic and start > env.now and (yield from self._sleep(start)):
                    continue  # a hint came first: hand it over, then decide again
                i = yield from self._attempt(start, i)
                now = self._told
                continue
            if nxt == _INF:
                # a hint published later may still make a pull due before the end
                if dynamic and env.now < end and (yield from self._sleep(end)):
                    continue
                break
            if dynamic and nxt > env.now and (yield from self._sleep(nxt)):
                continue
            if t_in <= t_ev:
                t, _, kind, value = heapq.heappop(inbox)
                if t > now:
                    now = t
                self._give(now, kind, value)
                continue
            now = t_ev
            handle(i, now)
            i += 1
        if self._pend:
            self._count_reads()
