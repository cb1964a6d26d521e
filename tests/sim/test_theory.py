"""Periodic sync of a Poisson source reproduces Cho & Garcia-Molina's freshness and age."""

from __future__ import annotations

import math

import numpy as np
import pytest

from synctune.sim import poisson, simulate

from ._helpers import instant, single_node

INTERVAL = 10.0
PERIODS = 3000


def _theory(r: float) -> tuple[float, float]:
    freshness = (1 - math.exp(-r)) / r
    age = INTERVAL * (0.5 - 1 / r + (1 - math.exp(-r)) / r**2)
    return freshness, age


def _batch_check(values: np.ndarray, times: np.ndarray, expected: float, duration: float) -> None:
    # batch means over 30 blocks of time: a tolerance that follows the actual noise
    blocks = np.minimum((times / duration * 30).astype(int), 29)
    means = np.array([values[blocks == b].mean() for b in range(30)])
    se = means.std(ddof=1) / math.sqrt(means.size)
    assert abs(values.mean() - expected) < 4.5 * se + 1e-3 * max(expected, 1e-3), \
        (values.mean(), expected, se)


@pytest.mark.parametrize("r", [0.1, 0.5, 1.0, 2.0, 5.0, 10.0])
def test_periodic_sync_of_poisson_source_matches_cho_garcia_molina(r: float) -> None:
    duration = INTERVAL * PERIODS
    rng = np.random.default_rng(int(r * 1000))
    changes = poisson(r / INTERVAL, duration, rng)
    reads = poisson(20 / INTERVAL, duration, rng)
    cfg = instant(strategy=f"periodic:{INTERVAL:g}", duration=duration, seed=1)
    res = simulate(cfg, workload=single_node(changes, reads, duration))

    # the replica really synced every INTERVAL seconds
    starts = res.syncs["start"].to_numpy()
    assert np.allclose(np.diff(starts), INTERVAL)

    f_expected, a_expected = _theory(r)
    stale = res.reads["staleness_s"].to_numpy()
    t = res.reads["t"].to_numpy()
    _batch_check((stale == 0).astype(float), t, f_expected, duration)
    _batch_check(stale, t, a_expected, duration)
    assert res.summary["stale_read_fraction"] == pytest.approx(1 - (stale == 0).mean())
