"""SyncController against FakeReplica on virtual time: failure, backoff, flush, deadline and stop
paths, fast and without the server (the real-server tests cover the same paths for real)."""

from __future__ import annotations

import itertools
import logging
import random
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from live_support import tick

from synctune.live import ManualTimer, SyncController
from synctune.live.replica.fake import FakeReplica, Step
from synctune.policy import Adaptive, Backoff, FailureKind, Manual, OnWrite, Periodic, SyncStrategy


def controller(fake: FakeReplica, strategy, timer: ManualTimer, **kwargs) -> SyncController:
    return SyncController(fake, strategy, timer=timer, check_every=kwargs.pop("check_every", 1.0),
                          **kwargs)


def wait_until(predicate, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.002)
    return predicate()


def test_failures_back_off_within_the_ceiling_then_every_change_lands_once():
    timer = ManualTimer()
    fake = FakeReplica(timer=timer)
    fake.script("push", *[Step(fail=FailureKind.NETWORK)] * 4)
    backoff = Backoff(base=1.0, cap=8.0)
    ctl = controller(fake, OnWrite(coalesce=0.0, backoff=backoff, rng=random.Random(1)), timer)
    ctl.start()
    fake.commit(3)
    ctl.notify_write(3)
    assert wait_until(lambda: any(a.ok for a in ctl.history))
    assert ctl.stop(10)
    attempts = list(ctl.history)
    assert [a.ok for a in attempts[:5]] == [False] * 4 + [True]
    assert {a.kind for a in attempts[:4]} == {FailureKind.NETWORK}
    for i in range(1, 5):  # after the i-th failure in a row the next start is within ceiling(i)
        gap = attempts[i].started - attempts[i - 1].ended
        assert 0.0 <= gap <= backoff.ceiling(i) + 1e-9
    assert fake.primary == [1, 2, 3]
    assert ctl.status().sync_failures == 4 and ctl.last_error is None


def test_a_push_that_times_out_at_its_deadline_is_a_timeout_failure():
    timer = ManualTimer()
    fake = FakeReplica(timer=timer).script("push", Step(latency=30.0))
    ctl = controller(fake, Manual(), timer, default_timeout=2.0).start()
    fake.commit()
    ctl.notify_write()
    assert ctl.sync_now(5) is False
    assert ctl.history[-1].kind is FailureKind.TIMEOUT
    assert fake.calls[0].timeout == 2.0
    # the attempt lasted its deadline on the controller's clock, not the scripted 30 s
    assert ctl.history[-1].ended - ctl.history[-1].started == pytest.approx(2.0)
    assert ctl.stop(5) and fake.primary == [1]


def test_partial_push_reaches_the_primary_once_and_is_reported_unpushed_until_confirmed():
    timer = ManualTimer()
    fake = FakeReplica(timer=timer).script("push", Step(partial=True))
    ctl = controller(fake, Manual(), timer).start()
    fake.commit(4)
    ctl.notify_write(4)
    assert ctl.sync_now(5) is False
    assert fake.primary == [1, 2, 3, 4]  # applied, but the reply was lost
    assert wait_until(lambda: ctl.status().unpushed_writes == 4)  # not confirmed: still at risk
    assert ctl.stop(5)
    assert fake.primary == [1, 2, 3, 4]  # the flush did not send them twice
    report = ctl.stop_report
    assert report is not None and report.exact and report.unpushed == 0


def test_changes_held_from_before_start_are_counted_and_flushed():
    timer = ManualTimer()
    fake = FakeReplica(timer=timer, held=7)
    ctl = controller(fake, Manual(), timer).start()
    assert ctl.status().unpushed_writes == 7  # start counts them before it returns
    assert ctl.stop(5)
    assert fake.primary == list(range(1, 8))
    assert ctl.stop_report is not None and ctl.stop_report.counted_by == "engine"


def test_held_changes_are_pushed_by_an_on_write_strategy_without_new_writes():
    timer = ManualTimer()
    fake = FakeReplica(timer=timer, held=2)
    ctl = controller(fake, OnWrite(coalesce=0.0), timer).start()
    assert wait_until(lambda: fake.primary == [1, 2])
    assert ctl.stop(5)


