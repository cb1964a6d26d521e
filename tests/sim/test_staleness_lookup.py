"""Staleness looks the log up per pull or per time, whichever is fewer: the same figures."""

from __future__ import annotations

import numpy as np
import pytest

from synctune.sim.reduce.staleness import staleness


@pytest.mark.parametrize("seed", range(20))
def test_lookup_per_time_equals_per_pull(seed: int) -> None:
    rng = np.random.default_rng(seed)
    commits = np.sort(rng.uniform(0, 100, rng.integers(1, 400)))
    # a timeline that starts before any pull, with repeated and unchanged reaches
    vis_t = np.concatenate([[0.0], np.sort(rng.uniform(0, 100, rng.integers(1, 60)))])
    reach = np.maximum.accumulate(np.concatenate(
        [[-np.inf], np.minimum(vis_t[1:] - rng.uniform(0, 5, vis_t.size - 1), 100.0)]))
    reach[rng.integers(0, reach.size)] = commits[rng.integers(0, commits.size)]
    reach = np.maximum.accumulate(reach)
    upto = np.searchsorted(commits, reach, side="right")
    many = np.sort(rng.uniform(-1, 101, reach.size * 3))  # per pull
    few = many[:: max(1, many.size // max(1, reach.size - 1))][: reach.size - 1]  # per time
    for times in (many, few):
        want = staleness(times, vis_t, reach, commits, upto)
        got = staleness(times, vis_t, reach, commits)
        assert np.array_equal(want, got)
    assert few.size < reach.size  # the per-time lookup was taken
