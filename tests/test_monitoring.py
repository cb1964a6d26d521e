"""The guide's three alerts, evaluated by the one evaluator both simulator and controller use."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synctune.monitoring import ALERTS, METRIC_NAMES, AlertEvaluator, AlertThresholds


def test_definitions_are_the_guides() -> None:
    assert METRIC_NAMES == ("sync_lag", "sync_failures", "local_db_size", "query_latency",
                            "sync_bandwidth", "replica_freshness")
    by_name = {a.name: a for a in ALERTS}
    assert by_name["high_sync_lag"].condition == "sync_lag > 300"
    assert by_name["high_sync_lag"].severity == "warning"
    assert by_name["sync_failure"].condition == "sync_failures > 3 in 10 minutes"
    assert by_name["sync_failure"].severity == "critical"
    assert by_name["replica_stale"].condition == "replica_freshness > sync_interval * 2"
    assert by_name["replica_stale"].severity == "warning"
    th = AlertThresholds()
    assert (th.sync_lag, th.failures, th.failure_window, th.stale_factor) == (300, 3, 600, 2)


def test_high_sync_lag_fires_strictly_above_300_and_resolves() -> None:
    ev = AlertEvaluator()
    assert ev.observe(0.0, 300.0, 0.0, 60.0) == []
    [fired] = ev.observe(1.0, 300.5, 0.0, 60.0)
    assert (fired.name, fired.state, fired.severity) == ("high_sync_lag", "firing", "warning")
    assert ev.observe(2.0, 301.0, 0.0, 60.0) == []  # still firing: no new event
    [resolved] = ev.observe(3.0, 0.0, 0.0, 60.0)
    assert (resolved.name, resolved.state, resolved.time) == ("high_sync_lag", "resolved", 3.0)


def test_sync_failure_needs_more_than_three_within_ten_minutes() -> None:
    ev = AlertEvaluator()
    for t in (0.0, 100.0, 200.0):
        ev.record_failure(t)
    assert ev.observe(200.0, 0.0, 0.0, None) == []
    ev.record_failure(599.0)  # 4 within 600 s
    [fired] = ev.observe(599.0, 0.0, 0.0, None)
    assert (fired.name, fired.state, fired.severity) == ("sync_failure", "firing", "critical")
    # at 600 s the first failure leaves the window: 3 left, not more than 3
    [resolved] = ev.observe(600.0, 0.0, 0.0, None)
    assert (resolved.name, resolved.state) == ("sync_failure", "resolved")


def test_replica_stale_compares_with_twice_the_interval_and_needs_one() -> None:
    ev = AlertEvaluator()
    assert ev.observe(0.0, 0.0, 120.0, 60.0) == []
    [fired] = ev.observe(1.0, 0.0, 120.1, 60.0)
    assert fired.name == "replica_stale" and fired.value == pytest.approx(120.1)
    # no periodic interval in force (manual): nothing to compare with, so it resolves
    [resolved] = ev.observe(2.0, 0.0, 1e6, None)
    assert (resolved.name, resolved.state) == ("replica_stale", "resolved")


@given(st.lists(st.tuples(st.floats(0, 1000), st.floats(0, 1000), st.booleans()),
                max_size=40))
def test_events_alternate_firing_and_resolved_per_alert(samples) -> None:
    ev = AlertEvaluator(AlertThresholds(sync_lag=10.0, failures=1, failure_window=50.0))
    now, seen = 0.0, {a.name: "resolved" for a in ALERTS}
    for lag, fresh, failed in samples:
        now += 7.0
        if failed:
            ev.record_failure(now)
        for event in ev.observe(now, lag, fresh, 20.0):
            assert event.state != seen[event.name]
            seen[event.name] = event.state
    assert set(ev.firing) == {n for n, s in seen.items() if s == "firing"}


@pytest.mark.parametrize(("args", "field"), [
    ((0.0, math.nan, 0.0, 60.0), "sync_lag"),
    ((0.0, 0.0, -1.0, 60.0), "replica_freshness"),
    ((0.0, 0.0, 0.0, 0.0), "sync_interval"),
    ((math.inf, 0.0, 0.0, 60.0), "now"),
])
def test_bad_observations_name_the_field(args, field) -> None:
    with pytest.raises(ValueError, match=field):
        AlertEvaluator().observe(*args)


def test_bad_thresholds_name_the_field() -> None:
    with pytest.raises(TypeError, match="thresholds"):
        AlertEvaluator(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="failure_window"):
        AlertThresholds(failure_window=0.0)
    with pytest.raises(TypeError, match="failures"):
        AlertThresholds(failures=2.5)  # type: ignore[arg-type]