def test_stop_returns_by_its_deadline_while_a_push_hangs_and_says_what_is_unpushed():
    timer = ManualTimer()
    fake = FakeReplica(timer=timer).script("push", Step(hang=True))
    ctl = controller(fake, Manual(), timer).start()
    fake.commit(5)
    ctl.notify_write(5)
    ctl.request_sync()
    assert wait_until(fake.hanging.is_set)
    t0 = time.monotonic()
    assert ctl.stop(3.0) is False
    assert time.monotonic() - t0 < 2.0  # virtual deadline: patience (0.5 s), not a real 3 s
    report = ctl.stop_report
    assert report is not None
    assert report.abandoned == "push" and not report.ended
    assert report.unpushed == 5
    assert "5 local row changes not confirmed pushed" in report.message()
    assert "abandoned" in report.message()
    # the abandoned push ends later; a new controller on the same engine pushes what is left
    fake.release()
    assert wait_until(lambda: not ctl._loop.alive())
    again = controller(fake, Manual(), timer).start()
    assert again.stop(5)
    assert fake.primary == [1, 2, 3, 4, 5]


def test_a_pull_hanging_at_stop_with_nothing_unpushed_is_a_clean_stop():
    timer = ManualTimer()
    fake = FakeReplica(timer=timer).script("pull", Step(hang=True))
    ctl = controller(fake, Manual(), timer).start()
    ctl.request_sync()
    assert wait_until(fake.hanging.is_set)
    assert ctl.stop(1.0) is True
    report = ctl.stop_report
    assert report is not None and report.abandoned == "pull" and report.unpushed == 0
    assert "all local changes pushed" in report.message()
    fake.release()


def test_app_calls_never_wait_for_a_hung_sync():
    timer = ManualTimer()
    fake = FakeReplica(timer=timer).script("push", Step(hang=True))
    ctl = controller(fake, Periodic(5.0), timer).start()
    fake.commit()
    ctl.notify_write()
    ctl.request_sync()
    assert wait_until(fake.hanging.is_set)
    took = []
    for call in (lambda: ctl.notify_write(), ctl.request_sync, ctl.status, ctl.snapshot,
                 lambda: ctl.record_query(0.001), lambda: ctl.sync_now(0.01),
                 ctl.check_alerts, lambda: ctl.connection().close()):
        t0 = time.perf_counter()
        call()
        took.append(time.perf_counter() - t0)
    assert max(took) < 0.1, took
    assert ctl.status().unpushed_writes == 2  # the engine's last count plus commits since
    fake.release()
    assert ctl.stop(5)


def test_flush_retries_until_the_stop_deadline_then_reports_exactly():
    timer = ManualTimer()
    fake = FakeReplica(timer=timer, handler=lambda call: Step(fail=FailureKind.SERVER)
                       if call.op == "push" else None)
    ctl = controller(fake, Manual(), timer).start()
    fake.commit(2)
    ctl.notify_write(2)
    assert ctl.stop(4.0) is False
    report = ctl.stop_report
    assert report is not None and report.ended and report.exact and report.unpushed == 2
    pushes = [c for c in fake.calls if c.op == "push"]
    assert len(pushes) >= 3  # retried with a short backoff, not once
    assert all(c.began < pushes[0].began + 4.0 for c in pushes)  # none after the deadline
    assert "2 local row changes not confirmed pushed" in report.message()


def test_the_sync_deadline_is_cut_to_the_stop_deadline():
    timer = ManualTimer()
    fake = FakeReplica(timer=timer, handler=lambda call: Step(latency=100.0))
    ctl = controller(fake, Manual(), timer, default_timeout=50.0).start()
    fake.commit()
    ctl.notify_write()
    assert ctl.stop(2.0) is False
    assert fake.calls and max(c.timeout for c in fake.calls) <= 2.0


def test_sync_now_returns_false_once_the_thread_has_stopped():
    timer = ManualTimer()
    ctl = controller(FakeReplica(timer=timer), Manual(), timer).start()
    assert ctl.stop(1)
    t0 = time.monotonic()
    assert ctl.sync_now(5) is False
    assert time.monotonic() - t0 < 1.0


kinds = st.sampled_from([Step(), Step(fail=FailureKind.NETWORK), Step(fail=FailureKind.TIMEOUT),
                         Step(partial=True), Step(latency=5.0), Step(fail=FailureKind.SERVER)])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pushes=st.lists(kinds, max_size=8), pulls=st.lists(kinds, max_size=4),
       writes=st.lists(st.integers(1, 4), min_size=1, max_size=6), held=st.integers(0, 3))
