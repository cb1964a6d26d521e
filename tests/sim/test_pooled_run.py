"""Replicas pooling one stale-read budget run in one timeline, as they do live."""

from __future__ import annotations

import random

import numpy as np
import pytest

from synctune.policy import Budgeted, StaleReadBudget
from synctune.policy.errors import InvalidInput
from synctune.sim import NodeLoad, SimConfig, Workload, simulate
from synctune.sim.shards import simulate_sharded


class _Clocked(StaleReadBudget):
    """A pooled budget that records when each replica books a cycle in it."""

    def __init__(self) -> None:
        super().__init__(0.01)
        self.booked: list[float] = []

    def book(self, now: float, reads: float, stale: float) -> None:
        self.booked.append(now)
        super().book(now, reads, stale)


def _fleet(seed: int = 3) -> Workload:
    rng = np.random.default_rng(seed)
    duration = 6 * 3600.0
    nodes = {f"reader-{i}": NodeLoad(reads=np.sort(rng.uniform(0.0, duration, 2000 * (i + 1))))
             for i in range(3)}
    commits = np.sort(rng.uniform(0.0, duration, 60))
    return Workload(nodes, duration, primary_writes=commits)


def _run(pool: StaleReadBudget, wl: Workload) -> dict[str, object]:
    def factory(freshness: float, rng: random.Random) -> Budgeted:
        return Budgeted(freshness, rng=rng, budget=pool)

    cfg = SimConfig(freshness=30.0, seed=0, scenario="web", duration=wl.duration,
                    strategy=factory, detail=False)
    return simulate(cfg, workload=wl).summary.as_dict()


def test_pooled_replicas_book_into_their_budget_in_time_order() -> None:
    # one replica after another, each from t = 0, booked into a window the previous one had
    # left at the end of the run, and the first planned alone as if on a budget of its own
    pool = _Clocked()
    _run(pool, _fleet())
    assert len(pool.booked) > 100
    assert all(b >= a for a, b in zip(pool.booked, pool.booked[1:], strict=False))
    assert pool.shared


def test_a_pooled_run_is_reproducible() -> None:
    wl = _fleet()
    assert _run(StaleReadBudget(0.01), wl) == _run(StaleReadBudget(0.01), wl)


def test_a_pooled_run_is_not_split_into_shards() -> None:
    from concurrent.futures import ThreadPoolExecutor

    pool = StaleReadBudget(0.01)

    def factory(freshness: float, rng: random.Random) -> Budgeted:
        return Budgeted(freshness, rng=rng, budget=pool)

    cfg = SimConfig(scenario="microservice", nodes=4, duration=600.0, strategy=factory,
                    seed=1, detail=False)
    with ThreadPoolExecutor(2) as ex, pytest.raises(InvalidInput, match="pooling one budget"):
        simulate_sharded(cfg, ex, workers=2)
