"""Regressions at the edges of a run and of read-wait, each built from the trace that showed it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synctune.sim import SimConfig, oracle_pulls, simulate

from ._helpers import instant, trace_file


def test_the_oracle_count_holds_when_held_reads_run_out_of_order(tmp_path: Path) -> None:
    # the read at 18.5 waits for the pull that starts at 19 and runs at 20; the read at 19
    # comes as the pull of 18 ends and runs at once: reads run at 17.5, 19, 19, 20, 19
    trace = trace_file(tmp_path, "6,primary,write / 16.5,a,read / 18,a,read / 18,a,read / "
                                 "18.5,primary,write / 18.5,a,read / 19,a,read / "
                                 "60,primary,write")
    cfg = instant(trace=trace, strategy="manual+read-wait:2", freshness=1.0, rtt_ms=1000.0,
                  rtt_jitter=0.0, query_ms=0.0)
    res = simulate(cfg)
    ran = (res.reads["t"] + res.reads["latency_ms"] / 1e3).to_numpy()
    assert ran.tolist() == pytest.approx([17.5, 19.0, 19.0, 20.0, 19.0])
    # commit 6 needs a pull in [6, 17.5], commit 18.5 one in [18.5, 20]: two at least
    assert res.summary["oracle_syncs"] == 2
    assert res.summary["staleness_max_s"] <= 1.0
    assert res.summary["syncs"] >= res.summary["oracle_syncs"]


def test_oracle_pulls_walk_reads_in_time_order_whatever_order_they_come_in() -> None:
    commits = np.array([6.0, 18.5, 60.0])
    ran = np.array([17.5, 19.0, 19.0, 20.0, 19.0])
    assert oracle_pulls(commits, ran, 1.0).tolist() == [17.5, 20.0]
    assert oracle_pulls(commits, np.sort(ran), 1.0).tolist() == [17.5, 20.0]


def test_a_read_at_the_end_of_a_trace_gets_its_pull(tmp_path: Path) -> None:
    # the trace's duration is its last row, the read at 10
    trace = trace_file(tmp_path, "1,primary,write / 10,a,read")
    s = simulate(instant(trace=trace, strategy="oracle", freshness=5.0)).summary
    assert s["syncs"] == s["oracle_syncs"] == 1
    assert s["staleness_max_s"] == 0.0


def test_a_read_held_at_the_end_of_a_trace_is_served_not_timed_out(tmp_path: Path) -> None:
    trace = trace_file(tmp_path, "1,primary,write / 10,a,read")
    res = simulate(SimConfig(trace=trace, strategy="manual+read-wait:1", freshness=5.0,
                             rtt_ms=100.0, rtt_jitter=0.0))
    s = res.summary
    assert s["read_waits"] == 1 and s["read_wait_timeout_fraction"] == 0.0
    assert res.syncs["start"].tolist() == [10.0]
    assert s["staleness_max_s"] == 0.0


def test_a_subscriber_serves_a_read_held_at_the_end_of_a_trace(tmp_path: Path) -> None:
    # the announcement-hearing node runs the same end rule as every node: [0, end] inclusive
    trace = trace_file(tmp_path, "1,primary,write / 10,a,read")
    res = simulate(SimConfig(trace=trace, strategy="announced+read-wait:5", freshness=5.0,
                             rtt_ms=100.0, rtt_jitter=0.0))
    assert res.syncs["start"].tolist() == [10.0]
    assert res.summary["staleness_max_s"] == 0.0


def test_the_oracle_strategy_makes_its_count_on_a_recorded_day() -> None:
    # the day's last read is its last row: it needs the plan's last pull
    cfg = instant(trace="data/diurnal-day.csv", strategy="oracle", freshness=30.0,
                  read_your_writes=True)
    s = simulate(cfg).summary
    assert s["syncs"] == s["oracle_syncs"] == 1561
    assert s["staleness_max_s"] <= 30.0


def test_no_attempt_starts_after_the_end_of_the_run(tmp_path: Path) -> None:
    # the read at 2 comes while the pull of 1 is in flight (1.0 to 3.0); the run ends at 2.5
    trace = trace_file(tmp_path, "1,a,read / 2,a,read / 2.5,primary,write")
    res = simulate(SimConfig(trace=trace, strategy="manual+read-wait:5", freshness=10.0,
                             rtt_ms=2000.0, rtt_jitter=0.0))
    assert res.syncs["start"].tolist() == [1.0]
    assert (res.syncs["start"] <= 2.5).all()
    # the read at 2 waited for an attempt the run never started: it ran without a pull
    s = res.summary
    assert s["read_waits"] == 2 and s["read_wait_timeout_fraction"] == 0.5


def test_a_read_your_writes_pull_vouches_only_as_of_the_writes_commit(tmp_path: Path) -> None:
    # a's write commits at 1.05 and is acknowledged at 1.2 after its pull up to 1.05; the
    # primary write at 1.1 is not in that pull, so the read at 11.15 would be 10.05 s old
    trace = trace_file(tmp_path, "1.0,a,write / 1.1,primary,write / 11.15,a,read")
    res = simulate(SimConfig(trace=trace, strategy="manual+read-wait:1", freshness=10.0,
                             rtt_ms=100.0, rtt_jitter=0.0))
    s = res.summary
    assert s["read_waits"] == 1 and s["read_wait_timeout_fraction"] == 0.0
    assert s["staleness_max_s"] <= 10.0
    assert s["over_freshness_fraction"] == 0.0


def test_read_wait_meets_d_on_a_fleet_with_read_your_writes_pulls() -> None:
    cfg = SimConfig(scenario="microservice", strategy="budgeted+read-wait:1", freshness=10.0,
                    duration=1800.0, nodes=20, detail=False)
    s = simulate(cfg).summary
    over = round(s["over_freshness_fraction"] * s["reads"])
    timeouts = round(s["read_wait_timeout_fraction"] * s["read_waits"])
    assert over <= timeouts


@pytest.mark.parametrize("on_disk", [False, True])
def test_a_run_without_syncs_gives_tables_that_filter_like_full_ones(tmp_path: Path,
                                                                     on_disk: bool) -> None:
    # an empty table without dtypes turns ``df[df["ok"]]`` into a column selection
    config = SimConfig(scenario="web", freshness=60.0, duration=600.0, strategy="manual",
                       detail=True, detail_dir=tmp_path if on_disk else None)
    res = simulate(config)
    assert res.summary.syncs == 0
    syncs = res.syncs
    assert syncs["ok"].dtype == bool and syncs["start"].dtype == "float64"
    assert list(syncs[syncs["ok"]].columns) == list(syncs.columns)
    assert "node" in syncs[syncs["ok"]].columns
