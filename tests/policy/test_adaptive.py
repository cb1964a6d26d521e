"""The adaptive tuner: bounds, monotonicity, replays against Poisson load, failures, writes."""

from __future__ import annotations

import bisect
import math
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synctune.policy import Adaptive, Backoff, FailureKind, SyncReport
from synctune.policy.change_runs import changes_behind
from synctune.policy.estimators import ChangeRateEstimator


# ------------------------------------------------------------------ replay driver
def poisson_times(rate_at: Callable[[float], float], peak: float, horizon: float,
                  rng: random.Random) -> list[float]:
    """Commit times of a Poisson process with rate ``rate_at(t)`` <= ``peak`` (thinning)."""
    out, t = [], 0.0
    while True:
        t += rng.expovariate(peak)
        if t >= horizon:
            return out
        if rng.random() * peak < rate_at(t):
            out.append(t)


@dataclass
class Replay:
    """What a replay saw: one row per sync, and the stale time of uniformly spread reads."""

    starts: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)
    intervals: list[float] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    stale_time: float = 0.0
    observed_time: float = 0.0

    @property
    def stale_share(self) -> float:
        return self.stale_time / self.observed_time

    def intervals_between(self, t0: float, t1: float) -> list[float]:
        return [i for s, i in zip(self.starts, self.intervals, strict=True) if t0 <= s < t1]


def replay(tuner: Adaptive, commits: list[float], horizon: float, rng: random.Random,
           duration: tuple[float, float] = (0.2, 0.8)) -> Replay:
    """Drive ``tuner`` against remote ``commits`` with successful syncs of random duration.

    A read at time t served by a snapshot taken at s is older than D iff the first commit after
    s landed at or before t - D; with reads spread uniformly, each cycle's stale time is exact.
    """
    d = tuner.freshness
    out = Replay()
    tuner.start(0.0)
    now, snapshot, finished = 0.0, 0.0, 0.0  # the replica starts in sync with the primary
    while True:
        due = tuner.next_sync_due(now)
        assert due is not None
        start = max(now, due)
        if start >= horizon:
            break
        tuner.on_sync_started(start)
        took = rng.uniform(*duration)
        end = start + took
        pulled = bisect.bisect_right(commits, start) - bisect.bisect_right(commits, snapshot)
        # reads in [finished, end) were served by the previous snapshot
        _account(out, commits, snapshot, finished, end, d)
        tuner.on_sync_finished(end, SyncReport(took, pulled=pulled))
        snapshot, finished, now = start, end, end
        out.starts.append(start)
        out.ends.append(end)
        out.intervals.append(tuner.interval)
        out.reasons.append(tuner.decide(now).reason)
    _account(out, commits, snapshot, finished, max(horizon, finished), d)
    return out


def _account(out: Replay, commits: list[float], snapshot: float, t0: float, t1: float,
             d: float) -> None:
    i = bisect.bisect_right(commits, snapshot)
    first = commits[i] if i < len(commits) else math.inf
    out.stale_time += max(0.0, t1 - max(t0, first + d))
    out.observed_time += t1 - t0


# ------------------------------------------------------------------ target in replays
@pytest.mark.parametrize("rate,freshness,share", [
    (0.002, 60.0, 0.01), (0.05, 60.0, 0.01), (1.0, 60.0, 0.01), (0.2, 20.0, 0.05),
    (0.01, 600.0, 0.01),
])
def test_stationary_poisson_stale_share_stays_under_target(rate: float, freshness: float,
                                                           share: float) -> None:
    rng = random.Random(hash((rate, freshness, share)) & 0xFFFF)
    horizon = 2 * 86_400.0
    commits = poisson_times(lambda t: rate, rate, horizon, rng)
    tuner = Adaptive(freshness, stale_share=share, rng=rng)
    run = replay(tuner, commits, horizon, rng)
    assert run.stale_share <= share
    # and the tuner is not simply syncing as often as it may: most intervals exceed a = D - L
    assert statistics.median(run.intervals) > freshness - 1.0


