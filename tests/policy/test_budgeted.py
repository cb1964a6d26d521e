"""The read-aware, budgeted tuner and its parts: invariants as properties."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from synctune.policy import Budgeted, StaleReadBudget, SyncReport, strategy_from_spec
from synctune.policy.model_bias import ModelBias
from synctune.policy.staleness_model import (
    SharePrice,
    _marginal,
    cycle_cap,
    cycle_stale_time,
    longest_cycle,
    priced_cycle,
)
from synctune.policy.traffic_rate import DailyProfile, TrafficRate

# one step of a driver: (gap before it in s, what happens, a count)
_steps = st.lists(st.tuples(st.floats(0.0, 400.0), st.sampled_from(["read", "write", "sync"]),
                            st.integers(0, 6)), max_size=60)


def _drive(s: Budgeted, steps: list[tuple[float, str, int]], *, reads: bool,
           check: object = None) -> None:
    s.start(0.0)
    t = 0.0
    for gap, kind, n in steps:
        t += gap
        if kind == "read" and reads and n:
            s.on_read(t, n)
        elif kind == "write":
            s.on_local_write(t, 1, True)  # delegated: already on the primary
        elif kind == "sync":
            s.on_sync_started(t)
            t += 0.05
            s.on_sync_finished(t, SyncReport(0.05, pulled=n))
        if callable(check):
            check(s, t)


@given(_steps)
def test_a_replica_nobody_reads_plans_no_pull(steps: list[tuple[float, str, int]]) -> None:
    def check(s: Budgeted, t: float) -> None:
        assert s.next_sync_due(t) is None and s.interval_in_force is None

    _drive(Budgeted(30.0, rng=random.Random(0)), steps, reads=False, check=check)


@given(_steps, st.floats(5.0, 120.0))
def test_intervals_stay_within_their_bounds(steps: list[tuple[float, str, int]],
                                            freshness: float) -> None:
    def check(s: Budgeted, t: float) -> None:
        iv = s.interval_in_force
        assert iv is None or 1.0 <= iv <= 600.0
        due = s.next_sync_due(t)
        assert due is None or due >= 0.0

    _drive(Budgeted(freshness, max_interval=600.0, rng=random.Random(1)), steps, reads=True,
           check=check)


@settings(max_examples=60)
@given(_steps)
def test_a_plan_never_expects_to_overspend(steps: list[tuple[float, str, int]]) -> None:
    # after every pull the planned cycle's expected stale reads (the model's, at the planned
    # rates) stay within what the cycle's reads add to the budget plus its part of the surplus
    def check(s: Budgeted, t: float) -> None:
        iv = s.interval_in_force
        if iv is None or iv <= s._min_interval:  # nothing planned, or floored: nothing to spend
            return
        latency = s._latency.conservative(s._latency_margin) or 0.0
        a = s.freshness - latency
        rho = s._read_rate.fast_at(t)
        accrual = s._plan_share * s._read_rate.slow_at(t)
        spend = rho * cycle_stale_time(iv + latency, s._lam, a)
        assert spend <= accrual * (iv + latency) + s._allow + 1e-9 * (1.0 + spend)

    _drive(Budgeted(30.0, rng=random.Random(2)), steps, reads=True, check=check)


@given(st.lists(st.tuples(st.floats(0.0, 900.0), st.floats(0.0, 50.0), st.floats(0.0, 2.0)),
                max_size=80))
def test_the_budget_is_the_share_of_the_window_minus_what_was_spent(
        bookings: list[tuple[float, float, float]]) -> None:
    b = StaleReadBudget(0.01, window=3600.0, slots=12)
    t, log = 0.0, []
    for gap, reads, stale in bookings:
        t += gap
        b.book(t, reads, stale)
        log.append((t, reads, stale))
        # the window: the current 300 s slot and the 11 before it
        first = (math.floor(t / 300.0) - 11) * 300.0
        r = sum(x for u, x, _ in log if u >= first)
        s = sum(y for u, _, y in log if u >= first)
        assert b.reads(t) == pytest.approx(r, abs=1e-6)
        assert b.remaining(t) == pytest.approx(0.01 * r - s, abs=1e-6)


@given(st.floats(1e-6, 10.0), st.floats(0.5, 300.0), st.floats(1e-4, 1e4))
@example(0.99999, 0.99999, 9667.0)  # a small x: the solve stops within 1e-9 of it, not 1e-6
def test_the_priced_cycle_solves_its_condition_and_shortens_as_stale_reads_cost_more(
        rate: float, budget: float, price: float) -> None:
    c = priced_cycle(rate, budget, price)
    assert c >= budget
    if c < math.inf:
        # solved to |dx| <= 1e-9 (1 + x) (x = rate (c - a)): h is off by at most its slope
        # times that, or by rounding
        x = rate * (c - budget)
        slope = math.exp(-x) * (budget + x / rate)
        tolerance = slope * 2e-9 * (1.0 + x) + 1e-6 / price
        assert abs(_marginal(x, rate, budget) - 1.0 / price) <= tolerance
        assert priced_cycle(rate, budget, 2.0 * price) <= c


def test_rates_settle_on_a_steady_poisson_load_and_memory_stays_fixed() -> None:
    rng = random.Random(5)
    rate = TrafficRate(fast=300.0, slow=3600.0, profile=DailyProfile(slots=24))
    t = 0.0
    for _ in range(20_000):  # ~2.3 days of 10 s pulls at 0.05 changes/s
        n = sum(1 for _ in range(50) if rng.random() < 0.01)
        t += 10.0
        rate.observe(n, 10.0, t)
    assert rate.slow_at(t) == pytest.approx(0.05, rel=0.15)
    assert rate.mean == pytest.approx(0.05, rel=0.05)
    assert len(rate.profile._changes) == 24  # the daily table does not grow


def test_a_burst_is_followed_within_one_pull() -> None:
    rate = TrafficRate()
    t = 0.0
    for _ in range(100):
        t += 30.0
        rate.observe(0, 30.0, t)
    quiet = rate.fast_at(t)
    assert rate.observe(60, 30.0, t + 30.0)
    assert rate.fast_at(t + 30.0) > 20 * quiet


def test_a_first_read_after_a_quiet_spell_pulls_at_once() -> None:
    s = Budgeted(30.0, rng=random.Random(3))
    s.start(0.0)
    s.on_read(1.0)
    s.on_sync_started(1.0)
    s.on_sync_finished(1.1, SyncReport(0.1, pulled=3))
    # hours without reads: nothing planned beyond the long interval; then reads resume
    t = 1.1 + 4 * 3600.0
    s.on_read(t, 1)
    d = s.decide(t)
    assert d.due is not None and d.due <= t and "budget" in d.reason


def test_spec_and_bad_values_name_the_field() -> None:
    s = strategy_from_spec("budgeted:0.02", 30.0)
    assert isinstance(s, Budgeted) and s.stale_share == 0.02
    with pytest.raises(ValueError, match="stale_share"):
        Budgeted(30.0, stale_share=1.0)
    with pytest.raises(ValueError, match="use"):
        Budgeted(30.0, use=0.0)
    with pytest.raises(TypeError, match="budget"):
        Budgeted(30.0, budget=0.01)  # type: ignore[arg-type]


def test_a_sparse_week_is_judged_by_its_own_events_not_the_starting_guess() -> None:
    # 25 changes in a week (a quiet real history): the prior is worth one event at 1/60 s
    profile = DailyProfile()
    for k in range(25):
        profile.observe(1, 604_800.0 / 25, (k + 1) * 604_800.0 / 25)
    assert profile.mean == pytest.approx((25 + 1) / (604_800.0 + 60.0))
    assert profile.mean == pytest.approx(25 / 604_800.0, rel=0.05)
    assert DailyProfile().mean == pytest.approx(1.0 / 60.0)  # before data: the guess
    with pytest.raises(ValueError, match="prior_events"):
        DailyProfile(prior_events=0.0)
    with pytest.raises(ValueError, match="initial"):
        DailyProfile(initial=0.0)


@given(st.lists(st.tuples(st.floats(0.0, 1e4), st.floats(0.0, 1e4), st.floats(0.0, 1e5)),
                max_size=50), st.floats(1.0, 10.0))
def test_model_bias_only_tightens_and_is_capped(cycles: list[tuple[float, float, float]],
                                                cap: float) -> None:
    bias = ModelBias(cap=cap)
    assert bias.factor == 1.0
    for expected, booked, span in cycles:
        bias.observe(expected, booked, span)
        assert 1.0 <= bias.factor <= cap


def test_model_bias_is_the_ratio_of_booked_to_expected_and_fades() -> None:
    bias = ModelBias(half_life=3600.0, prior=1.0, cap=10.0)
    bias.observe(2.0, 8.0, 0.0)
    assert bias.factor == pytest.approx((8 + 1) / (2 + 1))
    # a day of cycles that cost what the model said: the old shortfall fades to a half-life
    for _ in range(24):
        bias.observe(1.0, 1.0, 3600.0)
    assert 1.0 <= bias.factor < 1.01
    with pytest.raises(ValueError, match="cap"):
        ModelBias(cap=0.5)


def test_a_change_the_quiet_model_did_not_expect_tightens_the_plan() -> None:
    # hours of reads and empty pulls make the change rate small; then one pull brings a change
    # that the late reads of a long cycle saw: the booked stale reads run ahead of the model
    s = Budgeted(30.0, rng=random.Random(4))
    s.start(0.0)
    t = 0.0
    for _ in range(200):
        t += 60.0
        s.on_read(t - 30.0, 20)
        s.on_sync_started(t)
        s.on_sync_finished(t + 0.1, SyncReport(0.1, pulled=0))
        t += 0.1
    assert s.model_bias == 1.0
    t += 1800.0
    for k in range(1800):
        s.on_read(t - 1800.0 + k, 1)
    s.on_sync_started(t)
    s.on_sync_finished(t + 0.1, SyncReport(0.1, pulled=1))
    assert s.model_bias > 2.0


@given(st.floats(1e-5, 1.0), st.floats(1.0, 120.0), st.floats(0.01, 5.0),
       st.floats(1e-4, 0.05), st.floats(0.0, 50.0), st.floats(1.0, 4000.0))
def test_the_cycle_cap_is_where_expected_stale_reads_meet_their_allowance(
        lam: float, a: float, rho: float, accrual: float, allow: float, limit: float) -> None:
    cap = cycle_cap(lam, a, rho, accrual, allow)
    if cap < math.inf:
        # within the bisection's tolerance of the crossing
        assert rho * cycle_stale_time(cap, lam, a) <= accrual * cap + allow
        assert rho * cycle_stale_time(cap * 1.001, lam, a) > accrual * cap * 1.001 + allow
    # a limit that does not overspend settles it (inf: the cap does not bind) ...
    capped = cycle_cap(lam, a, rho, accrual, allow, limit)
    if limit <= cap:
        assert capped == math.inf
    elif limit > cap * 1.0001:  # ... and one that does gives the same crossing
        assert capped == cap


def test_rates_at_is_fast_and_slow_in_one_look_up() -> None:
    rate = TrafficRate()
    for k in range(50):
        rate.observe(k % 3, 30.0, 30.0 * (k + 1))
    t = 1600.0
    assert rate.rates_at(t) == (rate.fast_at(t), rate.slow_at(t))


def test_the_average_rate_price_is_solved_again_only_when_the_rates_move() -> None:
    share = 0.5 * 0.01
    price = SharePrice(share)

    def fresh(lam: float, a: float, reads: float = 2.0) -> float:
        c = longest_cycle(lam, a, share)
        return 1.0 / (reads * _marginal(lam * (c - a), lam, a))

    first = price.at(0.01, 29.0, 2.0)
    assert first == pytest.approx(fresh(0.01, 29.0), rel=1e-12)
    # the read rate scales the price without a new solve
    assert price.at(0.01, 29.0, 4.0) == pytest.approx(first / 2.0, rel=1e-12)
    # within 1 %: the last solve stands (and is within a few % of a new one)
    assert price.at(0.01005, 29.0, 2.0) == first
    assert first == pytest.approx(fresh(0.01005, 29.0), rel=0.05)
    # beyond it: solved again
    assert price.at(0.0103, 29.0, 2.0) == pytest.approx(fresh(0.0103, 29.0), rel=1e-12)
    assert price.at(0.0103, 27.0, 2.0) == pytest.approx(fresh(0.0103, 27.0), rel=1e-12)
    # no reads: no price
    assert price.at(0.0103, 27.0, 0.0) == 0.0


@given(_steps)
@settings(max_examples=50)
def test_the_planned_reason_reads_as_the_plan_it_explains(steps: list[tuple[float, str, int]]
                                                          ) -> None:
    def check(s: Budgeted, t: float) -> None:
        reason = s.decide(t).reason
        if reason.startswith("every "):
            assert reason.startswith(f"every {s.interval:.4g} s (")
            assert f"changes ~{s._lam:.3g}/s" in reason and reason.endswith("at D=30 s")

    _drive(Budgeted(30.0, rng=random.Random(3)), steps, reads=True, check=check)


@given(st.floats(0.1, 6.0), st.floats(0.0, 1e6))
def test_the_burst_test_skips_its_look_up_only_below_its_least_upper_bound(
        z: float, expected: float) -> None:
    rate = TrafficRate(surprise_z=z)
    high = expected + rate._half_z2 + z * math.sqrt(expected + rate._quarter_z2)
    assert rate._least_high <= high


def test_the_burst_test_is_the_full_score_test() -> None:
    # a count is a burst when its score lower bound exceeds the expectation's upper bound;
    # bounding the expectation first (its own counts over its exposure) must not change that
    z, bursts, calm = 3.0, 0, 0
    for seed in range(30):
        rng = random.Random(seed)
        rate = TrafficRate(fast=300.0, slow=3600.0, prior_weight=rng.choice([1.0, 30.0, 300.0]),
                           surprise_z=z)
        t = 0.0
        for _ in range(300):
            span = rng.choice([0.0, 0.5, 5.0, 60.0, 600.0]) * rng.random()
            t += span
            count = rng.choice([0, 1, 2, 5, 20, 80, 400])
            expected = rate.fast_at(t) * span
            low = count + 0.5 * z * z - z * math.sqrt(count + 0.25 * z * z)
            high = expected + 0.5 * z * z + z * math.sqrt(expected + 0.25 * z * z)
            full = span > 0.0 and rate._fast_t > 0.0 and count > 0 and low > high
            assert rate.observe(count, span, t) == full
            bursts += full
            calm += count >= 20 and not full
    assert bursts > 100 and calm > 100  # both sides of the test were taken


def test_the_profile_mean_and_the_bias_factor_follow_their_observations() -> None:
    profile = DailyProfile(slots=4, memory=1000.0)
    bias = ModelBias(half_life=600.0, prior=2.0, cap=3.0)
    rng = random.Random(11)
    for k in range(200):
        profile.observe(rng.randrange(0, 5), rng.uniform(0.0, 50.0), 40.0 * k)
        assert profile.mean == (profile._total_n + profile._prior_n) / (
            profile._total_t + profile._prior_t)
        bias.observe(rng.uniform(0.0, 3.0), rng.uniform(0.0, 9.0), rng.uniform(0.0, 900.0))
        ratio = (bias._booked + bias._prior) / (bias._expected + bias._prior)
        assert bias.factor == min(max(ratio, 1.0), 3.0)


def test_reads_and_remaining_is_both_in_one_roll() -> None:
    budget = StaleReadBudget(0.01, 600.0)
    for k in range(40):
        budget.book(37.0 * k, float(k % 7), 0.01 * (k % 3))
    t = 40 * 37.0
    assert budget.reads_and_remaining(t) == (budget.reads(t), budget.remaining(t))


def test_the_hours_surplus_is_spent_only_while_the_days_ledger_allows_it() -> None:
    # the same window surplus; one replica's day holds lumps of stale reads (all late reads of
    # a cycle stale or none, with chance one half): its margin takes the surplus back
    calm, lumpy = Budgeted(30.0, rng=random.Random(1)), Budgeted(30.0, rng=random.Random(1))
    for s in (calm, lumpy):
        s.start(0.0)
        s.on_read(1.0, 10)
        s.on_sync_started(2.0)
        s.on_sync_finished(2.1, SyncReport(0.1, pulled=0))
    lumpy._ledger.book(0.0, 400.0, 0.5, 0.0)  # a lump the window has already forgotten
    for s in (calm, lumpy):
        s.on_read(3.0, 5000)  # a busy hour with nothing stale: the window has a surplus
        s.on_sync_started(40.0)
        s.on_sync_finished(40.1, SyncReport(0.1, pulled=0))
    assert calm.budget_left > 0.0 and lumpy.budget_left == calm.budget_left
    assert calm._allow > 0.0
    assert lumpy._allow == 0.0
