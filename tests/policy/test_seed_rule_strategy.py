"""SeedRule: the guide's rule re-applied after each sync on inputs it measures itself."""

from __future__ import annotations

import math
import random

import pytest

from synctune.policy import FailureKind, SeedRule, SyncReport, SyncSettings, seed_rule


def sync(s: SeedRule, start: float, took: float, pulled: int = 0) -> float:
    s.on_sync_started(start)
    s.on_sync_finished(start + took, SyncReport(took, pulled=pulled))
    return start + took


def test_before_any_sync_inputs_are_zero_and_the_rule_applies() -> None:
    s = SeedRule(45.0, rng=random.Random(0))
    s.start(0.0)
    assert (s.write_frequency, s.network_latency) == (0.0, 0.0)
    assert s.settings == seed_rule(0.0, 0.0, 45.0) == SyncSettings(sync_interval=60.0)
    d = s.decide(0.0)
    assert d.due == 60.0 and d.interval == 60.0 and "freshness 45 s" in d.reason


def test_write_frequency_counts_local_writes_and_pulled_changes_per_minute() -> None:
    s = SeedRule(45.0, window=600.0, rng=random.Random(0))
    s.start(0.0)
    for k in range(30):
        s.on_local_write(float(k))
    sync(s, 60.0, 0.1, pulled=30)  # 60 changes in the first 60.1 s
    assert s.write_frequency == pytest.approx(60 / 60.1 * 60)
    assert s.network_latency == pytest.approx(100.0)  # SRTT of one 0.1 s sync, in ms
    assert s.settings == SyncSettings(sync_interval=30.0, sync_on_write=True)
    assert "writes/min > 10" in s.decide(60.1).reason


def test_decaying_window_forgets_an_old_burst() -> None:
    s = SeedRule(45.0, window=600.0, rng=random.Random(0))
    s.start(0.0)
    now = sync(s, 0.0, 0.1, pulled=1000)
    assert s.settings.sync_on_write  # busy
    while now < 3600.0:  # an hour with no writes at all
        due = s.next_sync_due(now)
        assert due is not None
        now = sync(s, max(now, due), 0.1)
    assert s.write_frequency < 10.0
    assert s.settings == SyncSettings(sync_interval=60.0, sync_on_write=False)


def test_slow_network_fires_the_latency_branch() -> None:
    s = SeedRule(20.0, rng=random.Random(0))
    s.start(0.0)
    sync(s, 1.0, 0.25)  # 250 ms
    assert s.network_latency == pytest.approx(250.0)
    assert s.settings == SyncSettings(sync_interval=300.0, sync_on_write=False)
    d = s.decide(1.25)
    assert "latency 250 ms > 200 ms" in d.reason and d.due == pytest.approx(301.25)
    s.on_local_write(2.0)  # no on-write in this branch
    assert s.next_sync_due(2.0) == pytest.approx(301.25)


def test_short_freshness_adds_on_write_and_coalesces_writes_in_flight() -> None:
    s = SeedRule(20.0, rng=random.Random(0))
    s.start(0.0)
    now = sync(s, 0.0, 0.05)
    assert s.settings == SyncSettings(sync_interval=60.0, sync_on_write=True)
    s.on_local_write(5.0)
    d = s.decide(5.0)
    assert d.due == 5.0 and "on write" in d.reason and "push" in d.reason
    s.on_sync_started(5.0)
    s.on_local_write(5.01)
    s.on_sync_finished(5.05, SyncReport(0.05, pushed=1))
    assert s.next_sync_due(5.05) == 5.01  # the write that arrived in flight goes next
    assert now == 0.05


def test_on_write_part_backs_off_and_periodic_part_retries_an_interval_later() -> None:
    s = SeedRule(20.0, rng=random.Random(4))
    s.start(0.0)
    sync(s, 0.0, 0.05)
    s.on_local_write(1.0)
    s.on_sync_started(1.0)
    s.on_sync_failed(1.5, FailureKind.NETWORK, 0.5)
    due = s.next_sync_due(1.5)
    assert due is not None and 1.5 <= due <= 1.5 + 1.0  # first retry ceiling 1 s
    s2 = SeedRule(45.0, rng=random.Random(4))
    s2.start(0.0)
    s2.on_sync_started(60.0)
    s2.on_sync_failed(61.0, FailureKind.SERVER, 1.0)
    assert s2.next_sync_due(61.0) == 121.0


def test_rule_is_reapplied_after_each_sync() -> None:
    s = SeedRule(90.0, window=60.0, rng=random.Random(0))
    s.start(0.0)
    seen = []
    now = 0.0
    for pulled in (0, 2000, 0, 0, 0, 0, 0, 0):
        due = s.next_sync_due(now)
        assert due is not None
        now = sync(s, max(due, now), 0.1, pulled=pulled)
        seen.append(s.settings.sync_interval)
        assert s.settings == seed_rule(s.write_frequency, s.network_latency, 90.0)
    assert 30.0 in seen and 90.0 in seen


def test_app_request_is_honoured() -> None:
    s = SeedRule(45.0)
    s.start(0.0)
    s.on_sync_requested(2.0)
    d = s.decide(2.0)
    assert d.due == 2.0 and "requested" in d.reason


@pytest.mark.parametrize("kwargs,exc,field", [
    ({"data_freshness": math.nan}, ValueError, "data_freshness"),
    ({"data_freshness": -1.0}, ValueError, "data_freshness"),
    ({"data_freshness": math.inf}, ValueError, "data_freshness"),
    ({"data_freshness": "20"}, TypeError, "data_freshness"),
    ({"window": 0.0}, ValueError, "window"),
    ({"window": True}, TypeError, "window"),
    ({"rng": 3}, TypeError, "rng"),
])
def test_validation(kwargs: dict[str, object], exc: type[Exception], field: str) -> None:
    args: dict[str, object] = {"data_freshness": 20.0, **kwargs}
    with pytest.raises(exc, match=field):
        SeedRule(**args)  # type: ignore[arg-type]
