"""Faults: an outage makes syncs fail and the guide's alerts fire and resolve on time."""

from __future__ import annotations

import numpy as np
import pytest

from synctune.sim import Outage, SimConfig, simulate

from ._helpers import single_node

OUT_START, OUT_END = 600.0, 1500.0
STEP = 10.0


@pytest.fixture(scope="module")
def outage_run():
    duration = 3600.0
    wl = single_node(np.arange(2.5, duration, 5.0), np.arange(0.5, duration, 1.0), duration)
    cfg = SimConfig(strategy="periodic:60", duration=duration, rtt_ms=10.0, rtt_jitter=0.0,
                    outages=(Outage(OUT_START, OUT_END),), sync_timeout=10.0,
                    sample_interval=STEP, read_your_writes=False)
    return simulate(cfg, workload=wl)


def _first(alerts, name, state):
    rows = alerts[(alerts["name"] == name) & (alerts["state"] == state)]
    assert len(rows) == 1, alerts
    return float(rows["t"].iloc[0])


def test_attempts_fail_exactly_during_the_outage(outage_run) -> None:
    s = outage_run.syncs
    inside = (s["start"] >= OUT_START) & (s["start"] < OUT_END)
    assert (~s["ok"][inside]).all() and s["ok"][~inside].all()
    assert (s.loc[~s["ok"], "failure"] == "timeout").all()
    # each failed attempt waits for its 10 s deadline, then Periodic waits 60 s
    fails = s[~s["ok"]]
    assert np.allclose(fails["end"] - fails["start"], 10.0)
    assert np.allclose(np.diff(fails["start"]), 70.0)
    assert outage_run.summary["sync_failures"] == int(inside.sum()) >= 10


def test_sync_failures_metric_counts_them(outage_run) -> None:
    m = outage_run.metrics
    ends = np.sort(outage_run.syncs.loc[~outage_run.syncs["ok"], "end"].to_numpy())
    expected = np.searchsorted(ends, m["t"].to_numpy(), side="right")
    assert (m["sync_failures"].to_numpy() == expected).all()
    assert m.loc[m["t"] < OUT_START, "sync_failures"].max() == 0


def test_sync_failure_alert_fires_at_the_fourth_failure_and_resolves(outage_run) -> None:
    s, a = outage_run.syncs, outage_run.alerts
    ends = np.sort(s.loc[~s["ok"], "end"].to_numpy())
    # "> 3 failures in 10 minutes": the fourth failure fires it at once
    assert _first(a, "sync_failure", "firing") == pytest.approx(ends[3])
    # it resolves when the fourth-newest failure leaves the 600 s window
    resolve = ends[-4] + 600.0
    got = _first(a, "sync_failure", "resolved")
    assert resolve <= got <= resolve + STEP


def test_high_sync_lag_fires_300_s_after_the_last_success(outage_run) -> None:
    s, a = outage_run.syncs, outage_run.alerts
    ok_end = s.loc[s["ok"], "end"].to_numpy()
    last_before = ok_end[ok_end < OUT_START].max()
    first_after = ok_end[ok_end > OUT_START].min()
    assert _first(a, "high_sync_lag", "firing") == pytest.approx(last_before + 300.0)
    assert _first(a, "high_sync_lag", "resolved") == pytest.approx(first_after)


def test_replica_stale_fires_past_twice_the_interval(outage_run) -> None:
    s, a = outage_run.syncs, outage_run.alerts
    ok = s[s["ok"]]
    reach = ok.loc[ok["end"] < OUT_START, "reach"].max()
    oldest_unseen = np.arange(2.5, 3600, 5.0)
    oldest_unseen = oldest_unseen[oldest_unseen > reach][0]
    fire = _first(a, "replica_stale", "firing")
    assert oldest_unseen + 120.0 < fire <= oldest_unseen + 120.0 + STEP
    assert _first(a, "replica_stale", "resolved") == pytest.approx(
        ok.loc[ok["end"] > OUT_START, "end"].min())
    assert outage_run.summary["alerts_replica_stale"] == 1


def test_no_alerts_without_the_outage() -> None:
    duration = 1800.0
    wl = single_node(np.arange(2.5, duration, 5.0), np.arange(0.5, duration, 1.0), duration)
    res = simulate(SimConfig(strategy="periodic:60", duration=duration, rtt_ms=10.0),
                   workload=wl)
    assert res.alerts.empty and res.summary["sync_failures"] == 0


def test_random_failures_are_retried_and_counted() -> None:
    duration = 3600.0
    wl = single_node(np.arange(2.5, duration, 5.0), np.arange(0.5, duration, 1.0), duration)
    res = simulate(SimConfig(strategy="periodic:30", duration=duration, failure_prob=0.3,
                             seed=4), workload=wl)
    s = res.syncs
    share = (~s["ok"]).mean()
    assert 0.15 < share < 0.45
    assert (s.loc[~s["ok"], "failure"] == "network").all()
    assert res.summary["sync_failures"] == int((~s["ok"]).sum())


def test_outage_on_one_node_leaves_the_others_alone() -> None:
    res = simulate(SimConfig(scenario="microservice", strategy="periodic:30", duration=1200.0,
                             outages=(Outage(300.0, 900.0, node="svc-2"),), sync_timeout=5.0))
    s = res.syncs
    assert set(s.loc[~s["ok"], "node"]) == {"svc-2"}
    assert set(res.alerts["node"]) <= {"svc-2"}
    assert (res.alerts["name"] == "sync_failure").any()
