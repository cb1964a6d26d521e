"""IntervalHedge: a distribution over a log grid, no regret, deterministic; wired into Budgeted."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synctune.policy import Budgeted, SyncReport
from synctune.policy.errors import InvalidInput
from synctune.policy.interval_hedge import IntervalHedge, cycle_losses

losses_of = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=9, max_size=9)


@settings(max_examples=60, deadline=None)
@given(st.lists(losses_of, max_size=40))
def test_weights_stay_a_distribution_and_the_multiplier_in_the_grid(rounds: list[list[float]]
                                                                     ) -> None:
    h = IntervalHedge(0.25, 4.0, 9)
    for losses in rounds:
        h.update(losses)
        assert all(w >= 0.0 for w in h.weights)
        assert math.isclose(sum(h.weights), 1.0, rel_tol=1e-12)
        assert h.grid[0] * (1 - 1e-12) <= h.multiplier <= h.grid[-1] * (1 + 1e-12)
    assert h.rounds == len(rounds)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_deterministic_for_a_seed(seed: int) -> None:
    def play() -> tuple[float, tuple[float, ...]]:
        rng = random.Random(seed)
        h = IntervalHedge()
        for _ in range(50):
            h.update([rng.random() for _ in h.grid])
        return h.multiplier, h.weights

    assert play() == play()


def test_grid_is_log_spaced_between_its_ends() -> None:
    g = IntervalHedge(0.5, 8.0, 5).grid
    assert g[0] == pytest.approx(0.5) and g[-1] == pytest.approx(8.0)
    ratios = [b / a for a, b in itertools.pairwise(g)]
    assert ratios == pytest.approx([2.0] * 4)


def _regret_bound(rounds: int, arms: int) -> float:
    return math.sqrt(2.0 * rounds * math.log(arms)) + math.sqrt(math.log(arms) / 8.0)


@pytest.mark.parametrize("seed", range(5))
def test_regret_within_hedge_bound_on_an_adversarial_sequence(seed: int) -> None:
    # the adversary knows the weights and hits the arm with the most weight; the others get
    # random losses: Hedge's expected loss stays within the anytime bound of the best arm
    rng = random.Random(seed)
    h = IntervalHedge(0.25, 4.0, 9)
    paid = 0.0
    for _ in range(2000):
        w = h.weights
        top = max(range(9), key=w.__getitem__)
        losses = [1.0 if i == top else 0.5 * rng.random() for i in range(9)]
        paid += sum(p * x for p, x in zip(w, losses, strict=True))
        h.update(losses)
    regret = paid - min(h.cumulative_loss())
    assert regret <= _regret_bound(2000, 9)
    assert regret > 0.0  # the adversary does cost something: the test can fail


def test_concentrates_on_the_best_arm() -> None:
    h = IntervalHedge(0.25, 4.0, 9)
    for _ in range(500):
        h.update([0.0 if i == 6 else 1.0 for i in range(9)])
    assert h.weights[6] > 0.99
    assert h.multiplier == pytest.approx(h.grid[6], rel=0.01)


def test_bad_input_names_field_and_value() -> None:
    with pytest.raises(InvalidInput, match="high must be >= low"):
        IntervalHedge(2.0, 1.0)
    with pytest.raises(InvalidInput, match=r"losses\[1\] must be in \[0, 1\], got 1.5"):
        IntervalHedge(arms=2).update([0.0, 1.5])
    with pytest.raises(InvalidInput, match="losses must have 2 entries"):
        IntervalHedge(arms=2).update([0.0])


def test_cycle_losses_prefer_long_cycles_when_nothing_changes_and_short_when_much_did() -> None:
    grid = IntervalHedge().grid
    quiet = cycle_losses(grid, 100.0, 50.0, 0.0, 30.0, 10.0, rate=0.0)
    busy = cycle_losses(grid, 100.0, 50.0, 20.0, 30.0, 10.0, rate=0.2)
    assert quiet is not None and busy is not None
    assert min(quiet) == quiet[-1] and max(quiet) == quiet[0] == 1.0
    assert busy.index(min(busy)) < len(grid) - 1
    assert cycle_losses(grid, 100.0, 0.0, 1.0, 30.0, 10.0) is None  # no reads: no lesson


def _drive(strategy: Budgeted, changed: bool) -> float:
    rng = random.Random(3)
    now = 0.0
    strategy.start(now)
    for _ in range(200):
        due = strategy.decide(now).due
        while due is None or now < due:
            now += rng.expovariate(0.5)
            strategy.on_read(now)
            due = strategy.decide(now).due
        strategy.on_sync_started(now)
        strategy.on_sync_finished(now + 0.05, SyncReport(0.05, pulled=int(changed)))
        now += 0.05
    return strategy.interval


def test_budgeted_learns_longer_cycles_when_pulls_bring_nothing() -> None:
    plain, learned = Budgeted(30.0), Budgeted(30.0, learn=True)
    assert plain.config.learn is False and learned.config.learn is True
    _drive(plain, True)
    _drive(learned, True)
    quiet_plain, quiet_learned = Budgeted(30.0), Budgeted(30.0, learn=True)
    _drive(quiet_plain, False)
    _drive(quiet_learned, False)
    assert quiet_learned._hedge is not None and quiet_learned._hedge.rounds > 0
    assert learned._hedge is not None and learned._hedge.rounds > 0
    assert quiet_learned._hedge.multiplier > 1.0
    assert learned._hedge.multiplier < quiet_learned._hedge.multiplier


def test_budgeted_learn_must_be_a_flag() -> None:
    with pytest.raises(Exception, match="learn"):
        Budgeted(30.0, learn="yes")  # type: ignore[arg-type]
