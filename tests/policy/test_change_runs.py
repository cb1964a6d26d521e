"""ChangeRuns: the share of changed pulls that carry on a burst, from changed-or-not alone."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synctune.policy import Adaptive, Budgeted, SyncReport, SyncStrategy, Watcher
from synctune.policy.change_runs import ChangeRuns, binary_upper
from synctune.policy.errors import InvalidInput


@given(st.lists(st.tuples(st.booleans(), st.floats(0.0, 1e6)), max_size=200))
def test_the_share_stays_in_bounds_and_is_zero_after_a_quiet_pull(
        pulls: list[tuple[bool, float]]) -> None:
    runs = ChangeRuns()
    before = runs.carried
    for changed, span in pulls:
        got = runs.observe(changed, span)
        assert got == before  # a pull is judged by what was known before it
        assert 0.0 <= runs.carried <= 1.0
        if not changed:
            assert runs.carried == 0.0
        before = runs.carried


def test_independent_changes_carry_nothing_on() -> None:
    # theory: with changes independent of the previous pull (Bernoulli per pull, as a Poisson
    # source with fixed cycles), the chance of a change after a changed pull is the chance
    # after a quiet one, so the estimate tends to 0
    rng = random.Random(7)
    runs = ChangeRuns(half_life=1e9)
    for _ in range(50_000):
        runs.observe(rng.random() < 0.4, 30.0)
    assert runs.share_carried() < 0.03


@pytest.mark.parametrize(("stay", "start"), [(0.8, 0.1), (0.6, 0.05), (0.9, 0.3)])
def test_bursts_that_go_on_are_measured(stay: float, start: float) -> None:
    # a two-state source: after a changed pull, changes again with probability ``stay``;
    # after a quiet one with ``start``: the share carried on is 1 - start / stay
    rng = random.Random(11)
    runs = ChangeRuns(half_life=1e9)
    changed = False
    for _ in range(50_000):
        changed = rng.random() < (stay if changed else start)
        runs.observe(changed, 30.0)
    assert runs.share_carried() == pytest.approx(1.0 - start / stay, abs=0.03)


def test_old_evidence_fades() -> None:
    runs = ChangeRuns(half_life=36_000.0)  # 1,200 pulls of 30 s
    rng = random.Random(3)
    changed = False
    for _ in range(10_000):  # bursts that go on, then changes independent of each other
        changed = rng.random() < (0.9 if changed else 0.1)
        runs.observe(changed, 30.0)
    assert runs.share_carried() > 0.75
    for _ in range(20_000):
        runs.observe(rng.random() < 0.3, 30.0)
    assert runs.share_carried() < 0.1


def test_bad_settings_name_the_field() -> None:
    with pytest.raises(InvalidInput, match="half_life"):
        ChangeRuns(half_life=0.0)
    with pytest.raises(InvalidInput, match="prior"):
        ChangeRuns(prior=-1.0)


def _run(make: Callable[[], SyncStrategy], make_report: Callable[[int], SyncReport],
         seed: int) -> list[float | None]:
    """A tuner under reads and random pulls; when it wants the next sync, pull by pull."""
    rng = random.Random(seed)
    s = make()
    s.start(0.0)
    t, out = 0.0, []
    for _ in range(400):
        for _ in range(rng.randrange(0, 30)):
            t += rng.uniform(0.0, 3.0)
            s.on_read(t)
        t += rng.uniform(0.0, 20.0)
        n = rng.choice([0, 0, 0, 1, 2, 7, 40])
        s.on_sync_started(t)
        t += 0.2
        s.on_sync_finished(t, make_report(n))
        out.append(s.decide(t).due)
    return out


TUNERS: dict[str, Callable[[], SyncStrategy]] = {
    "budgeted": lambda: Budgeted(30.0, rng=random.Random(1)),
    "adaptive": lambda: Adaptive(30.0, rng=random.Random(1)),
    "watcher": lambda: Watcher(30.0, rng=random.Random(1), stale_share=0.05),
}


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("tuner", sorted(TUNERS))
def test_a_tuner_decides_the_same_whether_the_driver_counts_changes_or_not(
        tuner: str, seed: int) -> None:
    # pyturso and libsql only tell whether a pull changed anything; the simulator counts:
    # by default both drive a tuner to the same decisions
    make = TUNERS[tuner]
    counted = _run(make, lambda n: SyncReport(0.2, pulled=n), seed)
    told = _run(make, lambda n: SyncReport(0.2, pulled=min(n, 1)), seed)
    assert counted == told
    assert len(set(counted)) > 100  # the decisions moved: a real comparison


def test_a_yes_no_bound_widens_by_the_information_a_yes_no_answer_loses() -> None:
    # theory: the rate's MLE from n changed-or-not pulls of span s has a spread
    # sqrt((e^m - 1) / m) times that of counted pulls (m = rate * s); checked by sampling
    rng = random.Random(5)
    rate, span, n = 0.04, 50.0, 400  # m = 2
    estimates = []
    for _ in range(1000):
        changed = sum(1 for _ in range(n) if rng.random() < -math.expm1(-rate * span))
        estimates.append(-math.log1p(-changed / n) / span)
    counted_sd = math.sqrt(rate / (n * span))
    ratio = statistics.pstdev(estimates) / counted_sd
    assert ratio == pytest.approx(math.sqrt(math.expm1(2.0) / 2.0), rel=0.1)
    widened = binary_upper(rate, rate + 1.645 * counted_sd, span)
    assert widened == pytest.approx(rate + 1.645 * ratio * counted_sd, rel=0.05)
    # rare changes lose nothing; an unknown rate keeps its bound
    assert binary_upper(1e-6, 2e-6, 1.0) == pytest.approx(2e-6, rel=1e-5)
    assert binary_upper(math.nan, 0.5, 10.0) == 0.5
    assert binary_upper(0.1, math.inf, 10.0) == math.inf
    # every pull changes: yes/no answers bound nothing, and the bound never falls as m grows
    assert binary_upper(1.0, 1.5, 60.0) == math.inf
    bounds = [binary_upper(r, r + 0.1, 10.0) for r in (0.01, 0.1, 1.0, 4.0, 4.99, 5.0)]
    assert bounds == sorted(bounds)
