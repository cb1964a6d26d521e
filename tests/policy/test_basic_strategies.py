"""Periodic, OnWrite, Manual, AnyOf, Backoff, SyncSettings and the event contract."""

from __future__ import annotations

import dataclasses
import math
import pickle
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synctune.policy import (
    AnyOf,
    Backoff,
    Decision,
    FailureKind,
    Manual,
    OnWrite,
    Periodic,
    SyncReport,
    SyncSettings,
    SyncStrategy,
    from_settings,
)

OK = SyncReport(duration=0.5)


def run_sync(s: SyncStrategy, start: float, end: float, report: SyncReport = OK) -> None:
    s.on_sync_started(start)
    s.on_sync_finished(end, report)


# ---------------------------------------------------------------- Periodic
def test_periodic_counts_from_the_end_of_the_last_attempt() -> None:
    p = Periodic(60.0)
    p.start(0.0)
    assert p.next_sync_due(0.0) == 60.0
    run_sync(p, 60.0, 62.5)
    assert p.next_sync_due(62.5) == 122.5
    p.on_sync_started(122.5)
    p.on_sync_failed(130.0, FailureKind.NETWORK, 7.5)
    assert p.next_sync_due(130.0) == 190.0
    d = p.decide(130.0)
    assert d.interval == 60.0 and "60" in d.reason
    assert p.interval_in_force == 60.0 and p.consecutive_failures == 1


def test_periodic_honours_app_requests_and_writes_do_not_move_it() -> None:
    p = Periodic(60.0)
    p.start(0.0)
    p.on_local_write(5.0)
    assert p.next_sync_due(5.0) == 60.0
    p.on_sync_requested(10.0)
    d = p.decide(10.0)
    assert d.due == 10.0 and "requested" in d.reason
    run_sync(p, 10.0, 11.0)
    assert p.next_sync_due(11.0) == 71.0
    assert p.unpushed_writes == 0


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_periodic_rejects_bad_interval(bad: float) -> None:
    with pytest.raises(ValueError, match="interval"):
        Periodic(bad)


def test_periodic_rejects_non_numbers() -> None:
    with pytest.raises(TypeError, match="interval"):
        Periodic("60")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="interval"):
        Periodic(True)


# ---------------------------------------------------------------- OnWrite
def test_on_write_coalesces_a_burst_into_one_sync() -> None:
    w = OnWrite(coalesce=2.0, rng=random.Random(1))
    w.start(0.0)
    assert w.next_sync_due(0.0) is None
    for t in (10.0, 10.5, 11.0, 11.9):
        w.on_local_write(t)
    assert w.next_sync_due(11.9) == 12.0 and w.unpushed_writes == 4
    w.on_sync_started(12.0)
    w.on_local_write(12.2)  # lands while the sync is in flight: pushed by the next one
    w.on_sync_finished(12.5, OK)
    assert w.unpushed_writes == 1 and w.oldest_unpushed_write == 12.2
    assert w.next_sync_due(12.5) == pytest.approx(14.2)
    run_sync(w, 14.2, 14.4)
    assert w.next_sync_due(14.4) is None and w.unpushed_writes == 0


def test_on_write_backs_off_with_jitter_after_failures() -> None:
    backoff = Backoff(base=2.0, cap=16.0)
    w = OnWrite(backoff=backoff, rng=random.Random(7))
    w.start(0.0)
    w.on_local_write(1.0)
    t = 1.0
    for attempt in range(1, 7):
        w.on_sync_started(t)
        w.on_sync_failed(t + 0.1, "network", 0.1)
        due = w.next_sync_due(t + 0.1)
        assert due is not None
        assert t + 0.1 <= due <= t + 0.1 + backoff.ceiling(attempt)
        assert w.unpushed_writes == 1 and w.oldest_unpushed_write == 1.0
        t = max(due, t + 0.1)
    run_sync(w, t, t + 0.2)
    assert w.next_sync_due(t + 0.2) is None and w.consecutive_failures == 0


