"""What you simulate is what you run: one event script, two drivers, the same decisions.

The same script of app events (local writes, reads, sync requests, commits by others on the
primary, and an outage in which attempts time out) is run through

* the simulator's driver: a :class:`~synctune.sim.run.node.ReplicaNode` on SimPy time, and
* the live controller: a :class:`~synctune.live.control.controller.SyncController` with its real
  sync thread against a :class:`~synctune.live.replica.fake.FakeReplica`, on a lockstep clock that
  hands the app's events over at their exact times whenever the sync thread waits or a sync
  takes time (as the simulator's node hands them over during its syncs),

for every strategy the spec parser builds. What is compared, exactly (floats bit for bit):

* every sync attempt: its start, its end and whether it succeeded;
* the sequence of decisions (due time, reason, interval) each driver acted on (the node's
  and the sync thread's, not what an app call peeks at), consecutive repeats merged (the
  live thread also asks when its timer wakes it).

To make the two comparable to the last bit the script uses instant syncs (no round trip, no
transfer, no apply time: an attempt ends as it starts, or at its deadline in the outage),
reads counted as they happen (``read_batch=0``), no minimum gap between live attempts
(``MIN_GAP = 0``), and a replica that reports a pull's changes as a count (the simulated
primary's log counts this replica's own pushes among them, so the fake does too). Event times
are never on a due time, so the order of an event and a sync is never a tie.
"""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from collections.abc import Callable

import numpy as np
import pytest
import simpy

from synctune.live.control import sync_loop
from synctune.live.control.controller import SyncController
from synctune.live.replica.base import PullResult, PushResult
from synctune.live.replica.fake import FakeCall, FakeReplica, Step
from synctune.live.timing import SYNC_THREAD_NAME
from synctune.policy import PRESETS, Decision, SyncStrategy, strategy_from_spec
from synctune.sim.config import Outage
from synctune.sim.elaborate.network import Link
from synctune.sim.elaborate.primary import PrimaryLog
from synctune.sim.run.node import READ, REQUEST, WRITE, ReplicaNode

D = 30.0
END = 900.0
OUTAGE = (200.0, 260.0)
TIMEOUT = 10.0
REMOTE = 9  # a commit by someone else on the primary (not an app event)

SPECS = [
    "periodic:60", "on-write", "manual", "seed-rule", "adaptive", "adaptive:0.05", "budgeted",
    "budgeted:0.05", "read-wait:1", "budgeted+read-wait:1", "adaptive+read-wait:2",
    "periodic:60+on-write", "periodic:45+on-write+manual", "announced",
    "announced+periodic:60", "announced+budgeted+read-wait:1", "watcher", "watcher:long-poll",
    *(f"preset:{name}" for name in PRESETS),
]

Row = tuple[float, float, bool]
Seen = tuple[float | None, str, float | None]


def _script(seed: int) -> list[tuple[float, int]]:
    """(time, kind) events, sorted; times carry an odd fraction so they never meet a due."""
    rng = random.Random(seed)
    t, out = 0.0, []
    while True:
        t += rng.choice([0.7, 3.1, 11.3, 47.9]) + rng.random() * 0.01
        if t >= END - 100.0:
            return out
        k = rng.random()
        kind = WRITE if k < 0.35 else READ if k < 0.8 else REQUEST if k < 0.87 else REMOTE
        out.append((t, kind))


def _strategy(spec: str) -> SyncStrategy:
    return strategy_from_spec(spec, D, rng=random.Random(7))


def _merged(seen: list[Seen]) -> list[Seen]:
    return [s for i, s in enumerate(seen) if i == 0 or s != seen[i - 1]]


def _note(seen: list[Seen], decision: Decision) -> None:
    seen.append((decision.due, decision.reason, decision.interval))


# ---------------------------------------------------------------------------- simulator
def simulated(spec: str, script: list[tuple[float, int]]) -> tuple[list[Row], list[Seen]]:
    strategy = _strategy(spec)
    asks = strategy.max_read_wait > 0.0
    app = [(t, k) for t, k in script if k != REMOTE]
    remote = np.array([t for t, k in script if k == REMOTE])
    n_writes = sum(1 for _, k in app if k == WRITE)
    refs, w, r = [], 0, 0
    for _, k in app:
        refs.append(w if k == WRITE else (r if asks else 1) if k == READ else 0)
        w, r = w + (k == WRITE), r + (k == READ)
    rng = np.random.default_rng(0)
    env = simpy.Environment()
    link = Link("a", 0.0, 0.0, math.inf, 0.0, (Outage(*OUTAGE),), rng, rng)
    zeros = np.zeros(remote.size, dtype=np.int64)
    node = ReplicaNode(env, 0, strategy, link, PrimaryLog(remote, zeros),
                       ([t for t, _ in app], [k for _, k in app], refs), END, local_first=True,
                       write_bytes=np.zeros(n_writes, dtype=np.int64), ryw_reach=None,
                       timeout=TIMEOUT, overhead=0, apply_s=0.0, base_bytes=0, read_batch=0.0)
    seen: list[Seen] = []

    def next_due(now: float) -> float | None:
        decision = strategy.decide(now)
        _note(seen, decision)
        return decision.due

    node.driver.next_due = next_due  # type: ignore[method-assign]
    env.process(node.run())
    env.run()
    return [(row[0], row[1], row[2]) for row in node.syncs], _merged(seen)


