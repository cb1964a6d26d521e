"""``notify``: the change-notification reference never lets a read see a commit older than D,
pulls once per burst, and never where nobody reads."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synctune.sim import NodeLoad, Workload, simulate

from ._helpers import instant, single_node


def test_one_pull_covers_a_burst_and_none_follow_without_commits() -> None:
    wl = single_node([10.0, 11.0, 12.0, 100.0], np.arange(1.0, 200.0, 1.0), 200.0)
    s = simulate(instant(strategy="notify", freshness=5.0, detail=True), workload=wl)
    assert s.summary.syncs == 2  # the burst at 10-12 s and the commit at 100 s
    assert s.summary.over_freshness_fraction == 0.0
    # an instant network needs no lead: each pull starts as the oldest unpulled commit turns D
    assert s.syncs["start"].tolist() == pytest.approx([15.0, 105.0])


def test_a_replica_nobody_reads_never_pulls() -> None:
    wl = Workload({"reader": NodeLoad(reads=np.arange(1.0, 60.0, 2.0)),
                   "writer": NodeLoad(writes=np.array([5.0, 30.0]))},
                  60.0, np.array([7.0, 20.0]))
    res = simulate(instant(strategy="notify", freshness=4.0, detail=True), workload=wl)
    syncs = res.syncs
    assert (syncs["node"] == "writer").sum() == 0
    assert (syncs["node"] == "reader").sum() >= 1


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.floats(0.0, 300.0), max_size=15), st.lists(st.floats(0.0, 300.0),
                                                              min_size=1, max_size=30),
       st.floats(1.0, 60.0))
def test_no_read_is_older_than_d_and_the_oracle_needs_no_more(commits, reads, d) -> None:
    # like a real replica it learns that it serves reads from its first read (told in the
    # simulator's read batch): reads before its first pull may be older than D, none after
    wl = single_node(sorted(commits), sorted(reads), 301.0)
    res = simulate(instant(strategy="notify", freshness=d, detail=True), workload=wl)
    first = float(res.syncs["start"].min()) if len(res.syncs) else float("inf")
    after = res.reads[res.reads["t"] >= first]
    assert (after["staleness_s"] <= d).all()
    assert res.summary.oracle_syncs <= res.summary.syncs


def test_the_first_read_tells_a_replica_that_it_reads() -> None:
    # nothing pulled before the first reads (told at 90.5, the batch's last read): the read at
    # 90.0 sees the commit at 0 s, the one at 90.5 the pull made then
    wl = single_node([0.0], [90.0, 90.5], 301.0)
    res = simulate(instant(strategy="notify", freshness=1.0, detail=True), workload=wl)
    assert res.syncs["start"].tolist() == [90.5]
    assert res.reads["staleness_s"].tolist() == [90.0, 0.0]