# ---------------------------------------------------------------- Manual
def test_manual_syncs_only_on_request_and_merges_requests() -> None:
    m = Manual()
    m.start(0.0)
    m.on_local_write(1.0)
    assert m.next_sync_due(1.0) is None
    m.on_sync_requested(5.0)
    m.on_sync_requested(6.0)
    assert m.next_sync_due(6.0) == 5.0
    m.on_sync_started(6.0)
    m.on_sync_requested(6.5)  # asked during the sync: one more sync after it
    m.on_sync_finished(7.0, OK)
    assert m.next_sync_due(7.0) == 6.5
    run_sync(m, 7.0, 7.5)
    assert m.next_sync_due(7.5) is None


# ---------------------------------------------------------------- AnyOf
def test_any_of_takes_the_earliest_and_the_shortest_interval() -> None:
    combo = Periodic(60.0) | OnWrite(rng=random.Random(0)) | Periodic(30.0)
    assert isinstance(combo, AnyOf) and len(combo.parts) == 3
    assert combo.name == "periodic+on-write+periodic"
    combo.start(0.0)
    assert combo.next_sync_due(0.0) == 30.0
    assert combo.interval_in_force == 30.0
    combo.on_local_write(3.0)
    d = combo.decide(3.0)
    assert d.due == 3.0 and d.interval == 30.0 and "local writes" in d.reason
    run_sync(combo, 3.0, 4.0)
    assert all(p.unpushed_writes == 0 for p in combo.parts)
    assert combo.next_sync_due(4.0) == 34.0


def test_any_of_validates_parts() -> None:
    with pytest.raises(ValueError, match="parts"):
        AnyOf()
    with pytest.raises(TypeError, match="parts"):
        AnyOf(Periodic(1.0), "on-write")  # type: ignore[arg-type]


def test_any_of_with_nothing_planned_says_why() -> None:
    combo = AnyOf(Manual(), OnWrite())
    combo.start(0.0)
    d = combo.decide(0.0)
    assert d.due is None and "app" in d.reason and d.interval is None


# ---------------------------------------------------------------- Backoff
def test_backoff_ceilings_grow_then_cap() -> None:
    b = Backoff(base=1.0, cap=10.0, multiplier=3.0, jitter=False)
    assert [b.ceiling(n) for n in range(1, 6)] == [1.0, 3.0, 9.0, 10.0, 10.0]
    assert b.ceiling(10**12) == 10.0  # huge attempt counts cost nothing
    assert b.delay(2, random.Random(0)) == 3.0
    assert Backoff(base=2.0, cap=5.0, multiplier=1.0).ceiling(10**9) == 2.0


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=0, max_value=2**32))
def test_backoff_full_jitter_stays_below_the_ceiling(attempt: int, seed: int) -> None:
    b = Backoff(base=0.5, cap=120.0)
    d = b.delay(attempt, random.Random(seed))
    assert 0.0 <= d <= b.ceiling(attempt) <= 120.0


def test_backoff_jitter_spreads_delays() -> None:
    b = Backoff(base=1.0, cap=64.0)
    rng = random.Random(3)
    delays = [b.delay(7, rng) for _ in range(2000)]
    # uniform on [0, 64]: mean 32, and both halves are visited
    assert 29.0 < sum(delays) / len(delays) < 35.0
    assert min(delays) < 8.0 and max(delays) > 56.0


