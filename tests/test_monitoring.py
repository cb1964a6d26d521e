"""The guide's three alerts, evaluated by the one evaluator both simulator and controller use."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synctune.live.control.telemetry import SyncTelemetry
from synctune.monitoring import (
    ALERTS,
    EXPORTED,
    METRIC_NAMES,
    AlertEvaluator,
    AlertThresholds,
    MetricSpec,
)
from synctune.monitoring import metrics as m
from synctune.monitoring.grafana import DASHBOARD_FILE, dashboard, dashboard_json
from synctune.monitoring.histogram import Histogram
from synctune.policy import FailureKind


def test_definitions_are_the_guides() -> None:
    assert METRIC_NAMES == ("sync_lag", "sync_failures", "local_db_size", "query_latency",
                            "sync_bandwidth", "replica_age")
    by_name = {a.name: a for a in ALERTS}
    assert by_name["high_sync_lag"].condition == "sync_lag > 300"
    assert by_name["high_sync_lag"].severity == "warning"
    assert by_name["sync_failure"].condition == "sync_failures > 3 in 10 minutes"
    assert by_name["sync_failure"].severity == "critical"
    assert by_name["replica_stale"].condition == "replica_age > sync_interval * 2"
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
    ((0.0, 0.0, -1.0, 60.0), "replica_age"),
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


@given(st.lists(st.floats(0, 100, allow_nan=False), max_size=200))
def test_histogram_counts_each_value_in_its_bucket(values: list[float]) -> None:
    bounds = (0.1, 1.0, 10.0)
    hist = Histogram(bounds)
    for v in values:
        hist.observe(v)
    snap = hist.snapshot()
    assert snap.count == len(values)
    assert snap.cumulative == (*(sum(v <= b for v in values) for b in bounds), len(values))
    assert snap.total == pytest.approx(sum(values))


def test_histogram_bounds_must_increase() -> None:
    with pytest.raises(ValueError, match="bounds"):
        Histogram((1.0, 0.5))


def test_telemetry_counts_reads_over_the_target_and_failures_by_kind() -> None:
    tele = SyncTelemetry(freshness=30.0, wall_clock=lambda: 1234.5)
    tele.on_read(0.001, 29.0)
    tele.on_read(0.002, 31.0)
    tele.on_sync_failed(0.5, FailureKind.AUTH)
    tele.on_sync_done(0.2, 100, 300, None)
    snap = tele.snapshot()
    assert (snap.reads, snap.reads_over_freshness) == (2, 1)
    assert snap.failures["auth"] == 1 and sum(snap.failures.values()) == 1
    assert snap.bandwidth == {"push": 100, "pull": 300}
    assert snap.sync_duration.count == 2
    assert snap.last_sync_unix == 1234.5  # no engine record: the wall clock
    tele.on_sync_done(0.2, 0, 0, 999.0)
    assert tele.last_sync_unix == 999.0  # the engine's record wins
    tele.restore_last_sync(500.0)  # older than what is known: kept
    assert tele.last_sync_unix == 999.0
    # without a target, no read counts as over it
    plain = SyncTelemetry()
    plain.on_read(0.001, 1e9)
    assert plain.snapshot().reads_over_freshness == 0


def test_every_exported_metric_has_a_distinct_prometheus_name() -> None:
    names = [n for spec in EXPORTED for n in spec.series]
    assert len(names) == len(set(names))
    assert all(n.startswith("synctune_") for n in names)
    with pytest.raises(ValueError, match="buckets"):
        MetricSpec("x", "seconds", "histogram", "no buckets")


def test_dashboard_shows_the_announcement_metrics_below_the_replicas() -> None:
    assert DASHBOARD_FILE.read_text(encoding="utf-8") == dashboard_json()
    panels = dashboard()["panels"]
    replica_bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels
                         if "Announcement" not in p["title"])
    shown = {}
    for p in panels:
        if "Announcement" in p["title"]:
            assert p["gridPos"]["y"] >= replica_bottom, p["title"]
            shown[p["title"]] = " ".join(t["expr"] for t in p["targets"])
    for spec in (m.ANNOUNCE_HINTS, m.ANNOUNCE_HINT_LAG, m.ANNOUNCE_FALLBACK_ACTIVE,
                 m.ANNOUNCE_CHANNEL_UP):
        assert sum(spec.prometheus_name in e for e in shown.values()) == 1, spec.name
    assert "histogram_quantile(0.99" in shown["Announcement hint lag"]
    # no two panels overlap on the grid, and ids are distinct
    cells = [(p["gridPos"]["x"], p["gridPos"]["y"]) for p in panels]
    assert len(cells) == len(set(cells))
    assert len({p["id"] for p in panels}) == len(panels)