# ---------------------------------------------------------------------------------- live
class CountingFake(FakeReplica):
    """A fake whose pulls count every change they bring: others' commits and this replica's
    own pushes since the last pull (as the simulated primary's log does)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._own = 0

    def push(self, timeout: float) -> PushResult:
        result = super().push(timeout)
        self._own += result.changes
        return result

    def pull(self, timeout: float) -> PullResult:
        remote = self._remote
        result = super().pull(timeout)
        count, self._own = remote + self._own, 0
        return PullResult(changes=count, nbytes=result.nbytes)


class Lockstep:
    """The live side's timer: when the sync thread waits or sleeps, the app's events due
    before it would wake are handed over first, each at its own time; a wait for a due time
    lands on it exactly (the simulator's clock does; a real clock has no last bit to keep)."""

    def __init__(self, events: list[tuple[float, int]]) -> None:
        self._now = 0.0
        self.events = deque(events)
        self.deliver: Callable[[float, int], None] = lambda t, k: None
        self.due: float | None = None  # the decision the sync thread saw last
        self.finished = threading.Event()

    def now(self) -> float:
        return self._now

    def wait(self, event: threading.Event, seconds: float) -> bool:
        if threading.current_thread().name != SYNC_THREAD_NAME:
            return event.wait(5.0)  # the test stopping the controller
        target = self._now + max(0.0, seconds)
        due = self.due
        if due is not None and due > self._now and abs(target - due) <= 1e-9 * max(1.0, due):
            target = due
        if self.events and self.events[0][0] < target:
            t, kind = self.events.popleft()
            self._now = t
            self.deliver(t, kind)
            return True
        if target > END or self.finished.is_set():
            self._now = max(self._now, END + 1.0)  # what the stop flushes is past the end
            self.finished.set()
            return event.wait()  # until the test stops the controller
        self._now = target
        return event.is_set()

    def sleep(self, seconds: float) -> None:
        target = self._now + max(0.0, seconds)
        while not self.finished.is_set() and self.events and self.events[0][0] < target:
            t, kind = self.events.popleft()
            self._now = t
            self.deliver(t, kind)
        self._now = target


def live(spec: str, script: list[tuple[float, int]],
         monkeypatch: pytest.MonkeyPatch) -> tuple[list[Row], list[Seen]]:
    monkeypatch.setattr(sync_loop, "MIN_GAP", 0.0)
    timer = Lockstep(script)

    def network(call: FakeCall) -> Step | None:
        # the outage: an attempt started in it hangs until its deadline
        return Step(latency=1e9) if OUTAGE[0] <= call.began < OUTAGE[1] else None

    replica = CountingFake(network, timer=timer)
    strategy = _strategy(spec)
    ctl = SyncController(replica, strategy, timer=timer, default_timeout=TIMEOUT,
                         check_every=1e9)
    seen: list[Seen] = []
    guarded = ctl._driver
    decide = guarded.decide

    def noted(now: float) -> Decision | None:
        decision = decide(now)
        assert decision is not None, ctl._guard.error
        _note(seen, decision)
        timer.due = decision.due
        return decision

    guarded.decide = noted  # type: ignore[method-assign]

    def deliver(t: float, kind: int) -> None:
        if kind == WRITE:
            replica.commit(1)
            ctl.notify_write(1)
        elif kind == READ:
            ctl._hold_read()  # a read asks first (it would wait for the sync it wakes)
            ctl.notify_read(1)
        elif kind == REQUEST:
            ctl.request_sync()
        else:
            replica.remote_commit(1)

    timer.deliver = deliver
    ctl.start()
    assert timer.finished.wait(60.0), "the live side did not reach the end of the script"
    ctl.stop(deadline=5.0)
    rows = [(a.started, a.ended, a.ok) for a in ctl.history if a.started <= END]
    assert ctl._guard.errors == 0, ctl._guard.error
    return rows, _merged(seen)


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("seed", [1, 2])
def test_the_simulator_and_the_live_controller_decide_alike(
        spec: str, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    script = _script(seed)
    sim_rows, sim_seen = simulated(spec, script)
    live_rows, live_seen = live(spec, script, monkeypatch)
    assert live_rows == sim_rows
    assert live_seen == sim_seen
    if spec not in ("manual", "preset:development"):
        assert len(sim_rows) > 1  # the script makes this strategy sync at all
    # the outage made at least one attempt fail, except where nothing was due in it
    assert any(not ok for _, _, ok in sim_rows) or not any(
        OUTAGE[0] <= start < OUTAGE[1] for start, _, _ in sim_rows)
