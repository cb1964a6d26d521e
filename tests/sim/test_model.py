"""The replica model: delegated and local-first writes, round trips, read holds, cold starts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from synctune.sim import NodeLoad, Outage, SimConfig, Workload, simulate

from ._helpers import instant, single_node


def _two_nodes(a_writes, b_reads, duration: float) -> Workload:
    return Workload({"a": NodeLoad(writes=np.asarray(a_writes, float)),
                     "b": NodeLoad(reads=np.asarray(b_reads, float))}, duration)


def test_delegated_write_costs_a_round_trip_and_one_more_to_read_it_back() -> None:
    wl = single_node([], [], 100.0, writes=[10.0, 20.0])
    cfg = SimConfig(strategy="manual", duration=100.0, rtt_ms=80.0, rtt_jitter=0.0)
    with_ryw = simulate(cfg, workload=wl)
    without = simulate(dataclasses.replace(cfg, read_your_writes=False), workload=wl)
    w = with_ryw.writes
    assert np.allclose(w["latency_ms"], 160.0)
    assert np.allclose(w["commit_t"], w["t"] + 0.04)
    assert np.allclose(without.writes["latency_ms"], 80.0)
    assert with_ryw.summary["ryw_pulls"] == 2 and without.summary["ryw_pulls"] == 0
    assert with_ryw.summary["unsynced_writes_max"] == 0


def test_local_first_write_commits_at_the_push() -> None:
    # node a writes at 5 and 7; periodic:10 pushes them at 10 + rtt/2; b pulls at 10 too
    wl = _two_nodes([5.0, 7.0], np.arange(0.5, 40, 1.0), 40.0)
    cfg = instant(strategy="periodic:10", duration=40.0, write_model="local-first",
                  rtt_ms=100.0, rtt_jitter=0.0)
    res = simulate(cfg, workload=wl)
    w = res.writes[res.writes["node"] == "a"]
    assert np.allclose(w["commit_t"], 10.05)
    assert (w["latency_ms"] < 5).all()  # a local commit
    assert res.summary["unsynced_writes_max"] == 2
    assert res.summary["unsynced_writes_end"] == 0
    # b's first pull (start 10, reach 10.05) meets a's push at the same instant: it sees it
    b_sync = res.syncs[(res.syncs["node"] == "b") & res.syncs["ok"]].iloc[0]
    assert b_sync["reach"] == pytest.approx(10.05) and b_sync["pulled"] == 2
    # visibility counts from the local commit at a to b's pull applying
    assert w["visibility_max_s"].to_numpy() == pytest.approx([10.1 - 5.0, 10.1 - 7.0])
    # b's reads after the pull applied are fresh again
    r = res.reads
    assert (r.loc[(r["t"] > 10.1) & (r["t"] < 20), "staleness_s"] == 0).all()


def test_local_first_writes_are_at_risk_until_pushed() -> None:
    wl = _two_nodes([5.0, 6.0, 7.0], [], 100.0)
    res = simulate(instant(strategy="manual", duration=100.0, write_model="local-first"),
                   workload=wl)
    assert res.summary["unsynced_writes_end"] == 3
    assert res.writes.loc[res.writes["node"] == "a", "commit_t"].isna().all()


def test_read_staleness_uses_the_oldest_unseen_commit() -> None:
    wl = single_node([10.0, 12.0, 30.0], [11.0, 15.0, 25.0, 35.0], 40.0)
    res = simulate(instant(strategy="periodic:20", duration=40.0), workload=wl)
    # pulls at 20 (sees 10, 12) and 40; reads: 11 -> 1, 15 -> 5, 25 -> 0, 35 -> 5
    assert res.reads["staleness_s"].tolist() == pytest.approx([1.0, 5.0, 0.0, 5.0])


def test_round_trip_delays_visibility() -> None:
    wl = single_node([10.0], [20.5, 20.7, 21.0], 30.0)
    res = simulate(instant(strategy="periodic:20", duration=30.0, rtt_ms=1000.0,
                           rtt_jitter=0.0), workload=wl)
    sync = res.syncs.iloc[0]
    assert sync["start"] == 20.0 and sync["reach"] == pytest.approx(20.5)
    assert sync["end"] == pytest.approx(21.0)
    assert res.reads["staleness_s"].tolist() == pytest.approx([10.5, 10.7, 0.0])


def test_read_hold_makes_reads_wait_for_the_apply() -> None:
    commits = np.arange(0.0, 60.0, 0.01)  # 100 changes/s
    reads = np.arange(0.0, 60.0, 0.001)
    wl = single_node(commits, reads, 60.0)
    cfg = instant(strategy="periodic:10", duration=60.0, apply_s_per_change=1e-4)
    free = simulate(cfg, workload=wl)
    held = simulate(dataclasses.replace(cfg, read_hold=True), workload=wl)
    # each pull applies ~1000 changes: 0.1 s during which reads wait; reads (one per ms)
    # that arrive more than 20 ms before the apply ends wait more than 20 ms
    lat = held.reads["latency_ms"].to_numpy()
    assert (free.reads["latency_ms"] < 20).all()
    apply_s = held.syncs["pulled"].to_numpy() * 1e-4
    expected = np.clip(apply_s - 0.02, 0, None).sum() / 60.0
    assert (lat > 20).mean() == pytest.approx(expected, rel=0.05)
    assert lat.max() == pytest.approx(100.0, rel=0.05)


def test_sync_points_in_the_trace_reach_the_strategy() -> None:
    wl = single_node([1.0], [50.0], 60.0, syncs=[5.0, 30.0])
    res = simulate(instant(strategy="manual", duration=60.0), workload=wl)
    assert res.syncs["start"].tolist() == [5.0, 30.0]


def test_reads_after_an_app_sync_point_wait_for_that_sync() -> None:
    # the app calls sync() at 10 and reads right after; the pull reaches the primary at 10.05
    wl = single_node([5.0, 10.02, 10.2], [10.001, 10.3], 20.0, syncs=[10.0])
    cfg = instant(strategy="manual", duration=20.0, rtt_ms=100.0, rtt_jitter=0.0)
    res = simulate(cfg, workload=wl)
    first, second = res.reads.itertuples()
    assert first.latency_ms == pytest.approx(99.0, abs=1.0)  # waited for the sync's end
    assert first.staleness_s == 0.0  # ran at 10.1: sees 5 and 10.02
    assert second.staleness_s == pytest.approx(0.1)  # 10.2 arrived after the pull
    loose = simulate(dataclasses.replace(cfg, sync_blocks_reads=False), workload=wl)
    assert loose.reads["staleness_s"].iloc[0] == pytest.approx(10.001 - 5.0)
    assert loose.reads["latency_ms"].iloc[0] < 5


def test_serverless_cold_starts_download_the_replica() -> None:
    cfg = SimConfig(scenario="serverless", strategy="manual", duration=7200.0, seed=1)
    res = simulate(cfg)
    s = res.summary
    assert s["cold_starts"] > 0
    assert s["bytes"] > s["cold_starts"] * 20_000_000
    assert s["syncs"] > 0


def test_metrics_cover_every_node_and_the_six_names() -> None:
    from synctune.monitoring import METRIC_NAMES

    res = simulate(SimConfig(scenario="microservice", strategy="periodic:30", duration=600.0))
    m = res.metrics
    assert set(METRIC_NAMES) <= set(m.columns)
    assert sorted(m["node"].unique()) == [f"svc-{i}" for i in range(1, 6)]
    per_node = m.groupby("node")
    assert (per_node["sync_bandwidth"].apply(lambda s: s.is_monotonic_increasing)).all()
    assert (per_node["local_db_size"].apply(lambda s: s.is_monotonic_increasing)).all()
    assert (m["sync_lag"] >= 0).all() and (m["replica_age"] >= 0).all()
    assert res.summary["bytes"] == int(per_node["sync_bandwidth"].last().sum())


def test_config_errors_name_the_field() -> None:
    with pytest.raises(ValueError, match="write_model"):
        SimConfig(write_model="sideways")
    with pytest.raises(ValueError, match="rtt_ms"):
        SimConfig(rtt_ms=-1)
    with pytest.raises(TypeError, match="outages"):
        SimConfig(outages=((1, 2),))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scenario"):
        simulate(SimConfig(scenario="nope"))
    with pytest.raises(ValueError, match="strategy 'bogus'"):
        simulate(SimConfig(strategy="bogus"))
    with pytest.raises(ValueError, match="outage node"):
        simulate(SimConfig(scenario="microservice", duration=60.0,
                           outages=(Outage(1.0, 2.0, node="nope"),)))
    SimConfig(rtt_ms=0)  # instant syncs are allowed


@given(st.lists(st.floats(0, 100), max_size=60), st.lists(st.integers(1, 5), max_size=5),
       st.floats(-5, 110), st.floats(-5, 110))
def test_commit_count_agrees_with_the_full_between(times, pushes, a, b) -> None:
    from synctune.sim.elaborate.primary import PrimaryLog

    log = PrimaryLog(np.array(times, dtype=float), np.ones(len(times), dtype=np.int64))
    for k, n in enumerate(pushes):
        log.push(20.0 * k + 1.0, n, 10 * n)
    assert log.count_between(a, b) == log.between(a, b)[0]
