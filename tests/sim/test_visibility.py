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