@pytest.mark.parametrize("kwargs,field", [
    ({"base": 0.0}, "base"), ({"base": math.nan}, "base"), ({"cap": 0.5}, "cap"),
    ({"multiplier": 0.9}, "multiplier"), ({"multiplier": math.inf}, "multiplier"),
])
def test_backoff_validation(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Backoff(**kwargs)


def test_backoff_rejects_bad_types_and_attempts() -> None:
    with pytest.raises(TypeError, match="jitter"):
        Backoff(jitter=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="attempt"):
        Backoff().ceiling(0)
    with pytest.raises(TypeError, match="attempt"):
        Backoff().ceiling(1.5)  # type: ignore[arg-type]


# ---------------------------------------------------------------- settings
def test_sync_settings_validation_and_manual() -> None:
    assert SyncSettings(sync_interval=None).manual
    assert not SyncSettings(sync_interval=None, sync_on_write=True).manual
    with pytest.raises(ValueError, match="sync_interval"):
        SyncSettings(sync_interval=-1.0)
    with pytest.raises(ValueError, match="sync_interval"):
        SyncSettings(sync_interval=math.nan)
    with pytest.raises(TypeError, match="sync_on_write"):
        SyncSettings(sync_on_write="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="read_your_writes"):
        SyncSettings(read_your_writes=None)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        SyncSettings().sync_interval = 5.0  # type: ignore[misc]


def test_from_settings_builds_what_the_settings_say() -> None:
    assert isinstance(from_settings(SyncSettings(sync_interval=None)), Manual)
    p = from_settings(SyncSettings(sync_interval=45.0))
    assert isinstance(p, Periodic) and p.interval == 45.0
    assert isinstance(from_settings(SyncSettings(sync_interval=None, sync_on_write=True)),
                      OnWrite)
    both = from_settings(SyncSettings(sync_interval=60.0, sync_on_write=True))
    assert isinstance(both, AnyOf) and both.interval_in_force == 60.0
    with pytest.raises(TypeError, match="settings"):
        from_settings({"sync_interval": 60})  # type: ignore[arg-type]


# ---------------------------------------------------------------- event contract
def started(s: SyncStrategy | None = None) -> SyncStrategy:
    s = s if s is not None else Periodic(10.0)
    s.start(100.0)
    return s


def test_decide_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="start"):
        Periodic(1.0).next_sync_due(0.0)


def test_time_must_not_go_backwards() -> None:
    s = started()
    s.on_local_write(105.0)
    with pytest.raises(ValueError, match="backwards"):
        s.on_local_write(104.0)
    with pytest.raises(ValueError, match="backwards"):
        s.next_sync_due(99.0)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_time_must_be_finite(bad: float) -> None:
    s = started()
    with pytest.raises(ValueError, match="now"):
        s.on_local_write(bad)


def test_time_must_be_a_number() -> None:
    s = started()
    with pytest.raises(TypeError, match="now"):
        s.on_sync_requested("101")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="now"):
        s.on_local_write(True)


def test_finish_or_fail_without_start_is_an_error() -> None:
    s = started()
    with pytest.raises(RuntimeError, match="no sync is in flight"):
        s.on_sync_finished(101.0, OK)
    with pytest.raises(RuntimeError, match="no sync is in flight"):
        s.on_sync_failed(101.0, FailureKind.OTHER, 0.0)


def test_double_start_is_an_error() -> None:
    s = started()
    s.on_sync_started(101.0)
    assert s.in_flight
    with pytest.raises(RuntimeError, match="already in flight"):
        s.on_sync_started(102.0)


def test_bad_reports_and_failure_kinds() -> None:
    s = started()
    s.on_sync_started(101.0)
    with pytest.raises(TypeError, match="report"):
        s.on_sync_finished(102.0, {"duration": 1.0})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind"):
        s.on_sync_failed(102.0, "gremlins", 1.0)
    with pytest.raises(ValueError, match="duration"):
        s.on_sync_failed(102.0, FailureKind.SERVER, -1.0)
    s.on_sync_failed(102.0, "server", 1.0)
    assert s.consecutive_failures == 1 and not s.in_flight


