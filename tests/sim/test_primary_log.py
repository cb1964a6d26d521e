"""The primary's log answers range counts as a plain binary search over it would."""

from __future__ import annotations

import bisect

import numpy as np
import pytest

from synctune.sim.elaborate.primary import PrimaryLog


@pytest.mark.parametrize("seed", range(10))
def test_between_equals_plain_search(seed: int) -> None:
    rng = np.random.default_rng(seed)
    times = np.round(rng.uniform(0, 50, rng.integers(0, 3000)), 2)  # ties included
    nbytes = rng.integers(1, 100, times.size)
    log = PrimaryLog(times, nbytes)
    t = np.sort(times).tolist()
    cum = np.concatenate([[0], np.cumsum(nbytes[np.argsort(times, kind="stable")])]).tolist()
    after = -np.inf
    for _ in range(400):
        # mostly a node moving on from its last reach, sometimes a jump back or far ahead
        step = rng.choice([rng.uniform(0, 0.5), rng.uniform(0, 60), -rng.uniform(0, 20)])
        upto = float(np.round(after + step, 2)) if np.isfinite(after) else float(step)
        if rng.uniform() < 0.1:
            upto = float(rng.choice(t)) if t else upto  # exactly on a commit
        a, b = bisect.bisect_right(t, after), bisect.bisect_right(t, upto)
        want = max(b - a, 0) if upto > after else 0
        assert log.count_between(after, upto) == want
        assert log.between(after, upto) == ((want, cum[b] - cum[a]) if upto > after else (0, 0))
        if rng.uniform() < 0.8:
            after = upto
