"""``Watcher``: the cadence of the one replica per primary that finds and announces commits."""

from __future__ import annotations

import pytest

from synctune.policy import InvalidInput, SyncReport, Watcher, strategy_from_spec

D = 10.0


def _sync(w: Watcher, start: float, end: float, pulled: int = 0,
          nbytes: int | None = None) -> None:
    """One pull; its bytes 200 of overhead and 100 per change unless given."""
    w.on_sync_started(start)
    size = 200 + 100 * pulled if nbytes is None else nbytes
    w.on_sync_finished(end, SyncReport(end - start, pulled=pulled, nbytes=size))


def test_polls_so_a_commit_after_a_poll_reaches_the_replicas_within_d() -> None:
    w = Watcher(D, announce_delay=0.01, lead=0.3)
    w.start(0.0)
    assert w.decide(0.0).due == 0.0  # first pull at once
    _sync(w, 0.0, 0.2)
    # own pull 0.2 + 2 * 0.1, announcement 0.01, the replica's pull 0.3
    assert w.poll_interval == pytest.approx(D - 0.4 - 0.01 - 0.3)
    assert w.decide(0.2).due == pytest.approx(w.poll_interval)
    assert w.interval_in_force == w.poll_interval


def test_the_interval_never_goes_below_min_interval() -> None:
    w = Watcher(0.5, lead=1.0, min_interval=0.25)
    w.start(0.0)
    _sync(w, 0.0, 0.1)
    assert w.poll_interval == 0.25


def test_long_poll_re_arms_when_a_held_pull_returns_and_paces_the_rest() -> None:
    w = Watcher(D, long_poll=True, min_interval=0.5, rearm_share=0.5)
    w.start(0.0)
    _sync(w, 0.0, 60.0)  # held until the primary's timeout
    assert w.decide(60.0).due == 60.0
    _sync(w, 60.0, 60.1, pulled=1)  # a commit: after half a poll interval
    assert w.decide(60.1).due == pytest.approx(60.0 + 0.5 * w.poll_interval)
    _sync(w, 70.0, 70.05, pulled=0)  # back at once with nothing: waits out a poll interval
    assert w.decide(70.05).due == pytest.approx(70.0 + w.poll_interval)
    assert w.interval_in_force is None and w.sync_timeout() == pytest.approx(65.0)


def test_commit_floor_is_the_previous_pull_start_when_a_pull_brings_changes() -> None:
    w = Watcher(D)
    w.start(0.0)
    _sync(w, 0.0, 0.1, pulled=2)
    assert w.commit_floor is None  # no earlier pull: "something may have changed"
    _sync(w, 9.0, 9.1, pulled=0)
    assert w.commit_floor is None
    _sync(w, 18.0, 18.1, pulled=3)
    assert w.commit_floor == 9.0


def test_failures_retry_after_backoff() -> None:
    w = Watcher(D)
    w.start(0.0)
    w.on_sync_started(0.0)
    w.on_sync_failed(1.0, "network", 1.0)
    due = w.decide(1.0).due
    assert due is not None and 1.0 <= due <= 2.0 and w.commit_floor is None


def test_specs_and_bad_values() -> None:
    assert isinstance(strategy_from_spec("watcher", 30.0), Watcher)
    lp = strategy_from_spec("watcher:long-poll", 30.0)
    assert isinstance(lp, Watcher) and lp.long_poll
    with pytest.raises(InvalidInput, match="long-poll"):
        strategy_from_spec("watcher:fast", 30.0)
    with pytest.raises(InvalidInput, match="announce_delay"):
        Watcher(D, announce_delay=-1.0)
    with pytest.raises(InvalidInput, match="long_poll_timeout"):
        Watcher(D, long_poll_timeout=0.0)


def test_a_stale_share_stretches_the_interval_where_commits_are_rare() -> None:
    strict = Watcher(D, lead=0.1, stale_share=0.0)
    lax = Watcher(D, lead=0.1, stale_share=0.005)
    for w in (strict, lax):
        w.start(0.0)
        t = 0.0
        for _ in range(1000):  # a quiet day and more: nothing changes
            due = w.decide(t).due
            assert due is not None
            _sync(w, due, due + 0.1)
            t = due + 0.1
    assert strict.poll_interval < D
    assert lax.poll_interval > 5 * D
    busy = Watcher(D, lead=0.1)
    busy.start(0.0)
    t = 0.0
    for _ in range(50):  # a change at every poll: the strict cadence
        due = busy.decide(t).due
        assert due is not None
        _sync(busy, due, due + 0.1, pulled=3)
        t = due + 0.1
    assert busy.poll_interval < 1.2 * D  # about D: a stale share buys little here


def test_a_held_long_poll_dates_what_it_brought_to_its_end_less_a_quick_pulls_time() -> None:
    w = Watcher(D, long_poll=True, long_poll_timeout=60.0)
    w.start(0.0)
    _sync(w, 0.0, 40.0, pulled=1)  # held 40 s, no quick pull seen yet: its own start
    assert w.commit_floor == 0.0
    previous = 0.0
    for t in (41.0, 42.0, 43.0):  # quick pulls (under a tenth of the hold): 0.2 s each
        _sync(w, t, t + 0.2, pulled=1)
        assert w.commit_floor == previous  # not held: the previous pull's start
        previous = t
    _sync(w, 50.0, 80.0, pulled=1)  # held 30 s: released as the commit landed
    assert w.commit_floor is not None and 79.0 < w.commit_floor < 80.0 - 0.2
    _sync(w, 80.0, 80.5, pulled=1)  # released at once by a commit that came during the hold
    assert w.commit_floor == 50.0  # 0.5 s is no hold: the previous pull's start


def test_a_held_answer_is_dated_before_its_own_transfer_and_apply() -> None:
    # quick pulls of 0.2 s for 300 bytes: a byte costs at most 0.2 / 300 s. A held pull that
    # brought 100 times the bytes spent up to that much more after the primary answered
    w = Watcher(D, long_poll=True, long_poll_timeout=60.0)
    w.start(0.0)
    for t in (0.0, 1.0, 2.0):
        _sync(w, t, t + 0.2, pulled=1)
    _sync(w, 10.0, 40.0, pulled=1, nbytes=30_000)
    floor = w.commit_floor
    assert floor is not None and 10.0 <= floor <= 40.0 - 0.2 - 20.0
    # no quick pull with changes seen: a held pull is dated to its own start
    u = Watcher(D, long_poll=True, long_poll_timeout=60.0)
    u.start(0.0)
    _sync(u, 0.0, 0.2, pulled=0)
    _sync(u, 10.0, 40.0, pulled=1)
    assert u.commit_floor == 10.0


def test_a_held_pull_is_never_dated_before_its_start_nor_a_polling_one_after_the_last() -> None:
    w = Watcher(D, long_poll=True, long_poll_timeout=60.0)
    w.start(0.0)
    _sync(w, 0.0, 0.1, pulled=1)
    _sync(w, 0.5, 7.0, pulled=1)  # held 6.5 s, but a quick pull is 0.1 s + deviations
    assert w.commit_floor is not None and 0.5 <= w.commit_floor < 7.0 - 0.1
    p = Watcher(D)  # polling: the commits came after the previous pull's start
    p.start(0.0)
    _sync(p, 0.0, 0.1)
    _sync(p, 9.0, 30.0, pulled=2)  # a slow pull is not a held one
    assert p.commit_floor == 0.0