def test_diurnal_load_stays_under_target() -> None:
    rng = random.Random(42)
    horizon, day = 3 * 86_400.0, 86_400.0
    mean = 0.05
    rate_at = lambda t: mean * (1 + 0.9 * math.cos(2 * math.pi * t / day))  # noqa: E731
    commits = poisson_times(rate_at, 1.9 * mean, horizon, rng)
    run = replay(Adaptive(60.0, rng=rng), commits, horizon, rng)
    assert run.stale_share <= 0.01
    # it follows the cycle: longer intervals at the quiet trough than at the peak
    peak = run.intervals_between(day - 3600, day + 3600)
    trough = run.intervals_between(1.5 * day - 3600, 1.5 * day + 3600)
    assert statistics.median(trough) > statistics.median(peak)


@pytest.mark.parametrize("counted", [True, False])
def test_burst_shortens_the_interval_at_once_and_quiet_lengthens_it(counted: bool) -> None:
    # a counting driver, and one that tells only whether a pull changed anything (the default
    # reading, as pyturso and libsql report): both follow the burst from its first pulls
    rng = random.Random(7)
    quiet, busy = 0.001, 1.0
    t_burst, t_calm, horizon = 4 * 3600.0, 5 * 3600.0, 9 * 3600.0
    rate_at = lambda t: busy if t_burst <= t < t_calm else quiet  # noqa: E731
    commits = poisson_times(rate_at, busy, horizon, rng)
    tuner = Adaptive(60.0, rng=rng, bool_pulls=not counted)
    run = replay(tuner, commits, horizon, rng)
    before = statistics.median(run.intervals_between(t_burst - 3600, t_burst))
    during = run.intervals_between(t_burst, t_calm)
    after = statistics.median(run.intervals_between(horizon - 3600, horizon))
    # the first pull inside the burst is already enough to shorten the plan
    assert during[1] < before and statistics.median(during) < before
    # a count far above the rate restarts it (and says so); changed-or-not cannot tell a burst
    assert any("burst" in r for r in run.reasons) is counted
    assert after > statistics.median(during)
    assert run.stale_share <= 0.01


def test_sync_slower_than_freshness_syncs_at_min_interval_and_says_so() -> None:
    rng = random.Random(3)
    tuner = Adaptive(2.0, min_interval=5.0, rng=rng)
    commits = poisson_times(lambda t: 0.1, 0.1, 3600.0, rng)
    run = replay(tuner, commits, 3600.0, rng, duration=(2.5, 3.0))
    assert run.intervals[-1] == 5.0 and tuner.bound == "unreachable"
    assert "out of reach" in run.reasons[-1]


def test_rate_too_high_for_min_interval_says_so() -> None:
    tuner = Adaptive(10.0, min_interval=9.5, rng=random.Random(1))
    tuner.start(0.0)
    for k, t in enumerate((0.0, 9.0, 18.0)):
        tuner.on_sync_started(t)
        tuner.on_sync_finished(t + 0.5, SyncReport(0.5, pulled=0 if k == 0 else 200))
    assert tuner.interval == 9.5 and tuner.bound == "min"
    assert "out of reach" in tuner.decide(18.5).reason
    assert tuner.predicted_stale_share > 0.01


# ------------------------------------------------------------------ properties
sync_steps = st.lists(st.tuples(st.floats(min_value=0.0, max_value=5000.0),   # gap before start
                                st.floats(min_value=0.0, max_value=30.0),     # duration
                                st.integers(min_value=0, max_value=10**6)),   # pulled
                      min_size=1, max_size=25)


def feed(tuner: Adaptive, steps: list[tuple[float, float, int]]) -> float:
    tuner.start(0.0)
    now = 0.0
    for gap, took, pulled in steps:
        now += gap
        tuner.on_sync_started(now)
        now += took
        tuner.on_sync_finished(now, SyncReport(took, pulled=pulled))
    return now