def test_every_change_reaches_the_primary_exactly_once(pushes, pulls, writes, held):
    timer = ManualTimer(grace=0.02)
    fake = FakeReplica(timer=timer, held=held)
    fake.script("push", *pushes).script("pull", *[s for s in pulls if not s.partial])
    ctl = controller(fake, OnWrite(coalesce=0.0, backoff=Backoff(base=0.1, cap=0.5)), timer,
                     default_timeout=2.0).start()
    lock = threading.Lock()
    for n in writes:
        with lock:
            fake.commit(n)
            ctl.notify_write(n)
    flushed = ctl.stop(60.0)
    report = ctl.stop_report
    assert report is not None and report.ended
    total = held + sum(writes)
    assert len(fake.primary) == len(set(fake.primary))  # never twice
    assert fake.primary == list(range(1, len(fake.primary) + 1))  # in order, no gaps
    assert report.unpushed == fake.pending_changes()
    assert flushed == (fake.pending_changes() == 0)
    assert flushed and fake.primary == list(range(1, total + 1))


def test_async_controller_stop_abandons_a_hung_push_and_the_loop_keeps_running():
    import asyncio

    from synctune.live import AsyncSyncController

    timer = ManualTimer()
    fake = FakeReplica(timer=timer).script("push", Step(hang=True))

    async def main() -> tuple[bool, int]:
        async with AsyncSyncController(fake, Manual(), timer=timer) as ctl:
            fake.commit(2)
            ctl.notify_write(2)
            ctl.request_sync()
            await asyncio.to_thread(fake.hanging.wait, 5)
            ticks = [0]
            ticker = asyncio.create_task(tick(ticks))
            flushed = await ctl.stop(2.0)
            ticker.cancel()
            assert ctl.stop_report is not None and ctl.stop_report.abandoned == "push"
            return flushed, ticks[0]

    flushed, ticks = asyncio.run(main())
    assert flushed is False and ticks > 3  # the event loop ran while stop waited
    fake.release()


def test_async_sync_now_calls_waiting_on_a_hung_push_never_delay_a_commit():
    import asyncio

    from synctune.live import AsyncSyncController

    # more waiters than asyncio's default worker threads (at most 32): a sync_now that waits
    # must hold no worker thread, or another task's commit queues behind it
    timer = ManualTimer()
    fake = FakeReplica(timer=timer).script("push", Step(hang=True))

    async def main() -> tuple[float, list[bool], float]:
        async with AsyncSyncController(fake, Manual(), timer=timer) as ctl:
            app = ctl.connection()
            fake.commit()
            ctl.notify_write()
            ctl.request_sync()
            await asyncio.to_thread(fake.hanging.wait, 5)
            t0 = time.monotonic()
            waits = [asyncio.create_task(ctl.sync_now(1.0)) for _ in range(40)]
            await asyncio.sleep(0.05)
            c0 = time.monotonic()
            await app.execute("CREATE TABLE t(x)")
            await app.execute("INSERT INTO t VALUES (1)")
            await app.commit()
            took = time.monotonic() - c0
            answers = await asyncio.gather(*waits)
            waited = time.monotonic() - t0
            fake.release()
            await app.close()
            return took, answers, waited

    took, answers, waited = asyncio.run(main())
    assert took < 0.3  # the commit did not queue behind the waits
    assert answers == [False] * 40 and waited < 1.6  # each waited its own timeout, not more


def test_a_strategy_bug_is_visible_in_status_and_syncs_go_on():
    class Broken(Manual):
        def on_sync_started(self, now):
            raise ZeroDivisionError("strategy bug")

    timer = ManualTimer()
    fake = FakeReplica(timer=timer, held=3)
    ctl = controller(fake, Broken(), timer).start()
    assert ctl.sync_now(5) is True
    assert "strategy raised ZeroDivisionError in on_sync_started" in ctl.status().reason
    assert ctl.stop(1) is True and fake.primary == [1, 2, 3]


def test_a_crashed_sync_thread_is_visible_in_status_and_stop_still_reports():
    def bug() -> None:
        raise ZeroDivisionError("controller bug")

    timer = ManualTimer()
    fake = FakeReplica(timer=timer, held=3)
    ctl = controller(fake, Manual(), timer)
    ctl._loop._maintain = bug  # a bug in the loop itself, outside any strategy call
    ctl.start()
    assert ctl.sync_now(5) is False
    assert "sync thread crashed (ZeroDivisionError)" in ctl.status().reason
    assert ctl.status().unpushed_writes == 3
    assert ctl.stop(1) is False
    assert ctl.stop_report is not None and ctl.stop_report.unpushed == 3
    assert fake.primary == []


