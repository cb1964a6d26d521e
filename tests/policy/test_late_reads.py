"""Late reads of a running cycle: their rate, the overrun of the priced cycle, and a tuner that
ends a stretched cycle when reads resume."""

from __future__ import annotations

import random

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from synctune.policy import Budgeted, StaleReadBudget, SyncReport
from synctune.policy.late_reads import LateReads, cycle_overrun, outran_priced_cycle
from synctune.policy.staleness_model import priced_cycle


@given(st.floats(1e-6, 1e-4), st.floats(5.0, 120.0), st.floats(1.0, 1e4))
def test_the_overrun_is_one_at_the_priced_cycle(lam: float, a: float, price_reads: float
                                                ) -> None:
    # theory: the priced cycle is where F(c) = mu rho lam (c u - u^2 / 2) reaches 1; F uses
    # the small-rate stale time lam u^2 / 2, so it holds while lam u is small
    c = priced_cycle(lam, a, price_reads)
    assume(c < float("inf") and lam * (c - a) < 0.02)
    u = c - a
    f = cycle_overrun(price_reads * lam, 1.0, c, u)
    assert f == pytest.approx(1.0, abs=0.05)
    # F grows as c^2: twice is about sqrt(2) c*, for long cycles
    if c > 20.0 * a:
        assert not outran_priced_cycle(price_reads * lam, 1.0, 1.3 * c, 1.3 * c - a)
        assert outran_priced_cycle(price_reads * lam, 1.0, 1.5 * c, 1.5 * c - a)


def test_the_rate_is_the_cycles_until_the_late_reads_are_enough_to_trust() -> None:
    late = LateReads()
    for k in range(4):  # four reads 5 s apart, 600 s into a cycle that had 4 reads
        late.add(600.0 + 5.0 * k, 1, 570.0 + 5.0 * k)
    assert late.rate(615.0, 4, 615.0) == pytest.approx(4 / 615.0)
    late.add(620.0, 1, 590.0)  # the fifth: a lower bound from their own spacing now
    q = 1.0 - 1.0 / 36.0 - 1.2816 / 6.0
    assert late.rate(620.0, 5, 620.0) == pytest.approx(4 * q**3 / 20.0)
    assert late.n == 5 and late.excess == pytest.approx(570 + 575 + 580 + 585 + 590)
    # five at once give no spacing to read a rate from
    burst = LateReads()
    burst.add(100.0, 5, 10.0)
    assert burst.rate(100.0, 5, 100.0) == pytest.approx(0.05)
    burst.clear()
    assert burst.n == 0 and burst.excess == 0.0


@pytest.mark.parametrize("n", [5, 8, 20])
def test_the_burst_rate_is_below_the_true_rate_nine_times_in_ten(n: int) -> None:
    # theory: n Poisson reads at rate r; the 90 % lower bound from their spacing exceeds r
    # one time in ten (Wilson-Hilferty for the Gamma quantile: within a point or two)
    rng = random.Random(n)
    above, trials, r = 0, 4000, 0.5
    for _ in range(trials):
        late, t = LateReads(), 100.0
        for _ in range(n):
            late.add(t, 1, t - 100.0)
            last = t
            t += rng.expovariate(r)
        above += late.rate(last, 0, 1.0) > r
    assert 0.07 < above / trials < 0.13


def _sessions_then_one_mid_cycle(s: Budgeted) -> int:
    """A day of reading sessions (20 reads 5 s apart every two hours) with a change on the
    primary twice a day, pulling when due; then a session half-way through a planned cycle.
    Returns the reads of that session before the replica asks to pull."""
    s.start(0.0)
    reads = sorted(k * 7200.0 + 600.0 + i * 5.0 for k in range(12) for i in range(20))
    t, last = 0.0, 0.0

    def pull(at: float) -> float:
        nonlocal last
        s.on_sync_started(at)
        changed = int(at // 43_200.0) > int(last // 43_200.0)
        s.on_sync_finished(at + 0.1, SyncReport(0.1, pulled=int(changed)))
        last = at + 0.1
        return last

    for r in reads:
        due = s.next_sync_due(t)
        while due is not None and due < r:
            t = pull(max(t, due))
            due = s.next_sync_due(t)
        t = max(t, r)
        s.on_read(t)
    t = pull(max(t, s.next_sync_due(t) or t))
    assert s.interval > 300.0  # a cycle stretched for the quiet hours
    t += 0.5 * s.interval
    for n in range(1, 200):
        s.on_read(t)
        due = s.next_sync_due(t)
        if due is not None and due <= t:
            return n
        t += 5.0
    return 200


def test_reads_resuming_in_a_stretched_cycle_end_it_within_a_few_reads() -> None:
    # one commit in the cycle would make every read of the session stale: the expected-cost
    # test alone waited for 20-60 of them (the change rate is low), the overrun stops at ~5
    assert _sessions_then_one_mid_cycle(Budgeted(30.0, rng=random.Random(1))) <= 8
    assert _sessions_then_one_mid_cycle(Budgeted(30.0, rng=random.Random(1), use=0.7)) <= 8


def test_the_plan_aims_at_half_the_share_by_default_own_or_pooled() -> None:
    # stale reads come in lumps a tuner cannot foresee: on 60 sparse traces 70 % went over 1 %
    # on 9 at D = 30 s (own budgets), and a pool on the bursty trace at 60 s on 4 seeds of 4
    own = Budgeted(30.0, rng=random.Random(1))
    pool = StaleReadBudget(0.01)
    a, b = (Budgeted(30.0, rng=random.Random(k), budget=pool) for k in (1, 2))
    assert own.config.use == a.config.use == 0.5 and not own.pooled and a.pooled and b.pooled
    for s in (own, a, b):
        s.start(0.0)
        s.on_read(1.0, 10)
    for s in (own, a, b):
        s.on_sync_started(2.0)
        s.on_sync_finished(2.1, SyncReport(0.1, pulled=0))
    assert own._plan_share == b._plan_share == pytest.approx(0.005)
    assert pool.shared
    assert Budgeted(30.0, rng=random.Random(1), use=0.7)._plan_share == pytest.approx(0.007)