@settings(max_examples=150)
@given(sync_steps, st.floats(min_value=0.1, max_value=1e4),
       st.floats(min_value=1e-3, max_value=0.5), st.floats(min_value=0.01, max_value=100.0),
       st.floats(min_value=0.0, max_value=1e5))
def test_interval_always_within_bounds(steps: list[tuple[float, float, int]], freshness: float,
                                       share: float, lo: float, span: float) -> None:
    tuner = Adaptive(freshness, stale_share=share, min_interval=lo, max_interval=lo + span,
                     rng=random.Random(0))
    assert lo <= tuner.interval <= lo + span
    now = feed(tuner, steps)
    assert lo <= tuner.interval <= lo + span
    d = tuner.decide(now)
    assert d.interval == tuner.interval and d.reason
    assert d.due == pytest.approx(now + tuner.interval)  # no writes, requests or failures


@settings(max_examples=150)
@given(sync_steps, st.integers(min_value=0, max_value=10**5),
       st.integers(min_value=0, max_value=10**5), st.floats(min_value=1.0, max_value=3600.0),
       st.floats(min_value=1.0, max_value=600.0))
def test_more_changes_never_lengthen_the_interval(steps: list[tuple[float, float, int]], k1: int,
                                                  k2: int, freshness: float, gap: float) -> None:
    lo, hi = sorted((k1, k2))
    # same history, then one last pull that brought lo or hi changes
    a, b = Adaptive(freshness, rng=random.Random(0)), Adaptive(freshness, rng=random.Random(0))
    steps = [(0.0, 0.5, 0), *steps]
    now_a, now_b = feed(a, steps), feed(b, steps)
    assert now_a == now_b
    for tuner, k in ((a, lo), (b, hi)):
        tuner.on_sync_started(now_a + gap)
        tuner.on_sync_finished(now_a + gap + 0.5, SyncReport(0.5, pulled=k))
    assert b.safe_rate >= a.safe_rate
    assert b.interval <= a.interval * (1 + 1e-9)


@settings(max_examples=150)
@given(sync_steps, st.floats(min_value=0.5, max_value=1e4), st.floats(min_value=0.5, max_value=1e4),
       st.floats(min_value=1e-3, max_value=0.5))
def test_tighter_freshness_never_lengthens_the_interval(steps: list[tuple[float, float, int]],
                                                        d1: float, d2: float,
                                                        share: float) -> None:
    tight, loose = sorted((d1, d2))
    a = Adaptive(tight, stale_share=share, rng=random.Random(0))
    b = Adaptive(loose, stale_share=share, rng=random.Random(0))
    feed(a, steps)
    feed(b, steps)
    assert a.interval <= b.interval * (1 + 1e-9)


# ------------------------------------------------------------------ estimates and decisions
def test_first_sync_is_immediate_and_estimates_start_unknown() -> None:
    tuner = Adaptive(60.0, rng=random.Random(0))
    tuner.start(10.0)
    d = tuner.decide(10.0)
    assert d.due == 10.0 and "first sync" in d.reason
    assert math.isnan(tuner.rate) and tuner.safe_rate == math.inf
    assert tuner.srtt is None and tuner.rttvar is None and tuner.sync_timeout() is None
    assert tuner.interval == pytest.approx(60.0 / 0.99)  # safe for any rate, L unknown (0)
    with pytest.raises(AttributeError):
        tuner.interval = 5.0  # type: ignore[misc]


