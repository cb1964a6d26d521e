"""The staleness model: closed form against integration and sampling; the interval solve."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import integrate

from synctune.policy.staleness_model import (
    cycle_stale_share,
    longest_interval,
    stale_share,
)

rates = st.floats(min_value=1e-7, max_value=1e4)
budgets = st.floats(min_value=-50.0, max_value=1e4)
cycles = st.floats(min_value=1e-3, max_value=1e5)
shares = st.floats(min_value=1e-4, max_value=0.5)


def integrated(cycle: float, rate: float, budget: float) -> float:
    """S by numerical integration of P(stale at u) = 1 - exp(-rate max(0, u - a))."""
    lo = min(max(budget, 0.0), cycle)
    # split where the integrand bends so quadrature cannot step over the knee
    knots = [lo] + [k for k in (lo + 1 / rate, lo + 10 / rate) if lo < k < cycle] + [cycle]
    value = sum(integrate.quad(lambda u: -math.expm1(-rate * (u - budget)), x0, x1,
                               limit=200, epsabs=1e-13, epsrel=1e-11)[0]
                for x0, x1 in itertools.pairwise(knots))
    return value / cycle


@given(cycles, st.floats(min_value=1e-4, max_value=100.0), budgets)
def test_closed_form_matches_integration(cycle: float, rate: float, budget: float) -> None:
    assert cycle_stale_share(cycle, rate, budget) == pytest.approx(
        integrated(cycle, rate, budget), rel=1e-6, abs=1e-12)


def test_closed_form_matches_sampled_reads() -> None:
    # simulate commits and uniformly spread reads directly, no formula involved
    rng = random.Random(5)
    rate, freshness, latency, interval = 0.05, 30.0, 2.0, 40.0
    cycle = interval + latency
    stale = reads = 0
    for _ in range(20_000):
        snapshot = 0.0  # the pull reflects the primary as of the sync's start
        first_commit = snapshot + rng.expovariate(rate)
        for _ in range(5):
            read = latency + rng.uniform(0.0, cycle)  # u in [0, c) after the sync finished
            reads += 1
            # stale iff a commit the replica lacks is older than D at read time
            stale += first_commit <= read - freshness
    measured = stale / reads
    predicted = stale_share(interval, rate, freshness, latency)
    assert measured == pytest.approx(predicted, abs=4 * math.sqrt(predicted / reads) + 1e-3)


def test_hand_values() -> None:
    # a = D - L = 50, c = I + L = 100, rate 0.1: [(50) - (1 - e^-5)/0.1] / 100
    assert stale_share(90.0, 0.1, 60.0, 10.0) == pytest.approx((50 - (1 - math.exp(-5)) / 0.1)
                                                               / 100)
    assert stale_share(40.0, 5.0, 60.0, 10.0) == 0.0  # c = 50 <= a: every read fresh
    assert stale_share(90.0, math.inf, 60.0, 10.0) == pytest.approx(0.5)  # (c - a) / c
    assert stale_share(90.0, 0.0, 60.0, 10.0) == 0.0


@given(cycles, cycles, rates, budgets)
def test_share_grows_with_the_cycle(c1: float, c2: float, rate: float, budget: float) -> None:
    lo, hi = sorted((c1, c2))
    assert cycle_stale_share(lo, rate, budget) <= cycle_stale_share(hi, rate, budget) + 1e-12


@given(cycles, rates, rates, budgets)
def test_share_grows_with_the_rate(cycle: float, r1: float, r2: float, budget: float) -> None:
    lo, hi = sorted((r1, r2))
    s_lo, s_hi = cycle_stale_share(cycle, lo, budget), cycle_stale_share(cycle, hi, budget)
    assert s_lo <= s_hi + 1e-12
    assert s_hi <= cycle_stale_share(cycle, math.inf, budget) + 1e-12
    assert 0.0 <= s_lo <= 1.0


@given(rates, st.floats(min_value=1.0, max_value=1e4), st.floats(min_value=0.0, max_value=50.0),
       shares, st.floats(min_value=0.01, max_value=100.0), st.floats(min_value=1.0, max_value=1e5))
def test_longest_interval_is_bounded_and_meets_the_target(
        rate: float, freshness: float, latency: float, share: float, lo: float,
        span: float) -> None:
    hi = lo + span
    choice = longest_interval(rate, freshness, latency, share, lo, hi)
    assert lo <= choice.interval <= hi
    s = stale_share(choice.interval, rate, freshness, latency)
    assert s == pytest.approx(choice.predicted_stale_share, rel=1e-9, abs=1e-15)
    if choice.bound in ("model", "max"):
        assert s <= share
    if choice.bound == "model":  # largest: a little longer would miss the target
        assert stale_share(choice.interval * 1.001 + 1e-6, rate, freshness, latency) > share
    if choice.bound == "min":
        assert s > share
    assert (choice.bound == "unreachable") == (latency >= freshness)


@given(rates, rates, st.floats(min_value=1.0, max_value=1e4),
       st.floats(min_value=0.0, max_value=20.0), shares)
def test_higher_rate_never_lengthens_the_interval(
        r1: float, r2: float, freshness: float, latency: float, share: float) -> None:
    lo, hi = sorted((r1, r2))
    i_lo = longest_interval(lo, freshness, latency, share, 0.5, 1e6).interval
    i_hi = longest_interval(hi, freshness, latency, share, 0.5, 1e6).interval
    assert i_hi <= i_lo * (1 + 1e-9)


@given(rates, st.floats(min_value=1.0, max_value=1e4), st.floats(min_value=1.0, max_value=1e4),
       st.floats(min_value=0.0, max_value=20.0), shares)
def test_tighter_freshness_never_lengthens_the_interval(
        rate: float, d1: float, d2: float, latency: float, share: float) -> None:
    lo, hi = sorted((d1, d2))
    i_lo = longest_interval(rate, lo, latency, share, 0.5, 1e6).interval
    i_hi = longest_interval(rate, hi, latency, share, 0.5, 1e6).interval
    assert i_lo <= i_hi * (1 + 1e-9)


@given(rates, st.floats(min_value=1.0, max_value=1e4), st.floats(min_value=0.0, max_value=20.0),
       shares, shares)
def test_looser_share_never_shortens_the_interval(
        rate: float, freshness: float, latency: float, e1: float, e2: float) -> None:
    assume(e1 != e2)
    lo, hi = sorted((e1, e2))
    i_lo = longest_interval(rate, freshness, latency, lo, 0.5, 1e6).interval
    i_hi = longest_interval(rate, freshness, latency, hi, 0.5, 1e6).interval
    assert i_lo <= i_hi * (1 + 1e-9)


def test_any_rate_bound_is_the_worst_case() -> None:
    # rate unknown: the interval that is safe for every rate, (D - L) / (1 - e) - L
    choice = longest_interval(math.inf, 60.0, 1.0, 0.01, 1.0, 3600.0)
    assert choice.interval == pytest.approx(59.0 / 0.99 - 1.0)
    assert choice.bound == "model"
    for rate in (1e-3, 1.0, 1e3):
        assert stale_share(choice.interval, rate, 60.0, 1.0) <= 0.01


def test_out_of_reach_cases() -> None:
    slow = longest_interval(0.01, 5.0, 6.0, 0.01, 2.0, 600.0)
    assert (slow.interval, slow.bound) == (2.0, "unreachable")
    busy = longest_interval(100.0, 5.0, 1.0, 0.01, 10.0, 600.0)
    assert (busy.interval, busy.bound) == (10.0, "min") and busy.predicted_stale_share > 0.01
    quiet = longest_interval(1e-9, 60.0, 1.0, 0.01, 1.0, 600.0)
    assert (quiet.interval, quiet.bound) == (600.0, "max")


@pytest.mark.parametrize("args,exc,field", [
    ((-1.0, 0.1, 60.0, 1.0), ValueError, "interval"),
    ((10.0, math.nan, 60.0, 1.0), ValueError, "rate"),
    ((10.0, -0.1, 60.0, 1.0), ValueError, "rate"),
    ((10.0, "1", 60.0, 1.0), TypeError, "rate"),
    ((10.0, 0.1, 0.0, 1.0), ValueError, "freshness"),
    ((10.0, 0.1, 60.0, math.inf), ValueError, "latency"),
])
def test_stale_share_validation(args: tuple[object, ...], exc: type[Exception],
                                field: str) -> None:
    with pytest.raises(exc, match=field):
        stale_share(*args)  # type: ignore[arg-type]


def _mixed(interval: float, rate: float, freshness: float, latency: float,
           carried: float) -> float:
    """Stale share when a share ``carried`` of cycles starts inside a burst (every read past
    D - latency stale), the rest Poisson at ``rate``."""
    poisson = stale_share(interval, rate, freshness, latency)
    burst = stale_share(interval, math.inf, freshness, latency)
    return carried * burst + (1.0 - carried) * poisson


@given(rates, st.floats(min_value=1.0, max_value=1e4), st.floats(min_value=0.0, max_value=50.0),
       shares, st.floats(min_value=0.0, max_value=1.0), st.floats(min_value=0.01, max_value=10.0))
def test_a_burst_that_may_carry_on_is_planned_for_and_the_interval_is_the_longest(
        rate: float, freshness: float, latency: float, share: float, carried: float,
        lo: float) -> None:
    assume(latency < freshness)
    hi = lo + 1e5
    choice = longest_interval(rate, freshness, latency, share, lo, hi, carried)
    s = _mixed(choice.interval, rate, freshness, latency, carried)
    assert s == pytest.approx(choice.predicted_stale_share, rel=1e-9, abs=1e-15)
    if choice.bound in ("model", "max"):
        assert s <= share * (1.0 + 1e-9)
    if choice.bound == "model":  # largest: a little longer would miss the target
        assert _mixed(choice.interval * 1.001 + 1e-6, rate, freshness, latency, carried) > share
    # the chance of a burst going on never lengthens the plan; none is the plain model
    plain = longest_interval(rate, freshness, latency, share, lo, hi)
    assert choice.interval <= plain.interval
    if carried == 0.0:
        assert choice == plain
