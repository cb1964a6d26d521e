"""The simulated watcher dates what it announces by the watcher's own rule (as ``synctune
watch`` does), and never later than the commits it found landed."""

from __future__ import annotations

import math

import numpy as np
import simpy
from hypothesis import example, given, settings
from hypothesis import strategies as st

from synctune.policy import Watcher
from synctune.sim.elaborate.network import Link
from synctune.sim.elaborate.primary import PrimaryLog
from synctune.sim.run.watcher import WatcherNode

END = 600.0


def _run(commits: list[float], long_poll: bool, rtt_ms: float
         ) -> tuple[WatcherNode, np.ndarray, list[tuple[float, float]]]:
    """The watcher over ``commits`` until END; with the (after, upto) of each pull's read of
    the log, in order (no faults: every attempt reads it once)."""
    times = np.array(sorted(commits), dtype=np.float64)
    env = simpy.Environment()
    link = Link("watcher", rtt_ms, 0.3, 1e7, 0.0, (), np.random.default_rng(1),
                np.random.default_rng(2))
    node = WatcherNode(env, Watcher(30.0, long_poll=long_poll, stale_share=0.0), link,
                       PrimaryLog(times, np.full(times.size, 100)), END, commits=times,
                       timeout=10.0, overhead=200, apply_s=1e-4)
    reads: list[tuple[float, float]] = []
    between = node.log.between

    def logged(after: float, upto: float) -> tuple[int, int]:
        reads.append((after, upto))
        return between(after, upto)

    node.log.between = logged  # type: ignore[method-assign]
    env.process(node.run())
    env.run()
    return node, times, reads


@settings(max_examples=80, deadline=None)
@given(commits=st.lists(st.floats(0.0, END), max_size=40), long_poll=st.booleans(),
       rtt_ms=st.sampled_from([0.0, 5.0, 80.0]))
@example(commits=[100.0], long_poll=True, rtt_ms=5.0)
# answers dearer than the quick pulls before them: their transfer and apply come off too
@example(commits=[0.0, 1.0, 66.0, 66.0], long_poll=True, rtt_ms=0.0)
@example(commits=[0.0, 36.0, 36.0, 36.0, 36.0, 36.0], long_poll=True, rtt_ms=0.0)
def test_every_announced_date_is_at_or_before_the_commits_it_announces(
        commits: list[float], long_poll: bool, rtt_ms: float) -> None:
    node, times, reads = _run(commits, long_poll, rtt_ms)
    assert len(reads) == len(node.pulls)
    announced = 0
    for (_, end, ok), (after, upto) in zip(node.pulls, reads, strict=True):
        new = times[(times > after) & (times <= upto)]  # what this pull brought
        if not ok or not new.size:
            continue
        floor = node.floor[node.sent.index(end)]
        assert math.isnan(floor) or floor <= new.min() + 1e-9
        announced += 1
    assert announced == len(node.sent)


def test_a_held_pull_released_by_a_commit_announces_it_close_to_when_it_landed() -> None:
    quick = [float(t) for t in range(5, 50, 10)]  # the primary busy at first: quick pulls
    node, _, _ = _run([*quick, 300.0], long_poll=True, rtt_ms=5.0)
    floor = node.floor[-1]
    assert 299.5 < floor <= 300.0  # its end less a quick pull's time, not its start