def test_estimates_follow_the_syncs_by_hand() -> None:
    tuner = Adaptive(60.0, rng=random.Random(0), half_life=100.0, rate_z=2.0,
                     latency_margin=1.0, min_timeout=0.1, bool_pulls=False)  # counted pulls
    tuner.start(0.0)
    tuner.on_sync_started(0.0)
    tuner.on_sync_finished(1.0, SyncReport(1.0, pulled=500))  # baseline: span unknown
    assert math.isnan(tuner.rate) and (tuner.srtt, tuner.rttvar) == (1.0, 0.5)
    assert "baseline" in tuner.decide(1.0).reason
    tuner.on_sync_started(100.0)
    tuner.on_sync_finished(102.0, SyncReport(2.0, pulled=10))  # 10 changes over 100 s
    assert tuner.rate == pytest.approx(0.1)
    assert tuner.safe_rate == pytest.approx((10 + 2 + 2 * math.sqrt(11)) / 100)
    assert (tuner.srtt, tuner.rttvar) == (pytest.approx(1.125), pytest.approx(0.625))
    assert tuner.planning_latency == pytest.approx(1.75)
    assert tuner.sync_timeout() == pytest.approx(1.125 + 4 * 0.625)
    d = tuner.decide(102.0)
    assert d.due == pytest.approx(102.0 + tuner.interval) and "every" in d.reason


def test_app_request_is_honoured() -> None:
    tuner = Adaptive(60.0, rng=random.Random(0))
    tuner.start(0.0)
    tuner.on_sync_started(0.0)
    tuner.on_sync_finished(0.5, SyncReport(0.5))
    tuner.on_sync_requested(3.0)
    d = tuner.decide(3.0)
    assert d.due == 3.0 and "requested" in d.reason


# ------------------------------------------------------------------ failures
def test_backoff_with_jitter_then_back_to_cadence() -> None:
    backoff = Backoff(base=2.0, cap=64.0)
    tuner = Adaptive(60.0, backoff=backoff, rng=random.Random(9))
    tuner.start(0.0)
    tuner.on_sync_started(0.0)
    tuner.on_sync_finished(0.5, SyncReport(0.5))
    cadence = tuner.interval
    now, delays = 0.5 + cadence, []
    for attempt in range(1, 10):
        tuner.on_sync_started(now)
        now += 0.3
        tuner.on_sync_failed(now, FailureKind.NETWORK, 0.3)
        d = tuner.decide(now)
        assert d.due is not None and f"retry {attempt}" in d.reason
        delay = d.due - now
        assert 0.0 <= delay <= backoff.ceiling(attempt)
        delays.append(delay)
        now = d.due
    assert len(set(delays)) == len(delays)  # jittered, not a fixed ladder
    assert max(delays[5:]) > backoff.ceiling(2)  # and the ceiling grew
    tuner.on_sync_started(now)
    tuner.on_sync_finished(now + 0.5, SyncReport(0.5))
    assert tuner.consecutive_failures == 0
    assert tuner.next_sync_due(now + 0.5) == pytest.approx(now + 0.5 + tuner.interval)


def test_timeouts_are_not_latency_samples_but_double_the_timeout() -> None:
    tuner = Adaptive(60.0, rng=random.Random(0), min_timeout=0.5, max_timeout=30.0)
    tuner.start(0.0)
    tuner.on_sync_started(0.0)
    tuner.on_sync_finished(1.0, SyncReport(1.0))
    srtt, rttvar, timeout = tuner.srtt, tuner.rttvar, tuner.sync_timeout()
    assert timeout == 3.0
    tuner.on_sync_started(70.0)
    tuner.on_sync_failed(73.0, FailureKind.TIMEOUT, 3.0)
    assert (tuner.srtt, tuner.rttvar) == (srtt, rttvar)  # censored: no sample
    assert tuner.sync_timeout() == 6.0
    tuner.on_sync_started(80.0)
    tuner.on_sync_failed(80.1, FailureKind.NETWORK, 0.1)  # fast failure: no sample either
    assert (tuner.srtt, tuner.sync_timeout()) == (srtt, 6.0)
    tuner.on_sync_started(90.0)
    tuner.on_sync_finished(95.0, SyncReport(5.0))
    assert tuner.srtt == pytest.approx(1.5) and tuner.sync_timeout() == pytest.approx(
        1.5 + 4 * (0.75 * 0.5 + 0.25 * 4.0))


