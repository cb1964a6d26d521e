"""Bounded-staleness reads: ``before_read`` in the shared interface and the ``ReadWait`` part."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synctune.policy import (
    Adaptive,
    AnyOf,
    Backoff,
    Budgeted,
    InvalidInput,
    Manual,
    OnWrite,
    Periodic,
    ReadWait,
    SeedRule,
    SyncReport,
    SyncStrategy,
    strategy_from_spec,
)

D, W = 30.0, 2.0


def _synced(s: SyncStrategy, start: float, end: float) -> None:
    s.on_sync_started(start)
    s.on_sync_finished(end, SyncReport(end - start))


@pytest.mark.parametrize("make", [lambda: Periodic(30.0), Manual, OnWrite,
                                  lambda: SeedRule(30.0), lambda: Adaptive(30.0),
                                  lambda: Budgeted(30.0), lambda: Periodic(60.0) | OnWrite()])
def test_reads_never_wait_unless_a_part_says_so(make) -> None:  # type: ignore[no-untyped-def]
    s = make()
    s.start(0.0)
    assert s.max_read_wait == 0.0
    before = s.decide(0.0)
    assert s.before_read(1000.0) == 0.0
    assert s.decide(1000.0).due == before.due


def test_a_read_the_replica_cannot_vouch_for_waits_and_makes_a_sync_due() -> None:
    s = ReadWait(D, W)
    s.start(0.0)
    assert s.max_read_wait == W and s.vouched == -math.inf
    assert s.decide(0.0).due is None  # nothing to do until a read comes
    assert s.before_read(5.0) == W  # unknown age: the first read waits
    assert s.decide(5.0).due == 5.0
    assert s.before_read(5.5) == W  # a second one shares the same sync
    assert s.decide(5.5).due == 5.0
    _synced(s, 5.5, 5.6)
    assert s.vouched == 5.5
    assert s.decide(5.6).due is None
    assert s.before_read(35.5) == 0.0  # exactly D after the sync's start: still vouched for
    assert s.before_read(35.6) == W
    assert s.decide(35.6).due == 35.6


def test_reads_during_an_attempt_wait_for_the_next_one() -> None:
    s = ReadWait(D, W)
    s.start(0.0)
    s.before_read(1.0)
    s.on_sync_started(1.0)
    assert s.before_read(1.0) == W  # started at the read: it serves it
    assert s.before_read(1.2) == W  # came after the start: needs the next attempt
    s.on_sync_finished(1.3, SyncReport(0.3))
    assert s.decide(1.3).due == 1.2
    _synced(s, 1.3, 1.4)
    assert s.decide(1.4).due is None


def test_a_read_whose_wait_ran_out_asks_for_no_more_syncs() -> None:
    s = ReadWait(D, W)
    s.start(0.0)
    s.before_read(1.0)
    s.on_sync_started(1.0)
    s.before_read(1.5)  # waits for the next attempt, until 3.5
    s.on_sync_finished(4.0, SyncReport(3.0))
    assert s.decide(4.0).due is None


def test_no_wait_while_backing_off_or_while_an_attempt_hangs() -> None:
    s = ReadWait(D, 1.0, backoff=Backoff(base=100.0, cap=100.0, jitter=False))
    s.start(0.0)
    s.before_read(1.0)
    s.on_sync_started(1.0)
    s.on_sync_failed(1.5, "timeout", 0.5)
    # the retry is 100 s away: a read cannot get a fresh sync within its wait
    assert s.before_read(2.0) == 0.0
    assert s.decide(2.0).due is None
    assert s.before_read(100.6) == 1.0  # the retry (101.5) comes within this read's wait
    assert s.decide(100.6).due == pytest.approx(101.5)
    s.on_sync_started(101.5)
    assert s.before_read(102.0) == 1.0  # in flight for 0.5 s: the next attempt may come
    assert s.before_read(103.0) == 0.0  # in flight for 1.5 s > the wait: it looks hung
    s.on_sync_failed(131.5, "timeout", 30.0)
    assert s.decide(131.5).due is None  # the read held at 102.0 gave up long ago


def test_an_observed_pull_vouches_for_the_replica() -> None:
    s = ReadWait(D, W)
    s.start(0.0)
    s.on_pull_observed(10.0, 3)
    assert s.before_read(39.0) == 0.0
    assert s.before_read(41.0) == W


@pytest.mark.parametrize("strategy", [lambda: ReadWait(D, W),
                                      lambda: AnyOf(Periodic(600.0), ReadWait(D, W))])
def test_an_observed_pull_vouches_only_as_of_what_it_reached(strategy) -> None:  # type: ignore[no-untyped-def]
    # a read-your-writes pull seen at 10.0 reached the write's commit at 9.85
    s = strategy()
    s.start(0.0)
    s.on_pull_observed(10.0, 3, 9.85)
    assert s.before_read(39.85) == 0.0
    assert s.before_read(39.9) == W  # 30.05 s after what the pull reached


def test_an_observed_pull_cannot_reach_past_its_own_time() -> None:
    s = ReadWait(D, W)
    s.start(0.0)
    with pytest.raises(InvalidInput, match="as_of"):
        s.on_pull_observed(10.0, 1, 10.5)


def test_any_of_asks_only_its_waiting_parts_and_takes_the_longest_wait() -> None:
    both = AnyOf(Periodic(60.0), ReadWait(D, 1.0), ReadWait(D, 3.0))
    assert both.max_read_wait == 3.0
    both.start(0.0)
    assert both.decide(0.0).due == 60.0
    assert both.before_read(2.0) == 3.0
    assert both.decide(2.0).due == 2.0  # the read's sync beats the periodic one
    _synced(both, 2.0, 2.1)
    assert both.before_read(3.0) == 0.0
    assert both.decide(3.0).due == pytest.approx(62.1)


def test_specs_and_bad_values() -> None:
    s = strategy_from_spec("budgeted+read-wait:2", 30.0, rng=random.Random(1))
    assert s.max_read_wait == 2.0 and s.name == "budgeted+read-wait"
    assert strategy_from_spec("periodic:300+read-wait:0.5", 10.0).max_read_wait == 0.5
    with pytest.raises(InvalidInput, match="max_read_wait must be > 0, got 0"):
        ReadWait(30.0, 0)
    with pytest.raises(InvalidInput, match="freshness"):
        ReadWait(-1.0, 1.0)
    with pytest.raises(TypeError, match="max_read_wait"):
        ReadWait(30.0, "1")  # type: ignore[arg-type]
    for bad, why in (("read-wait", "needs the longest wait"), ("read-wait:x", "needs a number"),
                     ("read-wait:-1", "max_read_wait must be > 0"),
                     ("read-wait:inf", "max_read_wait must be finite")):
        with pytest.raises(InvalidInput, match=why) as info:
            strategy_from_spec(bad, 30.0)
        assert "\n" not in str(info.value)
    s = ReadWait(30.0, 1.0)
    s.start(5.0)
    with pytest.raises(ValueError, match="now"):
        s.before_read(4.0)


_EVENTS = st.lists(st.tuples(st.sampled_from(["read", "read", "read", "sync", "fail", "pull"]),
                             st.floats(0.0, 40.0), st.floats(0.0, 3.0)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(_EVENTS)
def test_a_driver_following_the_contract_serves_every_waiting_read(events) -> None:  # type: ignore[no-untyped-def]
    """Driven as the contract says, a read waits exactly when the replica's data is older than
    D at the read, never longer than the wait, and a sync is due for it at once."""
    s = ReadWait(D, W, rng=random.Random(0))
    s.start(0.0)
    t, vouch = 0.0, -math.inf
    for kind, gap, length in events:
        t += gap
        due = s.next_sync_due(t)
        if kind == "read":
            wait = s.before_read(t)
            s.on_read(t)
            assert 0.0 <= wait <= W
            if t - vouch <= D:
                assert wait == 0.0
            elif wait > 0.0:
                assert s.next_sync_due(t) is not None and s.next_sync_due(t) <= t + W
        elif kind == "pull":
            s.on_pull_observed(t, 1)
            vouch = max(vouch, t)
        elif due is not None and due <= t:
            s.on_sync_started(t)
            if kind == "sync":
                s.on_sync_finished(t + length, SyncReport(length))
                vouch = max(vouch, t)
            else:
                s.on_sync_failed(t + length, "network", length)
            t += length
        assert s.vouched == vouch
