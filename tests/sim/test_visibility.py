"""Write visibility per pull (prefix sums and slot-boundary counts) against every (commit, node)
pair listed one by one."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synctune.sim import SimConfig, simulate
from synctune.sim.reduce import sketch, visibility
from synctune.sim.reduce.sketch import RELATIVE_ERROR, QuantileSketch
from synctune.sim.reduce.visibility import CommitLog, node_visibility


def pairwise(ct: np.ndarray, origin_t: np.ndarray, own: set[int], vis_t: np.ndarray,
             reach: np.ndarray) -> tuple[list[float], int]:
    """The definition: each other origin's commit is visible from the first pull (in time
    order) whose reach, or an earlier pull's, covers it."""
    delays, never = [], 0
    for j, c in enumerate(ct):
        if j in own:
            continue
        at = [vis_t[k] for k in range(vis_t.size) if reach[: k + 1].max() >= c]
        if at:
            delays.append(max(at[0] - origin_t[j], 0.0))
        else:
            never += 1
    return delays, never


@st.composite
def cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A log (commit times, origins; node 0 is ours) and a replica timeline: pulls that each
    become visible no earlier than what they reach, some of them reaching back (a
    read-your-writes pull up to an old write)."""
    times = st.floats(0.0, 600.0, allow_nan=False, width=32)
    ct = np.sort(np.asarray(draw(st.lists(times, max_size=60)), dtype=np.float64))
    origin = np.asarray(draw(st.lists(st.integers(-1, 2), min_size=ct.size,
                                      max_size=ct.size)), dtype=np.int64)
    pulls = draw(st.lists(st.tuples(times, st.floats(0.0, 50.0, width=32)), max_size=12))
    vis = sorted((r + lag, r) for r, lag in pulls)
    vis_t = np.asarray([0.0] + [v for v, _ in vis])
    reach = np.asarray([-np.inf] + [r for _, r in vis])
    return ct, origin, vis_t, reach, np.flatnonzero(origin == 0)


def _check(case: tuple[np.ndarray, ...], room: int, local_first: bool = False) -> QuantileSketch:
    ct, origin, vis_t, reach, own = case
    origin_t = ct - 0.5 * (origin == 1) if local_first else ct
    log = CommitLog.of(ct, np.maximum(origin_t, 0.0) if local_first else ct)
    got, never = node_visibility(log, own, vis_t, np.maximum.accumulate(reach), room)
    want, want_never = pairwise(ct, log.origin_t, set(own.tolist()), vis_t, reach)
    assert never == want_never
    assert got.count == len(want)
    assert got.max == (max(want) if want else 0.0)
    assert got.mean == pytest.approx(float(np.mean(want)) if want else 0.0, rel=1e-9, abs=1e-9)
    ref = QuantileSketch(exact_limit=0 if not got.exact else None)
    ref.add(np.asarray(want))
    for q in (0.0, 10.0, 50.0, 90.0, 99.0, 100.0):
        assert got.quantile(q) == ref.quantile(q)  # the same histogram (or the same values)
        exact = float(np.percentile(want, q)) if want else 0.0
        assert abs(got.quantile(q) - exact) <= RELATIVE_ERROR * exact + 1e-9
    return got


@settings(max_examples=300, deadline=None)
@given(cases())
def test_exact_while_the_tally_has_room(case: tuple[np.ndarray, ...]) -> None:
    assert _check(case, room=10_000).exact


@settings(max_examples=300, deadline=None)
@given(cases(), st.booleans())
def test_histogram_listed_pair_by_pair(case: tuple[np.ndarray, ...], small: bool,
                                       ) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(visibility, "THRESHOLD_COST", 10**9)
        if small:
            mp.setattr(visibility, "SLICE", 3)
        got = _check(case, room=0)
    assert not got.exact or got.count == 0


@settings(max_examples=300, deadline=None)
@given(cases(), st.booleans())
def test_histogram_counted_per_slot_boundary(case: tuple[np.ndarray, ...], small: bool,
                                             ) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(visibility, "THRESHOLD_COST", 0)
        if small:
            mp.setattr(visibility, "SLICE", 5)
        _check(case, room=0)


@settings(max_examples=200, deadline=None)
@given(cases(), st.integers(0, 100))
def test_local_first_origin_times_listed(case: tuple[np.ndarray, ...], room: int) -> None:
    _check(case, room=room, local_first=True)


def test_long_segments_fill_many_slots() -> None:
    # one pull showing 20,000 commits spread over an hour: thousands of slot boundaries
    rng = np.random.default_rng(3)
    ct = np.sort(rng.uniform(0.0, 3600.0, 20_000))
    origin = rng.integers(-1, 3, ct.size)
    case = (ct, origin, np.asarray([0.0, 3700.0, 3800.0]),
            np.asarray([-np.inf, 3650.0, 3600.0]), np.flatnonzero(origin == 0))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(visibility, "THRESHOLD_COST", 0)
        _check(case, room=0)


def test_a_fleet_run_bucketed_by_slot_counts_agrees_with_listed_delays(
        monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = SimConfig(scenario="microservice", nodes=6, duration=900.0, strategy="periodic:20",
                    seed=2, detail=False)
    listed = simulate(dataclasses.replace(cfg, read_your_writes=False)).summary
    assert listed.visibility_p99_s > 0  # exact: every delay kept
    monkeypatch.setattr(sketch, "EXACT_LIMIT", 0)
    monkeypatch.setattr(visibility, "THRESHOLD_COST", 0)
    counted = simulate(dataclasses.replace(cfg, read_your_writes=False)).summary
    assert counted.visibility_censored == listed.visibility_censored
    assert counted.visibility_max_s == listed.visibility_max_s
    assert counted.visibility_mean_s == pytest.approx(listed.visibility_mean_s, rel=1e-9)
    assert counted.visibility_p99_s == pytest.approx(listed.visibility_p99_s,
                                                     rel=RELATIVE_ERROR)


def _fleet_case(seed: int, commits: int, nodes: int,
                ) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """A log of ``commits`` over an hour from ``nodes`` origins and each node's timeline:
    pulls every 5-60 s, each visible 10-300 ms after the reach it was sent for."""
    rng = np.random.default_rng(seed)
    ct = np.sort(rng.uniform(0.0, 3600.0, commits))
    origin = rng.integers(-1, nodes, ct.size)
    timelines = []
    for _ in range(nodes):
        reach = np.cumsum(rng.uniform(5.0, 60.0, 200))
        reach = reach[reach < 3600.0]
        vis_t = reach + rng.uniform(0.01, 0.3, reach.size)
        timelines.append((np.concatenate([[0.0], vis_t]), np.concatenate([[-np.inf], reach])))
    return ct, origin, timelines


def _pairwise_fast(ct: np.ndarray, own: np.ndarray, vis_t: np.ndarray,
                   reach: np.ndarray) -> tuple[np.ndarray, int]:
    """``pairwise`` for sorted reach, vectorised: each commit shows at the first pull that
    reaches it."""
    first = np.searchsorted(reach, ct, side="left")
    keep = np.ones(ct.size, dtype=bool)
    keep[own] = False
    seen = keep & (first < reach.size)
    return vis_t[first[seen]] - ct[seen], int((keep & (first >= reach.size)).sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_sampled_histogram_keeps_the_exact_figures_and_the_stated_rank_error(
        seed: int) -> None:
    sample = 4_000
    ct, origin, timelines = _fleet_case(seed, 60_000, 6)
    log = CommitLog.of(ct, ct, sample_size=sample)
    assert log.sample is not None and log.sample.size == sample
    got, want = QuantileSketch(), []
    never = want_never = 0
    for node, (vis_t, reach) in enumerate(timelines):
        own = np.flatnonzero(origin == node)
        sk, n = node_visibility(log, own, vis_t, reach, room=10**9)
        got.merge(sk)
        never += n
        delays, n_want = _pairwise_fast(ct, own, vis_t, reach)
        want.append(delays)
        want_never += n_want
    every = np.sort(np.concatenate(want))
    assert not got.exact  # sampled: never the exact form, even with room
    assert never == want_never and got.count == every.size
    assert got.max == every[-1]
    assert got.mean == pytest.approx(float(every.mean()), rel=1e-9)
    for q in (1.0, 10.0, 50.0, 90.0, 99.0):
        p = q / 100.0
        value = got.quantile(q)
        # the true share of pairs at or below the reported value, with the buckets' width
        lo = np.searchsorted(every, value * (1 - 2 * RELATIVE_ERROR), side="right") / every.size
        hi = np.searchsorted(every, value * (1 + 2 * RELATIVE_ERROR), side="right") / every.size
        bound = 4.0 * np.sqrt(p * (1 - p) / sample) + 1.0 / sample
        assert lo - bound <= p <= hi + bound, (q, lo, hi, bound)


def test_a_log_within_the_sample_size_is_not_sampled() -> None:
    ct = np.sort(np.random.default_rng(0).uniform(0, 100, 500))
    assert CommitLog.of(ct, ct, sample_size=500).sample is None
    assert CommitLog.of(ct, ct.copy(), sample_size=10).sample is None  # local-first: all
    again = ct.copy()  # another shard's copy of the same log
    a, b = CommitLog.of(ct, ct, sample_size=100), CommitLog.of(again, again, 100)
    assert a.sample is not None and b.sample is not None
    assert np.array_equal(a.sample, b.sample)  # every shard draws the same commits


def test_a_sampled_fleet_run_keeps_its_exact_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = SimConfig(scenario="microservice", nodes=6, duration=900.0, strategy="periodic:20",
                    seed=2, detail=False, read_your_writes=False)
    whole = simulate(cfg).summary
    monkeypatch.setattr(visibility, "SAMPLE_SIZE", 500)
    sampled = simulate(cfg).summary
    assert sampled.syncs == whole.syncs
    assert sampled.visibility_censored == whole.visibility_censored
    assert sampled.visibility_max_s == whole.visibility_max_s
    assert sampled.visibility_mean_s == pytest.approx(whole.visibility_mean_s, rel=1e-9)
    # the sample is in force, and its p99 near the whole one (delays of a 20 s period: a
    # rank error of a few points moves p99 by a few %)
    assert sampled.visibility_p99_s != whole.visibility_p99_s
    assert sampled.visibility_p99_s == pytest.approx(whole.visibility_p99_s, rel=0.1)