# ------------------------------------------------------------------ local writes
def test_data_at_risk_is_bounded_and_bursts_coalesce() -> None:
    rng = random.Random(5)
    tuner = Adaptive(120.0, max_unpushed_age=10.0, rng=rng)
    tuner.start(0.0)
    writes, t = [], 0.0
    while t < 7200.0:  # bursts of writes: 50 writes in 1 s, every ~5 minutes
        t += rng.expovariate(1 / 300.0)
        writes.extend(t + rng.uniform(0.0, 1.0) for _ in range(50))
    writes.sort()
    now, i, syncs, worst = 0.0, 0, 0, 0.0
    while now < 7200.0:
        due = tuner.next_sync_due(now)
        assert due is not None
        if i < len(writes) and writes[i] < due:
            now = max(now, writes[i])
            tuner.on_local_write(now)
            i += 1
            continue
        now = max(now, due)
        oldest = tuner.oldest_unpushed_write
        if oldest is not None:
            worst = max(worst, now - oldest)
        tuner.on_sync_started(now)
        tuner.on_sync_finished(now + 0.3, SyncReport(0.3, pushed=tuner.unpushed_writes))
        now += 0.3
        syncs += 1
    assert worst <= 10.0 + 1e-9
    assert worst > 5.0  # writes do wait: they are coalesced, not pushed one by one
    assert syncs < len(writes) / 10
    assert tuner.unpushed_writes <= 50


def test_write_deadline_reason_and_default_is_freshness() -> None:
    assert Adaptive(30.0).max_unpushed_age == 30.0
    tuner = Adaptive(30.0, max_unpushed_age=5.0, rng=random.Random(0))
    tuner.start(0.0)
    tuner.on_sync_started(0.0)
    tuner.on_sync_finished(0.2, SyncReport(0.2))
    tuner.on_local_write(1.0)
    tuner.on_local_write(2.0, 5)
    d = tuner.decide(2.0)
    assert d.due == 6.0 and "push local writes within 5 s" in d.reason
    tuner.on_sync_started(6.0)
    tuner.on_local_write(6.1)  # lands during the push: its own deadline after it
    tuner.on_sync_finished(6.3, SyncReport(0.3, pushed=6))
    assert tuner.next_sync_due(6.3) == pytest.approx(11.1)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs,exc,field", [
    ({"freshness": math.nan}, ValueError, "freshness"),
    ({"freshness": math.inf}, ValueError, "freshness"),
    ({"freshness": -1.0}, ValueError, "freshness"),
    ({"freshness": 0.0}, ValueError, "freshness"),
    ({"freshness": True}, TypeError, "freshness"),
    ({"freshness": "60"}, TypeError, "freshness"),
    ({"stale_share": 0.0}, ValueError, "stale_share"),
    ({"stale_share": 1.0}, ValueError, "stale_share"),
    ({"stale_share": math.nan}, ValueError, "stale_share"),
    ({"min_interval": 0.0}, ValueError, "min_interval"),
    ({"min_interval": -5.0}, ValueError, "min_interval"),
    ({"max_interval": math.inf}, ValueError, "max_interval"),
    ({"min_interval": 10.0, "max_interval": 5.0}, ValueError, "max_interval"),
    ({"max_unpushed_age": 0.0}, ValueError, "max_unpushed_age"),
    ({"max_unpushed_age": math.nan}, ValueError, "max_unpushed_age"),
    ({"backoff": 5.0}, TypeError, "backoff"),
    ({"rng": 42}, TypeError, "rng"),
    ({"half_life": -1.0}, ValueError, "half_life"),
    ({"rate_z": -1.0}, ValueError, "rate_z"),
    ({"latency_margin": math.inf}, ValueError, "latency_margin"),
    ({"min_timeout": 0.0}, ValueError, "min_timeout"),
])
def test_bad_settings_name_the_parameter_and_value(kwargs: dict[str, object],
                                                   exc: type[Exception], field: str) -> None:
    args: dict[str, object] = {"freshness": 60.0, **kwargs}
    with pytest.raises(exc, match=field) as info:
        Adaptive(**args)  # type: ignore[arg-type]
    assert repr(kwargs[field]) in str(info.value)