def test_alerts_and_ages_follow_the_injected_time():
    from synctune.monitoring import AlertThresholds

    timer = ManualTimer(grace=0.005)
    failing = [True]
    fake = FakeReplica(timer=timer, handler=lambda call: Step(fail=FailureKind.SERVER)
                       if failing[0] else None)
    events = []
    ctl = controller(fake, Periodic(10.0), timer, on_alert=events.append, check_every=5.0,
                     thresholds=AlertThresholds(sync_lag=60.0, failures=3, failure_window=600.0))
    ctl.start()
    # five periodic attempts fail, 10 virtual seconds apart: sync_failure fires after the 4th
    assert wait_until(lambda: ctl.status().sync_failures >= 5)
    assert "sync_failure" in ctl.status().firing
    assert wait_until(lambda: "high_sync_lag" in ctl.status().firing)  # no success for > 60 s
    failing[0] = False
    assert wait_until(lambda: ctl.status().syncs >= 1)
    assert wait_until(lambda: "high_sync_lag" not in ctl.status().firing)
    assert ctl.stop(5)
    fired = [(e.name, e.state) for e in events]
    assert ("sync_failure", "firing") in fired
    assert ("high_sync_lag", "firing") in fired and ("high_sync_lag", "resolved") in fired
    attempts = list(ctl.history)
    starts = [a.started for a in attempts[:5]]
    assert all(b - a == pytest.approx(10.0) for a, b in itertools.pairwise(starts))


def test_an_abandoned_push_with_no_commits_since_the_count_is_reported_exactly():
    timer = ManualTimer()
    fake = FakeReplica(timer=timer, held=6).script("push", Step(hang=True))
    ctl = controller(fake, OnWrite(coalesce=0.0), timer).start()
    assert wait_until(fake.hanging.is_set)
    assert ctl.stop(1.0) is False
    report = ctl.stop_report
    assert report is not None and report.abandoned == "push"
    assert report.exact and report.unpushed == 6 == fake.pending_changes()
    assert "6 local row changes not confirmed pushed;" in report.message()
    fake.release()


def test_an_engine_that_cannot_count_just_now_never_lowers_what_is_at_risk():
    class Busy(FakeReplica):
        busy = False

        def count_unpushed(self) -> int:
            if self.busy:
                raise RuntimeError("database is busy")
            return self.pending_changes()

    timer = ManualTimer()
    fake = Busy(timer=timer, held=4).script("push", *[Step(fail=FailureKind.NETWORK)] * 1000)
    ctl = controller(fake, Manual(), timer, check_every=0.5).start()
    assert wait_until(lambda: ctl.status().unpushed_writes == 4)
    fake.busy = True
    fake.commit(3)
    ctl.notify_write(3)
    time.sleep(0.2)  # recounts are tried (and fail) meanwhile
    assert ctl.status().unpushed_writes == 7
    assert ctl.stop(2.0) is False
    report = ctl.stop_report
    assert report is not None and report.ended
    assert report.unpushed == 7 and not report.exact and report.counted_by == "engine"


actions = st.lists(st.one_of(
    st.tuples(st.just("commit"), st.integers(1, 5)),
    st.tuples(st.just("sync"), st.sampled_from([None, FailureKind.NETWORK, "partial", "slow"])),
), min_size=1, max_size=25)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=actions, held=st.integers(0, 5))
def test_unpushed_is_never_below_what_the_engine_holds(actions, held):
    timer = ManualTimer(grace=0.005)
    fake = FakeReplica(timer=timer, held=held)
    ctl = controller(fake, Manual(), timer, check_every=0.01).start()
    assert ctl.status().unpushed_writes == held  # counted by start itself
    steps = {None: Step(), FailureKind.NETWORK: Step(fail=FailureKind.NETWORK),
             "partial": Step(partial=True), "slow": Step(latency=60.0)}
    for what, arg in actions:
        if what == "commit":
            fake.commit(arg)
            ctl.notify_write(arg)
        else:
            fake.script("push", steps[arg])
            ctl.request_sync()
        # at any moment the app can look: what it sees never understates what is at risk
        seen = ctl.status().unpushed_writes
        assert seen >= fake.pending_changes()
    ctl.stop(30.0)
    report = ctl.stop_report
    assert report is not None and report.unpushed == fake.pending_changes()
    assert len(set(fake.primary)) == len(fake.primary)


def test_commits_landing_after_the_final_count_are_not_reported_as_pushed():
    # the app keeps committing while stop() flushes: a commit reported after the sync thread's
    # last count of the engine is in the file, unpushed, and stop() must not say "all pushed"
    class LateCommits(FakeReplica):
        ctl: SyncController | None = None

        def count_unpushed(self) -> int:
            counted = self.pending_changes()
            ctl = self.ctl
            if ctl is not None and ctl._loop._stop_by is not None:
                self.commit()  # an app thread commits just after the engine answered
                ctl.notify_write()
            return counted

    timer = ManualTimer()
    fake = LateCommits(timer=timer)
    ctl = controller(fake, Manual(), timer)
    fake.ctl = ctl
    ctl.start()
    flushed = ctl.stop(5.0)
    report = ctl.stop_report
    assert report is not None and report.ended
    assert fake.pending_changes() > 0  # rows committed during the stop remain unpushed
    assert report.unpushed == fake.pending_changes() and not report.exact
    assert flushed is False and "not confirmed pushed" in report.message()


