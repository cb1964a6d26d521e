"""The watcher as a simulated node: one replica per primary that pulls on the
:class:`~synctune.policy.Watcher` cadence and announces each pull that brought changes (as
``synctune watch`` does: it cannot tell the fleet's commits from outside writers', and the
fleet's own announcements may be lost).

Its pulls are requests at the primary like any replica's (they count in the run's ``syncs``).
With long-poll the primary holds a pull that finds nothing until the next commit lands (or the
hold times out), so an idle primary sees one request per hold.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Generator

import numpy as np
import simpy

from synctune.policy.driver import SyncDriver
from synctune.policy.strategy import FailureKind, SyncReport
from synctune.policy.watcher import Watcher
from synctune.sim.elaborate.network import Link
from synctune.sim.elaborate.primary import PrimaryLog


class WatcherNode:
    """Drives a :class:`Watcher` over the primary's log until ``end`` (s).

    Args:
        env: the SimPy environment.
        strategy: the watcher's cadence.
        link: its network path to the primary.
        log: the primary's commit log.
        end: no pull starts at or after this time (s).
        commits: commit times known in advance, sorted (where a held long-poll returns).
        timeout: pull deadline (s) when the strategy sets none.
        overhead: protocol bytes per pull.
        apply_s: seconds to apply one pulled change.
    """

    def __init__(self, env: simpy.Environment, strategy: Watcher, link: Link, log: PrimaryLog,
                 end: float, *, commits: np.ndarray, timeout: float,
                 overhead: int, apply_s: float) -> None:
        self.env, self.strategy, self.link, self.log, self.end = env, strategy, link, log, end
        self._commits = np.asarray(commits, dtype=np.float64).tolist()
        self._overhead, self._apply_s = overhead, apply_s
        #: the step every driver takes (a replica node's, the live controller's)
        self.driver = SyncDriver(strategy, timeout)
        self.reach = -math.inf
        #: every attempt: (start, end, ok)
        self.pulls: list[tuple[float, float, bool]] = []
        #: announcements: when sent (s) and the earliest commit time they name (NaN = unknown)
        self.sent: list[float] = []
        self.floor: list[float] = []
        #: called as ``on_announce(sent, commit_floor)`` for each announcement (s; NaN = unknown)
        self.on_announce: Callable[[float, float], None] | None = None

    @property
    def syncs(self) -> int:
        """Successful pulls."""
        return sum(1 for _, _, ok in self.pulls if ok)

    def run(self) -> Generator[simpy.events.Event, object, None]:
        """The SimPy process."""
        driver, env = self.driver, self.env
        driver.start(0.0)
        now = 0.0
        while True:
            due = driver.next_due(now)
            if due is None or due >= self.end:
                return
            start = due if due > now else now
            if start > env.now:
                yield env.timeout(start - env.now)
            now = yield from self._pull(start)

    def _wait(self, t: float) -> Generator[simpy.events.Event, object, None]:
        if t > self.env.now:
            yield self.env.timeout(t - self.env.now)

    def _pull(self, start: float) -> Generator[simpy.events.Event, object, float]:
        s, link = self.strategy, self.link
        deadline = start + self.driver.begin(start)
        rtt, fault = link.attempt()
        one = rtt / 2.0
        if link.down(start) or fault is not None:
            failed = deadline if fault is None else start + fault * rtt
            yield from self._wait(failed)
            self.pulls.append((start, failed, False))
            kind = FailureKind.TIMEOUT if fault is None else FailureKind.NETWORK
            self.driver.failed(failed, kind, failed - start)
            return failed
        upto = start + one
        yield from self._wait(upto)  # local-first: meet the pushes landing by then
        if s.long_poll and self.log.count_between(self.reach, upto) == 0:
            # nothing new: the primary holds the pull until a commit lands, or its timeout
            k = bisect.bisect_right(self._commits, upto)
            nxt = self._commits[k] if k < len(self._commits) else math.inf
            upto = min(nxt, upto + s.long_poll_timeout)
            yield from self._wait(upto)
        count, nbytes = self.log.between(self.reach, upto)
        nbytes += self._overhead
        done = upto + one + link.transfer(nbytes) + count * self._apply_s
        if done > deadline:
            yield from self._wait(deadline)
            self.pulls.append((start, deadline, False))
            self.driver.failed(deadline, FailureKind.TIMEOUT, deadline - start)
            return deadline
        yield from self._wait(done)
        self.reach = upto
        self.pulls.append((start, done, True))
        self.driver.finished(done, SyncReport(done - start, count, 0, nbytes))
        if count:
            # dated by the watcher's own rule, as `synctune watch` dates it: the driver
            # knows no more than the pull's start, end and count
            floor = s.commit_floor
            self.sent.append(done)
            self.floor.append(math.nan if floor is None else floor)
            if self.on_announce is not None:
                self.on_announce(done, self.floor[-1])
        return done
