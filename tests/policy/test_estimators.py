"""Change-rate and sync-duration estimators against sequences worked by hand."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from synctune.policy.estimators import (
    ChangeRateEstimator,
    LatencyEstimator,
    poisson_lower,
    poisson_upper,
)


# ---------------------------------------------------------------- RFC 6298
def test_rfc6298_by_hand() -> None:
    e = LatencyEstimator(min_timeout=0.1, max_timeout=100.0)
    assert e.srtt is None and e.rttvar is None and e.timeout() is None
    e.observe(1.0)
    # first sample: SRTT = R = 1, RTTVAR = R/2 = 0.5, RTO = 1 + 4 * 0.5 = 3
    assert (e.srtt, e.rttvar, e.timeout()) == (1.0, 0.5, 3.0)
    e.observe(2.0)
    # RTTVAR = 3/4 * 0.5 + 1/4 * |1 - 2| = 0.625; SRTT = 7/8 * 1 + 1/8 * 2 = 1.125
    assert e.rttvar == pytest.approx(0.625) and e.srtt == pytest.approx(1.125)
    assert e.timeout() == pytest.approx(1.125 + 4 * 0.625)  # 3.625
    e.observe(0.5)
    # RTTVAR = 3/4 * 0.625 + 1/4 * |1.125 - 0.5| = 0.625; SRTT = 7/8 * 1.125 + 0.5/8 = 1.046875
    assert e.rttvar == pytest.approx(0.625) and e.srtt == pytest.approx(1.046875)
    assert e.timeout() == pytest.approx(3.546875)
    assert e.conservative(2.0) == pytest.approx(1.046875 + 1.25)
    assert e.samples == 3


def test_timeout_floor_cap_and_karn_backoff() -> None:
    e = LatencyEstimator(min_timeout=5.0, max_timeout=20.0)
    e.observe(0.2)  # RTO 0.6 -> floor 5
    assert e.timeout() == 5.0
    e.observe(0.2)  # RTTVAR 0.075, SRTT 0.2: RTO 0.5 -> floor
    srtt, rttvar = e.srtt, e.rttvar
    e.expired()  # a timed-out sync is no sample: estimates unchanged, RTO doubles
    assert (e.srtt, e.rttvar) == (srtt, rttvar)
    assert e.timeout() == 5.0  # 2 * 0.5 = 1 still under the floor
    for _ in range(5):
        e.expired()
    assert e.timeout() == pytest.approx(min(max(0.5 * 64, 5.0), 20.0))  # 32 -> cap 20
    e.observe(0.2)  # a success resets the doubling
    assert e.timeout() == 5.0
    big = LatencyEstimator(min_timeout=1.0, max_timeout=10.0)
    big.observe(30.0)
    assert big.timeout() == 10.0


@pytest.mark.parametrize("kwargs,exc,field", [
    ({"min_timeout": 0.0}, ValueError, "min_timeout"),
    ({"min_timeout": math.nan}, ValueError, "min_timeout"),
    ({"min_timeout": 2.0, "max_timeout": 1.0}, ValueError, "max_timeout"),
    ({"max_timeout": math.inf}, ValueError, "max_timeout"),
    ({"max_timeout": "9"}, TypeError, "max_timeout"),
])
def test_latency_estimator_validation(kwargs: dict[str, object], exc: type[Exception],
                                      field: str) -> None:
    with pytest.raises(exc, match=field):
        LatencyEstimator(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad,exc", [(-0.1, ValueError), (math.nan, ValueError),
                                     (math.inf, ValueError), (None, TypeError)])
def test_latency_sample_validation(bad: object, exc: type[Exception]) -> None:
    with pytest.raises(exc, match="duration"):
        LatencyEstimator().observe(bad)  # type: ignore[arg-type]


@given(st.lists(st.floats(min_value=0.0, max_value=1e4), min_size=1, max_size=50))
def test_srtt_stays_within_the_samples(samples: list[float]) -> None:
    e = LatencyEstimator(min_timeout=1e-3, max_timeout=1e9)
    for r in samples:
        e.observe(r)
    assert e.srtt is not None and e.rttvar is not None
    assert min(samples) - 1e-9 <= e.srtt <= max(samples) + 1e-9
    assert 0.0 <= e.rttvar <= max(samples) + 1e-9
    timeout = e.timeout()
    assert timeout is not None and timeout >= e.srtt


# ---------------------------------------------------------------- Poisson bounds
def test_poisson_bounds_by_hand() -> None:
    # z = 2: upper = (N + 2 + 2 sqrt(N + 1)) / T
    assert poisson_upper(0.0, 100.0, 2.0) == pytest.approx(4.0 / 100.0)
    assert poisson_upper(8.0, 10.0, 2.0) == pytest.approx((8 + 2 + 2 * 3) / 10)
    assert poisson_lower(8.0, 10.0, 2.0) == pytest.approx((8 + 2 - 2 * 3) / 10)
    assert poisson_lower(0.0, 10.0, 2.0) == 0.0
    assert poisson_upper(3.0, 0.0, 1.0) == math.inf


@given(st.floats(min_value=0.0, max_value=1e6), st.floats(min_value=1e-3, max_value=1e6),
       st.floats(min_value=0.0, max_value=5.0))
@example(2.220446049250313e-16, 1.0, 2.4461074508520557)  # a count near 0: rounding noise
def test_poisson_bounds_bracket_the_point_estimate(n: float, t: float, z: float) -> None:
    lo, hi = poisson_lower(n, t, z), poisson_upper(n, t, z)
    assert lo <= n / t * (1 + 1e-12) and n / t <= hi * (1 + 1e-12)
    # the score bound solves (rate T - N)^2 = z^2 rate T
    assert (hi * t - n) ** 2 == pytest.approx(z * z * hi * t, rel=1e-6, abs=1e-6)


def test_upper_bound_covers_the_true_rate_about_as_often_as_promised() -> None:
    rng = random.Random(11)
    rate, t, z = 0.05, 400.0, 1.645  # mean 20 events
    covered = 0
    for _ in range(4000):
        n, clock = 0, rng.expovariate(rate)
        while clock < t:
            n, clock = n + 1, clock + rng.expovariate(rate)
        covered += poisson_upper(n, t, z) >= rate
    assert 0.93 <= covered / 4000 <= 0.985  # nominal one-sided 95 %


# ---------------------------------------------------------------- change rate
def test_change_rate_by_hand() -> None:
    e = ChangeRateEstimator(half_life=100.0, z=2.0)
    assert math.isnan(e.rate) and e.upper == math.inf
    assert e.observe(10, 100.0) is False  # first pull: nothing to be surprised against
    assert (e.changes, e.exposure, e.rate) == (10.0, 100.0, 0.1)
    e.observe(0, 100.0)  # old data halves: N = 5, T = 50 + 100
    assert e.changes == pytest.approx(5.0) and e.exposure == pytest.approx(150.0)
    assert e.rate == pytest.approx(5.0 / 150.0)
    assert e.upper == pytest.approx((5 + 2 + 2 * math.sqrt(6)) / 150)
    e.observe(2, 50.0)  # w = 2^-0.5
    w = 2 ** -0.5
    assert e.changes == pytest.approx(5 * w + 2) and e.exposure == pytest.approx(150 * w + 50)
    assert e.observations == 3 and e.bursts == 0


def test_burst_restarts_the_estimate_at_once() -> None:
    e = ChangeRateEstimator(half_life=100.0, z=2.0, surprise_z=3.0)
    e.observe(1, 100.0)
    e.observe(0, 100.0)
    before = e.upper  # (0.5 + 2 + 2 sqrt(1.5)) / 150 ~ 0.033/s
    # 100 changes in 10 s: lower bound (100 + 4.5 - 3 sqrt(102.25)) / 10 ~ 7.4/s >> upper
    assert e.observe(100, 10.0) is True
    assert (e.changes, e.exposure) == (100.0, 10.0) and e.bursts == 1
    assert e.upper > 100 * before
    # a pull in line with the burst is no surprise
    assert e.observe(95, 10.0) is False


def test_a_slightly_busy_pull_is_not_a_burst() -> None:
    e = ChangeRateEstimator(half_life=300.0)
    for _ in range(20):
        e.observe(6, 60.0)  # 0.1/s
    assert e.observe(10, 60.0) is False  # ~1.7x: within noise, blended in


def test_plain_window_never_restarts() -> None:
    e = ChangeRateEstimator(half_life=100.0, z=0.0, surprise_z=None)
    e.observe(1, 100.0)
    assert e.observe(10_000, 1.0) is False and e.bursts == 0
    assert e.upper == pytest.approx(e.rate)  # z = 0: the point estimate


@given(st.floats(min_value=1e-4, max_value=10.0), st.integers(min_value=0, max_value=2**31))
def test_stationary_estimate_converges(rate: float, seed: int) -> None:
    rng = random.Random(seed)
    # ~ thousands of events in the window; bursts off: a restart is tested on its own below
    e = ChangeRateEstimator(half_life=2000.0 / rate, surprise_z=None)
    for _ in range(300):
        span = rng.uniform(0.5, 1.5) * 20.0 / rate  # ~ 20 events a pull
        n, clock = 0, rng.expovariate(rate)
        while clock < span:
            n, clock = n + 1, clock + rng.expovariate(rate)
        e.observe(n, span)
    assert e.rate == pytest.approx(rate, rel=0.2)
    assert e.upper >= e.rate


@pytest.mark.parametrize("mean", [0.2, 3.0, 30.0, 300.0])
def test_false_bursts_are_rare_under_stationary_load(mean: float) -> None:
    rng = random.Random(int(mean * 10))
    e = ChangeRateEstimator(half_life=300.0)
    span = 60.0
    rate = mean / span
    for _ in range(5000):
        n, clock = 0, rng.expovariate(rate)
        while clock < span:
            n, clock = n + 1, clock + rng.expovariate(rate)
        e.observe(n, span)
    assert e.bursts <= 5  # at most 1 in 1000 pulls


@pytest.mark.parametrize("kwargs,exc,field", [
    ({"half_life": 0.0}, ValueError, "half_life"),
    ({"half_life": math.inf}, ValueError, "half_life"),
    ({"z": -1.0}, ValueError, "z"),
    ({"z": math.nan}, ValueError, "z"),
    ({"surprise_z": 0.0}, ValueError, "surprise_z"),
    ({"surprise_z": "3"}, TypeError, "surprise_z"),
])
def test_change_rate_validation(kwargs: dict[str, object], exc: type[Exception],
                                field: str) -> None:
    with pytest.raises(exc, match=field):
        ChangeRateEstimator(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("changes,span,exc,field", [
    (-1, 1.0, ValueError, "changes"), ("1", 1.0, TypeError, "changes"),
    (True, 1.0, TypeError, "changes"), (math.inf, 1.0, ValueError, "changes"),
    (1, -1.0, ValueError, "span"),
    (1, math.nan, ValueError, "span"), (1, math.inf, ValueError, "span"),
])
def test_observation_validation(changes: object, span: object, exc: type[Exception],
                                field: str) -> None:
    e = ChangeRateEstimator()
    with pytest.raises(exc, match=field):
        e.observe(changes, span)  # type: ignore[arg-type]
    assert e.observations == 0
    e.observe(1.5, 1.0)  # an expected count given one or more is fractional
    assert e.rate == 1.5