def test_bad_observations_are_rejected() -> None:
    tuner = Adaptive(60.0, rng=random.Random(0))
    tuner.start(0.0)
    tuner.on_sync_started(1.0)
    with pytest.raises(ValueError, match="duration"):
        tuner.on_sync_finished(2.0, SyncReport(duration=-1.0))
    with pytest.raises(ValueError, match="now"):
        tuner.on_sync_finished(math.nan, SyncReport(1.0))
    tuner.on_sync_finished(2.0, SyncReport(1.0))
    assert tuner.srtt == 1.0


def test_pulls_observed_outside_syncs_reset_the_age_and_keep_the_rate_unbiased() -> None:
    def tuner_after_two_syncs(observe: bool) -> Adaptive:
        tuner = Adaptive(60.0, rng=random.Random(0), half_life=100.0, rate_z=2.0,
                         latency_margin=1.0, min_timeout=0.1, bool_pulls=False)
        tuner.start(0.0)
        tuner.on_sync_started(0.0)
        tuner.on_sync_finished(1.0, SyncReport(1.0, pulled=5))
        if observe:  # a read-your-writes pull brought 6 of the 10 changes at t=50
            tuner.on_pull_observed(50.0, 6)
        tuner.on_sync_started(100.0)
        tuner.on_sync_finished(102.0, SyncReport(2.0, pulled=4 if observe else 10))
        return tuner

    plain, observed = tuner_after_two_syncs(False), tuner_after_two_syncs(True)
    # same 10 changes over the same 100 s either way
    assert observed.rate == pytest.approx(plain.rate) == pytest.approx(0.1)
    assert observed.interval == pytest.approx(plain.interval)
    # a pull after our sync restarts the replica's age: the next sync moves out with it
    observed.on_pull_observed(110.0, 1)
    assert observed.next_sync_due(110.0) == pytest.approx(110.0 + observed.interval)
    assert plain.next_sync_due(110.0) == pytest.approx(102.0 + plain.interval)
    with pytest.raises(ValueError, match="pulled"):
        observed.on_pull_observed(111.0, -1)


def test_pulls_observed_do_not_move_a_fixed_schedule() -> None:
    from synctune.policy import Periodic

    p = Periodic(30.0)
    p.start(0.0)
    p.on_pull_observed(10.0, 3)
    assert p.next_sync_due(10.0) == 30.0


def test_a_changed_pull_stands_for_the_expected_count_given_one() -> None:
    # read as changed or not (the default), 10 counted changes are one changed pull: fed back,
    # m / (1 - e^-m) at the point estimate is an EM step to the maximum-likelihood rate
    mle = math.log(2.0) / 100.0  # every other pull of 100 s changed
    em = ChangeRateEstimator(half_life=1e9)
    tuner = Adaptive(60.0, rng=random.Random(0), half_life=1e9, rate_z=2.0, min_timeout=0.1)
    tuner.start(0.0)
    t = 0.0
    for k in range(2000):
        em.observe(changes_behind(10 if k % 2 else 0, 100.0, em.rate, True), 100.0)
        tuner.on_sync_started(t)
        tuner.on_sync_finished(t + 0.1, SyncReport(0.1, pulled=10 if k % 2 else 0))
        t += 100.0
    assert em.rate == pytest.approx(mle, rel=0.02)
    assert tuner.rate == pytest.approx(mle, rel=0.02)
    # its upper bound is wider than a counted one: a yes/no answer tells less
    assert tuner.safe_rate > tuner.rate + 1.645 * math.sqrt(tuner.rate / em.exposure)