@pytest.mark.parametrize("kwargs,exc,field", [
    ({"duration": -1.0}, ValueError, "duration"),
    ({"duration": math.nan}, ValueError, "duration"),
    ({"duration": 1.0, "pulled": -1}, ValueError, "pulled"),
    ({"duration": 1.0, "pulled": 1.5}, TypeError, "pulled"),
    ({"duration": 1.0, "pushed": True}, TypeError, "pushed"),
    ({"duration": 1.0, "nbytes": "9"}, TypeError, "nbytes"),
])
def test_sync_report_validation(kwargs: dict[str, object], exc: type[Exception],
                                field: str) -> None:
    with pytest.raises(exc, match=field):
        SyncReport(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("count,exc", [(-1, ValueError), (1.0, TypeError), (True, TypeError),
                                       ("2", TypeError)])
def test_write_counts_are_validated(count: object, exc: type[Exception]) -> None:
    s = started()
    with pytest.raises(exc, match="count"):
        s.on_local_write(101.0, count)  # type: ignore[arg-type]


def test_failed_sync_keeps_writes_unpushed_and_success_clears_them() -> None:
    s = started(OnWrite(rng=random.Random(0)))
    s.on_local_write(101.0, 3)
    s.on_sync_started(102.0)
    s.on_local_write(102.5, 2)
    assert s.unpushed_writes == 5
    s.on_sync_failed(103.0, FailureKind.TIMEOUT, 1.0)
    assert s.unpushed_writes == 5 and s.oldest_unpushed_write == 101.0
    run_sync(s, 110.0, 111.0)
    assert s.unpushed_writes == 0 and s.oldest_unpushed_write is None


def test_a_failed_attempt_answers_the_request_it_served() -> None:
    m = started(Manual())
    m.on_sync_requested(101.0)
    m.on_sync_started(101.0)
    m.on_sync_failed(102.0, FailureKind.NETWORK, 1.0)
    assert m.next_sync_due(102.0) is None  # the app saw the error; no hot retry loop
    m.on_sync_requested(103.0)
    m.on_sync_started(103.0)
    m.on_sync_requested(103.5)
    m.on_sync_failed(104.0, FailureKind.NETWORK, 1.0)
    assert m.next_sync_due(104.0) == 103.5  # asked during the failed attempt: still pending


# ------------------------------------------------------- pushed (delegated) writes
def test_pushed_writes_trigger_on_write_but_are_not_data_at_risk() -> None:
    ow = OnWrite(rng=random.Random(0))
    ow.start(0.0)
    ow.on_local_write(2.0, pushed=True)
    assert ow.unpushed_writes == 0 and ow.oldest_unpushed_write is None
    assert ow.oldest_unsynced_write == 2.0
    assert ow.next_sync_due(2.0) == 2.0
    run_sync(ow, 2.0, 2.5)
    assert ow.oldest_unsynced_write is None and ow.next_sync_due(2.5) is None


def test_writes_during_a_sync_wait_for_the_next_one_whatever_their_kind() -> None:
    ow = OnWrite(rng=random.Random(0))
    ow.start(0.0)
    ow.on_local_write(1.0)
    ow.on_sync_started(1.0)
    ow.on_local_write(1.2, pushed=True)
    ow.on_local_write(1.3)
    assert ow.unpushed_writes == 2 and ow.oldest_unsynced_write == 1.0
    ow.on_sync_failed(1.5, "network", 0.5)
    assert ow.unpushed_writes == 2 and ow.oldest_unsynced_write == 1.0
    ow.on_sync_started(3.0)
    ow.on_sync_finished(3.5, OK)
    assert ow.unpushed_writes == 0 and ow.oldest_unsynced_write is None


def test_bad_collaborators_and_flags_are_named() -> None:
    with pytest.raises(TypeError, match="rng"):
        OnWrite(rng=42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="backoff"):
        OnWrite(backoff=5)  # type: ignore[arg-type]
    ow = OnWrite(rng=random.Random(0))
    ow.start(0.0)
    with pytest.raises(TypeError, match="pushed"):
        ow.on_local_write(1.0, pushed="yes")  # type: ignore[arg-type]


def test_a_decision_reason_given_as_a_callable_is_the_text_it_returns_once() -> None:
    calls = []

    def explain() -> str:
        calls.append(1)
        return "every 60 s"

    lazy, eager = Decision(5.0, explain, 60.0), Decision(5.0, "every 60 s", 60.0)
    assert calls == []  # nothing formatted until asked
    assert lazy == eager and hash(lazy) == hash(eager) and repr(lazy) == repr(eager)
    assert lazy.reason == "every 60 s" and calls == [1]  # formatted once, then kept
    assert Decision(5.0, explain, 30.0) != eager
    assert pickle.loads(pickle.dumps(lazy)) == eager
    for name in ("due", "reason", "interval"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(lazy, name, 1.0)
