"""Reads as an event: ``on_read`` in the shared interface."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synctune.policy import Adaptive, Manual, OnWrite, Periodic, SeedRule, SyncReport, SyncStrategy


def _all() -> list[SyncStrategy]:
    rng = random.Random(0)
    return [Periodic(30.0), OnWrite(rng=rng), Manual(), SeedRule(30.0, rng=rng),
            Adaptive(30.0, rng=rng), Periodic(60.0) | OnWrite(rng=rng)]


@given(st.lists(st.tuples(st.floats(0.0, 50.0), st.integers(1, 5)), max_size=30))
def test_reads_are_counted_and_leave_read_blind_schedules_alone(
        reads: list[tuple[float, int]]) -> None:
    for s in _all():
        s.start(0.0)
        s.on_sync_started(0.0)
        s.on_sync_finished(0.5, SyncReport(0.5))
        before = s.decide(0.5)
        t = 0.5
        for dt, n in reads:
            t += dt
            s.on_read(t, n)
        assert s.reads == sum(n for _, n in reads)
        if not isinstance(s, Adaptive):
            assert s.next_sync_due(t) == before.due


def test_bad_reads_name_the_field() -> None:
    s = Periodic(10.0)
    s.start(5.0)
    with pytest.raises(ValueError, match="now"):
        s.on_read(4.0)
    with pytest.raises(TypeError, match="count"):
        s.on_read(6.0, 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="count"):
        s.on_read(6.0, -1)
    s.on_read(6.0, 0)  # nothing to count
    assert s.reads == 0


@pytest.mark.parametrize("make", [lambda: Periodic(30.0), Manual, lambda: OnWrite(),
                                  lambda: SeedRule(30.0), lambda: Adaptive(30.0)])
def test_every_strategy_answers_an_app_request_the_same_way(make) -> None:  # type: ignore[no-untyped-def]
    s = make()
    s.start(0.0)
    s.on_sync_started(0.0)
    s.on_sync_finished(0.2, SyncReport(0.2))
    s.on_sync_requested(3.0)
    d = s.decide(3.0)
    assert d.due == 3.0 and d.reason == "app requested a sync"