def test_a_clock_stepping_back_neither_stops_syncing_nor_fails_app_calls():
    # a wall clock as the controller's clock, stepped back an hour (as NTP may): the strategy
    # refuses time going backwards, which ended the sync thread (nothing synced again) and
    # made every read report raise until the clock caught up
    timer = ManualTimer()
    fake = FakeReplica(timer=timer)
    wall = [1_000_000.0]

    def clock() -> float:
        return wall[0] + timer.now()

    ctl = controller(fake, OnWrite(coalesce=0.0), timer, clock=clock, check_every=0.1).start()
    try:
        fake.commit()
        ctl.notify_write()
        assert wait_until(lambda: len(fake.primary) == 1)
        wall[0] -= 3600.0
        for _ in range(5):
            fake.commit()
            ctl.notify_write()
            ctl.record_query(0.001)
        assert wait_until(lambda: len(fake.primary) == 6), ctl.status().reason
        assert ctl._loop.crashed is None
        # the rows land at the primary before the sync that pushed them is accounted
        assert wait_until(lambda: ctl.status().syncs >= 2), ctl.status()
    finally:
        assert ctl.stop(5.0), ctl.stop_report
    assert fake.primary == list(range(1, 7))


def test_stop_from_a_signal_handler_that_interrupts_a_notify_write_is_bounded():
    # a SIGTERM handler calling stop() runs in the main thread between two bytecodes, maybe
    # while that thread holds the controller's state lock (inside notify_write): stop() took
    # the lock again and the process hung for good instead of stopping by its deadline
    import subprocess
    import sys

    script = """
import os, signal, time
from synctune.live import SyncController
from synctune.live.replica.fake import FakeReplica
from synctune.policy import OnWrite

class Signalled(OnWrite):
    armed = False
    def on_local_write(self, now, count=1, delegated=False):
        super().on_local_write(now, count, delegated)
        if self.armed:  # the signal lands while notify_write holds the lock
            self.armed = False
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.01)

fake = FakeReplica()
strategy = Signalled(coalesce=0.0)
ctl = SyncController(fake, strategy).start()
signal.signal(signal.SIGTERM, lambda *a: ctl.stop(1.0))
strategy.armed = True
fake.commit()
ctl.notify_write()
print("stopped", ctl.stop_report is not None, flush=True)
"""
    t0 = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("stop() from a signal handler deadlocked on the controller's lock")
    assert done.returncode == 0, done.stderr[-800:]
    assert "stopped True" in done.stdout
    assert time.monotonic() - t0 < 15


def test_stop_returns_by_its_deadline_while_a_log_handler_blocks():
    release = threading.Event()

    class Blocking(logging.Handler):  # a full pipe, a hung remote log sink
        def emit(self, record: logging.LogRecord) -> None:
            release.wait()

    logger = logging.getLogger("synctune.live")
    fake = FakeReplica(held=2)
    ctl = SyncController(fake, Manual(), check_every=0.05).start()
    handler, level = Blocking(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        flushed: list[bool] = []  # the sync thread blocks on its first log line, then stop's
        stopper = threading.Thread(target=lambda: flushed.append(ctl.stop(0.5)), daemon=True)
        began = time.monotonic()
        stopper.start()
        stopper.join(5.0)
        took = time.monotonic() - began
        assert flushed == [False] and took < 0.5 + 0.3, took
        assert ctl.stop_report is not None and ctl.stop_report.unpushed == 2
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        release.set()


def test_the_controller_takes_d_from_its_strategy_and_refuses_a_different_one() -> None:
    timer = ManualTimer()

    def controller(strategy: SyncStrategy, freshness: float | None = None) -> SyncController:
        return SyncController(FakeReplica(timer=timer), strategy, timer=timer,
                              freshness=freshness)

    assert controller(Adaptive(30.0)).freshness_target == 30.0
    assert controller(Adaptive(30.0), 30.0).freshness_target == 30.0
    # a strategy without a target of its own counts reads against the one given
    assert controller(Periodic(60.0), 20.0).freshness_target == 20.0
    assert controller(Periodic(60.0)).freshness_target is None
    with pytest.raises(ValueError, match=r"^freshness must equal the strategy's "
                                         r"freshness_target \(30\.0\) when given, got 20\.0$"):
        controller(Adaptive(30.0), 20.0)
