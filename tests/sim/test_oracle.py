"""The oracle: optimal on hand-built traces; no strategy beats it (property test)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from synctune.sim import oracle_pulls, simulate

from ._helpers import instant, single_node


def _brute_force_min_pulls(commits, reads, d) -> int:
    # candidate pull instants: read times (pulling at a read dominates pulling earlier);
    # try every subset size from 0 up
    import itertools

    def ok(pulls) -> bool:
        for r in reads:
            seen = max([p for p in pulls if p <= r], default=0.0)
            unseen = [c for c in commits if seen < c <= r]
            if unseen and r - unseen[0] > d:
                return False
        return True

    for k in range(len(reads) + 1):
        if any(ok(c) for c in itertools.combinations(reads, k)):
            return k
    raise AssertionError("unreachable")


def test_three_disjoint_deadlines_need_three_pulls() -> None:
    commits = np.array([10.0, 20.0, 50.0])
    reads = np.array([12.0, 16.0, 22.0, 30.0, 40.0, 56.0, 70.0])
    pulls = oracle_pulls(commits, reads, 5.0)
    assert pulls.tolist() == [16.0, 30.0, 56.0]


def test_one_late_pull_covers_a_burst() -> None:
    pulls = oracle_pulls(np.array([10.0, 12.0, 13.0]), np.array([11.0, 16.0, 17.0]), 5.0)
    assert pulls.tolist() == [16.0]


def test_no_pull_when_no_read_comes_after_the_deadline() -> None:
    assert oracle_pulls(np.array([10.0]), np.array([11.0, 15.0]), 5.0).size == 0
    assert oracle_pulls(np.array([]), np.array([1.0, 100.0]), 1.0).size == 0


def test_free_pulls_are_used_before_paying() -> None:
    # a read-your-writes pull at 14 that reaches 13 shows both commits: nothing to pay
    pulls = oracle_pulls(np.array([10.0, 12.0]), np.array([16.0, 17.0]), 5.0,
                         free_t=np.array([14.0]), free_reach=np.array([13.0]))
    assert pulls.size == 0
    # one that reaches only 11 leaves commit 12 to a paid pull at the first read after 17
    pulls = oracle_pulls(np.array([10.0, 12.0]), np.array([16.0, 17.0, 18.0]), 5.0,
                         free_t=np.array([14.0]), free_reach=np.array([11.0]))
    assert pulls.tolist() == [18.0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 100), max_size=6), st.lists(st.floats(0, 100), max_size=7),
       st.floats(0.5, 30))
def test_greedy_matches_brute_force(commits, reads, d) -> None:
    commits, reads = sorted(commits), sorted(set(reads))
    got = oracle_pulls(np.array(commits), np.array(reads), d).size
    assert got == _brute_force_min_pulls(commits, reads, d)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 100), max_size=6),
       st.lists(st.floats(0, 100), min_size=1, max_size=7).flatmap(st.permutations),
       st.floats(0.5, 30))
def test_greedy_matches_brute_force_with_reads_in_any_order(commits, reads, d) -> None:
    # held reads run out of order: the count must not depend on the order reads come in
    commits = sorted(commits)
    got = oracle_pulls(np.array(commits), np.array(reads), d).size
    assert got == _brute_force_min_pulls(commits, sorted(set(reads)), d)


def test_oracle_as_a_strategy_meets_the_target_with_exactly_its_pulls() -> None:
    rng = np.random.default_rng(3)
    commits = np.sort(rng.uniform(0, 3600, 200))
    reads = np.sort(rng.uniform(0, 3600, 2000))
    cfg = instant(strategy="oracle", freshness=20.0, duration=3600.0)
    res = simulate(cfg, workload=single_node(commits, reads, 3600.0))
    assert res.summary["syncs"] == res.summary["oracle_syncs"] > 0
    assert res.summary["staleness_max_s"] <= 20.0
    # the plan it ran is the one the oracle function computes from the same commits
    assert res.summary["oracle_syncs"] == oracle_pulls(commits, reads, 20.0).size


_SPECS = ["periodic:5", "periodic:17", "on-write", "periodic:9+on-write", "adaptive",
          "seed-rule", "manual"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    primary=st.lists(st.floats(0, 300), max_size=25),
    node_writes=st.lists(st.floats(0, 300), max_size=10),
    reads=st.lists(st.floats(0, 300), min_size=1, max_size=40),
    syncs=st.lists(st.floats(0, 300), max_size=5),
    spec=st.sampled_from(_SPECS),
    local_first=st.booleans(),
    rtt_ms=st.sampled_from([0.0, 30.0, 400.0]),
)
def test_no_strategy_beats_the_oracle(primary, node_writes, reads, syncs, spec, local_first,
                                      rtt_ms) -> None:
    wl = single_node(sorted(primary), sorted(reads), 300.0, writes=sorted(node_writes),
                     syncs=sorted(syncs))
    cfg = instant(strategy=spec, freshness=10.0, duration=300.0, rtt_ms=rtt_ms,
                  write_model="local-first" if local_first else "delegated")
    res = simulate(cfg, workload=wl)
    # commits the node must see, from the run's own write table
    w = res.writes
    must = w[w["commit_t"].notna() & ((w["node"] != "a") | (not local_first))]
    commits = np.sort(must["commit_t"].to_numpy(dtype=float))
    r = res.reads
    worst = float(r["staleness_s"].max())
    # at the staleness the strategy achieved, the oracle needs no more pulls than it made
    need = oracle_pulls(commits, r["t"].to_numpy(), worst + 1e-9).size
    assert need <= res.summary["syncs"]


def test_oracle_pulls_rejects_a_bad_freshness() -> None:
    with pytest.raises(ValueError, match="freshness"):
        oracle_pulls(np.array([1.0]), np.array([2.0]), -1.0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    primary=st.lists(st.floats(0, 600), max_size=30),
    node_writes=st.lists(st.floats(0, 600), max_size=30),
    reads=st.lists(st.floats(0, 600), min_size=1, max_size=60),
    spec=st.sampled_from(_SPECS[:-1]),
    freshness=st.sampled_from([2.0, 10.0, 60.0]),
)
def test_meeting_the_target_takes_at_least_the_oracles_pulls(primary, node_writes, reads, spec,
                                                             freshness) -> None:
    # delegated writes with read-your-writes: those pulls are free to the oracle too
    wl = single_node(sorted(primary), sorted(reads), 600.0, writes=sorted(node_writes))
    cfg = instant(strategy=spec, freshness=freshness, duration=600.0, read_your_writes=True)
    s = simulate(cfg, workload=wl).summary
    if s["staleness_max_s"] <= freshness:
        assert s["syncs"] >= s["oracle_syncs"]


_WAIT_SPECS = ["manual+read-wait:2", "periodic:20+read-wait:0.5", "adaptive+read-wait:1",
               "budgeted+read-wait:1", "on-write+read-wait:3", "read-wait:0.2"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(primary=[6.0, 18.5, 60.0], node_writes=[], reads=[16.5, 18.0, 18.0, 18.5, 19.0],
         spec="manual+read-wait:2", rtt_ms=1000.0, freshness=1.0, ryw=False)
@example(primary=[1.0], node_writes=[], reads=[100.0], spec="oracle", rtt_ms=0.0,
         freshness=5.0, ryw=False)
@given(
    primary=st.lists(st.floats(0, 100), max_size=20),
    node_writes=st.lists(st.floats(0, 100), max_size=6),
    reads=st.lists(st.floats(0, 100), min_size=1, max_size=30),
    spec=st.sampled_from(_WAIT_SPECS + _SPECS + ["oracle"]),
    rtt_ms=st.sampled_from([0.0, 30.0, 400.0, 1000.0]),
    freshness=st.sampled_from([1.0, 5.0, 20.0]),
    ryw=st.booleans(),
)
def test_no_strategy_meeting_d_makes_fewer_pulls_read_wait_included(
        primary, node_writes, reads, spec, rtt_ms, freshness, ryw) -> None:
    """Whatever the strategy, held reads and reads at the very end included: a run whose reads
    are all within D made at least ``oracle_syncs`` pulls, and no attempt started after the
    end. On an instant network the oracle strategy makes exactly its count and meets D."""
    # as in a trace, the run ends at its last event: often a read
    duration = max(1.0, *primary, *node_writes, *reads)
    wl = single_node(sorted(primary), sorted(reads), duration, writes=sorted(node_writes))
    cfg = instant(strategy=spec, freshness=freshness, duration=duration, rtt_ms=rtt_ms,
                  rtt_jitter=0.0, query_ms=0.0, read_your_writes=ryw)
    res = simulate(cfg, workload=wl)
    s = res.summary
    if s["staleness_max_s"] <= freshness:
        assert s["syncs"] >= s["oracle_syncs"]
    assert bool((res.syncs["start"] <= duration).all())
    if spec == "oracle" and rtt_ms == 0.0:
        assert s["syncs"] == s["oracle_syncs"]
        assert s["staleness_max_s"] <= freshness


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(primary=st.lists(st.floats(0, 100), min_size=1, max_size=20),
       reads=st.lists(st.floats(0, 100), min_size=1, max_size=30),
       freshness=st.sampled_from([1.0, 5.0, 20.0]))
# a read whose age r - c exceeds D by a rounding error while c + D rounds to r
@example(primary=[15.85196652636545], reads=[0.0], freshness=1.0)
def test_the_oracle_strategy_serves_a_trace_up_to_its_last_read(primary, reads,
                                                                 freshness) -> None:
    # a trace ends at its last row; here always a read
    duration = max(*primary, *reads) + 1.0
    reads = [*reads, duration]
    wl = single_node(sorted(primary), sorted(reads), duration)
    s = simulate(instant(strategy="oracle", freshness=freshness, duration=duration),
                 workload=wl).summary
    assert s["syncs"] == s["oracle_syncs"]
    assert s["staleness_max_s"] <= freshness
