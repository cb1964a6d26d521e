"""``Announced``: pulls driven by commit announcements, a tuner as fallback."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synctune.policy import (
    Announced,
    AnyOf,
    Budgeted,
    InvalidInput,
    InvalidType,
    Periodic,
    ReadWait,
    SyncReport,
    SyncStrategy,
    strategy_from_spec,
)

D, LEAD = 10.0, 0.5


def _live(now: float = 0.0, **kw: float) -> Announced:
    """Live from ``now``, with one read then; the quiet spell fixed at ``idle_after`` unless a
    ``stale_share`` is given (the tuned spell has tests of its own)."""
    kw.setdefault("stale_share", 0.0)
    s = Announced(D, Periodic(60.0), lead=LEAD, heartbeat_timeout=1e9, **kw)
    s.start(now)
    s.on_channel(now, True)
    s.on_read(now)
    return s


def _idle(due: float | None) -> bool:
    """No pull planned before the (far) silence of the channel hands over to the fallback."""
    return due is None or due >= 1e9


def _now(due: float | None, t: float) -> bool:
    """A sync is due at once at ``t``."""
    return due is not None and t - LEAD <= due <= t


def _sync(s: SyncStrategy, start: float, end: float, pulled: int = 1) -> None:
    s.on_sync_started(start)
    s.on_sync_finished(end, SyncReport(end - start, pulled=pulled))


def test_one_pull_before_the_oldest_announced_commit_is_d_old_covers_the_burst() -> None:
    s = _live()
    s.on_channel(0.0, True)
    _sync(s, 0.0, 0.1)  # the catch-up pull on connect
    assert _idle(s.decide(0.1).due)
    s.on_announcement(3.0, 2.0)
    assert s.decide(3.0).due == 2.0 + D - LEAD
    s.on_announcement(4.0, 3.5)  # a later commit of the burst: the due time stays
    s.on_announcement(5.0, 4.9)
    assert s.decide(5.0).due == 11.5
    _sync(s, 11.5, 11.6)
    assert _idle(s.decide(11.6).due) and s.pending_since is None


def test_a_late_or_doubled_hint_counts_from_the_last_pull() -> None:
    s = _live()
    _sync(s, 0.0, 0.1)
    s.on_announcement(3.0, 2.0)
    _sync(s, 11.5, 11.6)
    s.on_announcement(12.0, 2.0)  # the same commit again, or one that landed after 11.5
    assert s.decide(12.0).due == 11.5 + D - LEAD


def test_hints_that_arrive_during_a_pull_wait_for_the_next_one() -> None:
    s = _live()
    _sync(s, 0.0, 0.1)
    s.on_announcement(1.0, 1.0)
    s.on_sync_started(11.0)
    s.on_announcement(11.05, 10.0)  # came during the pull: maybe not on it
    s.on_sync_finished(11.2, SyncReport(0.2, pulled=1))
    assert s.pending_since == 10.0
    assert s.decide(11.2).due == 10.0 + D - LEAD


def test_a_failed_pull_keeps_its_hints_and_retries_after_backoff() -> None:
    s = _live()
    _sync(s, 0.0, 0.1)
    s.on_announcement(1.0, 1.0)
    s.on_sync_started(10.5)
    s.on_sync_failed(11.0, "network", 0.5)
    assert s.pending_since == 1.0
    due = s.decide(11.0).due
    assert due is not None and 11.0 <= due <= 12.0  # the first retry within Backoff(base=1)


def test_a_replica_that_has_served_no_reads_does_not_pull_on_hints_until_its_first_read() -> None:
    s = Announced(D, Periodic(60.0), lead=LEAD, heartbeat_timeout=1e9)
    s.start(0.0)
    s.on_channel(0.0, True)
    s.on_announcement(1.0, 1.0)
    s.on_announcement(2.0, None)
    assert _idle(s.decide(100.0).due)  # no reads: no pull, however old the hints
    s.on_read(200.0)
    due = s.decide(200.0).due
    assert due is not None and due <= 200.0  # learned online: the first read makes it due


def test_a_replica_quiet_for_idle_after_lets_hints_wait_for_its_next_read() -> None:
    s = _live(idle_after=100.0)
    _sync(s, 0.0, 0.1)
    s.on_announcement(50.0, 49.0)
    assert s.decide(50.0).due == 49.0 + D - LEAD  # a read 50 s ago: still reading
    _sync(s, 58.5, 58.6)
    s.on_announcement(150.0, 149.0)  # due at 158.5, past 0 + 100 with no read since
    assert _idle(s.decide(150.0).due)
    s.on_read(400.0)
    due = s.decide(400.0).due
    assert due is not None and due <= 400.0  # the next read pulls at once
    assert Announced(30.0).idle_after == 300.0  # default: 10 D


def test_none_means_pull_once_now_and_a_future_commit_time_counts_as_now() -> None:
    s = _live()
    _sync(s, 0.0, 0.1)
    s.on_announcement(5.0, None)
    # anything new landed after the pull at 0 started: pull before that is D old
    assert s.decide(5.0).due == 0.0 + D - LEAD
    _sync(s, 9.5, 9.6)
    s.on_announcement(12.0, 1e6)
    assert s.decide(12.0).due == 12.0 + D - LEAD
    fresh = _live()
    fresh.on_announcement(5.0, None)  # nothing pulled yet: at once
    due = fresh.decide(5.0).due
    assert due is not None and due <= 5.0


def test_a_flood_waits_min_interval_after_the_previous_attempt() -> None:
    s = _live(min_interval=2.0)
    s.on_sync_started(0.0)
    s.on_sync_failed(0.1, "network", 0.1)
    s.on_announcement(0.5, None)
    assert s.decide(0.5).due == 2.0  # 2 s after the previous attempt started


def test_silence_past_the_heartbeat_timeout_hands_over_to_the_fallback() -> None:
    s = Announced(D, Periodic(60.0), lead=LEAD, heartbeat_timeout=30.0)
    s.start(0.0)
    assert s.fallback_active and s.decide(0.0).due == 60.0  # no channel yet: the fallback's
    s.on_channel(0.0, True)
    s.on_read(0.0)
    _sync(s, 0.0, 0.1)
    assert not s.fallback_active
    # planned ahead: the fallback's sync at 60.1 stands, the channel being silent by then
    assert s.decide(1.0).due == 60.1
    s.on_channel(25.0, True)  # a heartbeat: silent from 55 on, before the fallback's 60.1
    assert s.decide(25.0).due == 60.1
    s.on_channel(50.0, True)
    assert s.decide(50.0).due == 80.0  # silent from 80 on, past the fallback's 60.1
    s.on_channel(70.0, False)
    assert s.fallback_active and s.decide(70.0).due == 60.1


def test_return_of_the_channel_makes_one_catch_up_pull() -> None:
    s = _live()
    _sync(s, 0.0, 0.1)
    s.on_channel(1.0, False)
    _sync(s, 60.1, 60.2)  # the fallback's
    assert s.fallback_syncs == 1
    s.on_channel(70.0, True)
    assert _now(s.decide(70.0).due, 70.0)
    _sync(s, 70.0, 70.1)
    assert _idle(s.decide(70.1).due)
    s.on_channel(71.0, True)  # a heartbeat while live: nothing to catch up
    assert _idle(s.decide(71.0).due)


def test_local_writes_are_pushed_within_max_unpushed_age() -> None:
    s = _live(max_unpushed_age=3.0)
    _sync(s, 0.0, 0.1)
    s.on_local_write(1.0)
    assert s.decide(1.0).due == 4.0


def test_a_read_known_to_be_stale_waits_for_a_pull_when_configured() -> None:
    s = _live(max_read_wait=1.0)
    _sync(s, 0.0, 0.1)
    s.on_announcement(2.0, 1.0)
    assert s.before_read(5.0) == 0.0  # the commit is 4 s old: the read is fresh
    s.on_read(5.0)
    s.on_sync_started(5.0)
    s.on_sync_failed(5.1, "network", 0.1)  # the pull failed: the commit still pending
    assert s.before_read(11.5) == 1.0  # 10.5 s old: known stale, waits
    due = s.decide(11.5).due
    assert due is not None and due <= 11.5
    plain = _live()
    plain.on_announcement(2.0, 1.0)
    assert plain.max_read_wait == 0.0 and plain.before_read(20.0) == 0.0


def test_while_down_a_read_waits_as_the_fallback_says() -> None:
    s = Announced(D, AnyOf(Periodic(60.0), ReadWait(D, 2.0)))
    s.start(0.0)
    assert s.max_read_wait == 2.0
    assert s.before_read(1.0) == 2.0  # ReadWait: the replica vouches for nothing yet
    assert s.decide(1.0).due == 1.0


def test_the_lead_is_learned_from_the_syncs_when_not_given() -> None:
    s = Announced(D, Periodic(60.0), heartbeat_timeout=1e9)
    s.start(0.0)
    assert s.lead == 0.0
    _sync(s, 0.0, 0.2)
    assert s.lead == pytest.approx(0.2 + 2 * 0.1)


def test_bad_arguments_name_the_field() -> None:
    with pytest.raises(InvalidInput, match="min_interval"):
        Announced(D, min_interval=0.0)
    with pytest.raises(InvalidInput, match="heartbeat_timeout"):
        Announced(D, heartbeat_timeout=-1.0)
    with pytest.raises(InvalidType, match="fallback"):
        Announced(D, fallback="budgeted")  # type: ignore[arg-type]
    s = _live()
    with pytest.raises(InvalidInput, match="commit_time"):
        s.on_announcement(1.0, math.inf)


def test_specs_build_announced_with_budgeted_as_the_default_fallback() -> None:
    a = strategy_from_spec("announced", 30.0)
    assert isinstance(a, Announced) and isinstance(a.fallback, Budgeted)
    b = strategy_from_spec("announced+budgeted:0.05", 30.0)
    assert isinstance(b, Announced) and isinstance(b.fallback, Budgeted)
    assert b.fallback.stale_share == 0.05
    c = strategy_from_spec("announced+budgeted+read-wait:1", 30.0)
    assert isinstance(c, Announced) and isinstance(c.fallback, AnyOf)
    assert c.max_read_wait == 1.0
    with pytest.raises(InvalidInput, match="comes first"):
        strategy_from_spec("budgeted+announced", 30.0)


# ---------------------------------------------------------------- properties
_HINT, _READ, _BEAT, _DOWN, _WRITE = range(5)
_events = st.lists(st.tuples(st.floats(0.0, 600.0), st.integers(0, 4),
                             st.one_of(st.none(), st.floats(-1e4, 1e4))),
                   max_size=150)


def _drive(s: SyncStrategy, events: list[tuple[float, int, float | None]],
           pull_s: float = 0.05) -> tuple[list[float], list[float | None]]:
    """Run ``s`` over timed events, syncing whenever due (each taking ``pull_s``); returns the
    sync start times and the due time after every event."""
    starts: list[float] = []
    dues: list[float | None] = []
    s.start(0.0)
    now = 0.0
    for t, kind, value in sorted(events, key=lambda e: e[0]):
        for _ in range(10_000):
            due = s.next_sync_due(now)
            if due is None or due > t:
                break
            now = max(now, due)
            starts.append(now)
            _sync(s, now, now + pull_s)
            now += pull_s
        now = max(now, t)
        if kind == _HINT:
            s.on_announcement(now, None if value is None else min(value, now))
        elif kind == _READ:
            s.on_read(now)
        elif kind == _BEAT:
            s.on_channel(now, True)
        elif kind == _DOWN:
            s.on_channel(now, False)
        elif kind == _WRITE:
            s.on_local_write(now)
        dues.append(s.next_sync_due(now))
    return starts, dues


@settings(max_examples=150, deadline=None)
@given(events=_events, min_interval=st.sampled_from([0.5, 2.0, 7.0]))
def test_a_hint_flood_costs_at_most_one_pull_per_min_interval(
        events: list[tuple[float, int, float | None]], min_interval: float) -> None:
    # hints only (forged, doubled, reordered), the channel alive throughout, no writes
    hints = [(t, _HINT, v) for t, _, v in events]
    s = Announced(D, Periodic(1e6), min_interval=min_interval, heartbeat_timeout=1e9,
                  rng=random.Random(1))
    starts, _ = _drive(s, [(0.0, _BEAT, None), (0.0, _READ, None), *hints])
    assert all(b - a >= min_interval - 1e-9 for a, b in itertools.pairwise(starts))


@settings(max_examples=150, deadline=None)
@given(events=_events)
def test_with_the_channel_down_the_decisions_are_the_fallbacks(
        events: list[tuple[float, int, float | None]]) -> None:
    # never up: hints and "down" change nothing; reads and writes reach the fallback
    quiet = [(t, k, v) for t, k, v in events if k != _BEAT]
    alone = Budgeted(D, rng=random.Random(3))
    wrapped = Announced(D, Budgeted(D, rng=random.Random(3)), rng=random.Random(4))
    # the same instants, what the fallback cannot hear made a no-op
    starts_a, dues_a = _drive(alone, [(t, k if k in (_READ, _WRITE) else -1, v)
                                      for t, k, v in quiet])
    starts_w, dues_w = _drive(wrapped, quiet)
    assert starts_w == starts_a
    assert dues_w == dues_a


@settings(max_examples=150, deadline=None)
@given(events=_events)
def test_no_pull_where_no_reads(events: list[tuple[float, int, float | None]]) -> None:
    # a replica nobody reads, with a fallback that never pulls: hints never make it pull
    no_reads = [(t, k, v) for t, k, v in events if k in (_HINT, _BEAT, _DOWN)]
    s = Announced(D, Periodic(1e6), heartbeat_timeout=5.0)
    starts, _ = _drive(s, no_reads)
    assert starts == []


def test_a_read_your_writes_pull_covers_only_what_it_reached():
    # the pull observed at 6.0 reached the write's commit at 4.9: a commit announced at 5.0
    # (heard at 5.2, after what the pull reached) may still be missing, so its pull stays due
    s = _caught_up()
    s.on_announcement(5.2, 5.0)
    s.on_pull_observed(6.0, 1, as_of=4.9)
    assert s.next_sync_due(6.0) == pytest.approx(5.0 + D - LEAD)
    # a pull that reached 5.5, after the hint was heard, has that commit: nothing is due
    t = _caught_up()
    t.on_announcement(5.2, 5.0)
    t.on_pull_observed(6.0, 1, as_of=5.5)
    assert _idle(t.next_sync_due(6.0))


def _caught_up() -> Announced:
    s = _live()  # its catch-up pull on joining the channel, done
    s.on_sync_started(0.0)
    s.on_sync_finished(0.5, SyncReport(0.5))
    return s


def test_the_quiet_spell_shrinks_on_fresh_reads_and_a_read_known_stale_restores_it() -> None:
    s = Announced(D, Periodic(60.0), lead=LEAD, heartbeat_timeout=1e9)
    assert s.quiet_spell == s.idle_after == 10 * D  # as cautious as a fixed spell at first
    s.start(0.0)
    s.on_channel(0.0, True)
    _sync(s, 0.0, 0.05)  # the catch-up pull on connect
    for k in range(1, 101):  # fresh reads (nothing announced): about 2.7 % shorter each
        s.on_read(k / 10)
    assert 0.5 * D < s.quiet_spell < 0.7 * D
    _sync(s, 10.0, 10.1)
    s.on_announcement(12.0, 11.0)  # due at 20.5, past the last read (10) plus the spell
    assert _idle(s.decide(12.0).due)
    s.on_read(25.0)  # the commit at 11 is 14 s old: this read is known stale
    assert s.known_stale_reads == 1 and s.quiet_spell == s.idle_after
    due = s.decide(25.0).due
    assert due is not None and due <= 25.0  # and it pulls at once
    _sync(s, 25.0, 25.1)
    s.on_read(26.0)
    assert 0.97 * s.idle_after < s.quiet_spell < s.idle_after


def test_the_spell_keeps_about_the_stale_share_of_reads_and_stays_under_idle_after() -> None:
    rng = random.Random(7)
    s = Announced(D, Periodic(60.0), lead=LEAD, heartbeat_timeout=1e9, stale_share=0.01)
    s.start(0.0)
    s.on_channel(0.0, True)
    t, reads, spells = 0.0, 0, []
    while t < 200_000.0:
        # a commit a second before each read; reads 1 s apart in sessions of about 20, quiet
        # spells of 10 to 90 s between them (under idle_after = 10 D)
        nxt = t + (rng.uniform(10.0, 90.0) if rng.random() < 0.05 else 1.0)
        due = s.decide(t).due
        if due is not None and due < nxt - 0.1:
            _sync(s, max(due, t), max(due, t) + 0.05)  # a pull due before the next read
        t = nxt
        s.on_announcement(t, t - 1.0)
        s.on_read(t)
        reads += 1
        spells.append(s.quiet_spell)
    assert max(spells) <= s.idle_after
    assert 0.005 <= s.known_stale_reads / reads <= 0.015  # about the share asked for


@pytest.mark.parametrize("share", [-0.1, 1.0, float("nan")])
def test_a_bad_stale_share_names_the_field(share: float) -> None:
    with pytest.raises(InvalidInput, match="stale_share"):
        Announced(D, stale_share=share)


def test_no_stale_share_keeps_the_spell_at_idle_after() -> None:
    s = _live(idle_after=100.0)
    s.on_read(200.0)
    s.on_read(201.0)
    assert s.quiet_spell == 100.0


def test_heartbeats_move_the_silence_and_what_is_asked_agrees() -> None:
    s = Announced(D, Periodic(20.0), lead=LEAD, heartbeat_timeout=30.0)
    s.start(0.0)
    s.on_channel(0.0, True)
    s.on_read(0.0)
    _sync(s, 0.0, 0.1)
    beat = 0.1
    for k in range(200):  # heartbeats every 0.05 s: the silence moves with each
        beat += 0.05
        s.on_channel(beat, True)
        assert s.next_sync_due(beat) == beat + 30.0
        if k % 17 == 0:
            d = s.decide(beat)
            assert d.due == beat + 30.0 and "silent" in d.reason
    s.on_sync_requested(beat)  # an event in between: a full decision again
    assert s.next_sync_due(beat) == beat and s.decide(beat).reason == "app requested a sync"
    _sync(s, beat, beat + 0.1)
    s.on_channel(beat + 0.2, True)
    assert s.next_sync_due(beat + 0.2) == beat + 30.2
    quiet = beat + 30.2  # no more heartbeats: at the bound the fallback's overdue pull starts
    assert s.next_sync_due(quiet) == quiet
    assert s.decide(quiet).reason.startswith("announcement channel silent")
    assert s.next_sync_due(quiet + 0.01) <= quiet and s.fallback_active


def test_a_heartbeat_with_no_decision_standing_makes_no_catch_up_pull() -> None:
    s = Announced(D, Periodic(20.0), lead=LEAD, heartbeat_timeout=30.0)
    s.start(0.0)
    s.on_channel(0.0, True)
    s.on_read(0.0)
    _sync(s, 0.0, 0.1)  # the catch-up pull on connect; nothing asked since
    s.on_channel(0.2, True)  # a heartbeat, the channel alive all along
    assert s.pending_since is None  # not "something may have changed"
    assert s.next_sync_due(0.2) == pytest.approx(30.2)


class _Logged(Announced):
    """A subclass that extends decide() is asked through it, heartbeats or not."""

    asked = 0

    def decide(self, now: float):  # type: ignore[no-untyped-def]
        type(self).asked += 1
        return super().decide(now)


def test_a_subclass_extending_decide_is_asked_through_it() -> None:
    s = _Logged(D, Periodic(20.0), lead=LEAD)
    s.start(0.0)
    s.on_channel(0.0, True)
    before = _Logged.asked
    s.on_channel(0.5, True)
    s.next_sync_due(0.5)
    assert _Logged.asked > before
