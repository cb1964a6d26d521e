"""Bounded-staleness reads through the controller, against FakeReplica: which reads wait, for
what, how long at most, and that nothing else waits with them (the real server: see
test_read_wait_server.py)."""

from __future__ import annotations

import asyncio
import threading
import time

from live_support import tick, wait_for

from synctune.live import AsyncSyncController, ManualTimer, SyncController
from synctune.live.app.async_connection import AsyncSyncedConnection
from synctune.live.control.history import SyncAttempt, SyncHistory
from synctune.live.replica.fake import FakeReplica, Step
from synctune.policy import Manual, OnWrite, Periodic, ReadWait

D = 30.0


def _controller(fake: FakeReplica, timer: ManualTimer, wait: float = 2.0,
                **kwargs: object) -> SyncController:
    return SyncController(fake, Manual() | ReadWait(D, wait), timer=timer, check_every=1.0,
                          **kwargs).start()


def _waits(ctl: SyncController) -> tuple[int, int]:
    snap = ctl.telemetry.snapshot()
    return snap.read_waits, snap.read_waits_out


def test_a_read_the_replica_cannot_vouch_for_waits_for_a_sync_started_after_it() -> None:
    timer = ManualTimer()
    fake = FakeReplica(timer=timer)
    ctl = _controller(fake, timer)
    app = ctl.connection()
    asked = timer.now()
    assert app.execute("SELECT 1").fetchall() == [(1,)]
    first = list(ctl.history)
    assert len(first) == 1 and first[0].ok and first[0].started >= asked
    assert first[0].reason == "a read waits for fresh data"
    assert _waits(ctl) == (1, 0)
    # within D of that sync's start the replica vouches for its data: no sync, no wait
    timer.advance(D - 1.0)
    app.execute("SELECT 1")
    assert len(ctl.history) == 1 and _waits(ctl) == (1, 0)
    # past it, the next read waits again
    timer.advance(2.0)
    app.execute("SELECT 1")
    assert len(ctl.history) == 2 and ctl.history[-1].started >= first[0].started + D
    assert _waits(ctl) == (2, 0)
    app.close()
    assert ctl.stop(5)


def test_strategies_that_never_hold_reads_leave_connections_alone() -> None:
    timer = ManualTimer()
    fake = FakeReplica(timer=timer)
    for strategy in (Manual(), Periodic(60.0), Periodic(60.0) | OnWrite()):
        ctl = SyncController(fake, strategy, timer=timer).start()
        app = ctl.connection()
        assert app._before_read is None
        app.execute("SELECT 1")
        assert ctl.before_read() == 0.0 and _waits(ctl) == (0, 0)
        app.close()
        assert ctl.stop(5)


def test_a_hung_pull_costs_a_read_its_wait_and_blocks_no_commit() -> None:
    timer = ManualTimer()
    fake = FakeReplica(timer=timer).script("pull", Step(hang=True))
    ctl = _controller(fake, timer, wait=0.3)
    reader, writer = ctl.connection(), ctl.connection()
    took: list[float] = []

    def read() -> None:
        t0 = time.monotonic()
        reader.execute("SELECT 1")
        took.append(time.monotonic() - t0)

    thread = threading.Thread(target=read)
    thread.start()
    assert fake.hanging.wait(5)  # the read's sync is stuck in its pull
    t0 = time.monotonic()
    writer.execute("CREATE TABLE t(x)")
    writer.execute("INSERT INTO t VALUES (1)")
    writer.commit()
    assert time.monotonic() - t0 < 0.2  # the commit did not wait for the read or the pull
    thread.join(5)
    assert 0.25 <= took[0] < 1.0  # its wait, not the hang
    assert _waits(ctl) == (1, 1)
    # once the attempt in flight has hung longer than the wait, further reads run at once
    timer.advance(1.0)
    t0 = time.monotonic()
    reader.execute("SELECT 1")
    assert time.monotonic() - t0 < 0.2 and _waits(ctl) == (1, 1)
    fake.release()
    reader.close()
    writer.close()
    ctl.stop(5)


def test_a_read_inside_the_connections_own_transaction_never_waits() -> None:
    timer = ManualTimer()
    fake = FakeReplica(timer=timer).script("pull", Step(hang=True))
    ctl = _controller(fake, timer, wait=5.0)
    app = ctl.connection()
    app.execute("CREATE TABLE t(x)")
    app.execute("INSERT INTO t VALUES (1)")  # a write transaction is open: it holds the gate
    t0 = time.monotonic()
    assert app.execute("SELECT x FROM t").fetchall() == [(1,)]
    assert time.monotonic() - t0 < 0.2
    assert len(ctl.history) == 0 and _waits(ctl) == (0, 0)
    app.commit()
    fake.release()
    app.close()
    assert ctl.stop(5)


def test_a_failed_pull_ends_the_wait_and_the_read_runs() -> None:
    from synctune.policy import FailureKind

    timer = ManualTimer()
    fake = FakeReplica(timer=timer).script("pull", Step(fail=FailureKind.NETWORK))
    ctl = _controller(fake, timer, wait=5.0)
    app = ctl.connection()
    t0 = time.monotonic()
    app.execute("SELECT 1")
    assert time.monotonic() - t0 < 2.0  # answered by the failure, not the 5 s wait
    assert not ctl.history[-1].ok and _waits(ctl) == (1, 1)
    app.close()
    ctl.stop(5)


def test_async_reads_wait_without_blocking_the_event_loop() -> None:
    timer = ManualTimer()
    fake = FakeReplica(timer=timer).script("pull", Step(hang=True))

    async def main() -> tuple[float, int, tuple[int, int]]:
        async with AsyncSyncController(fake, Manual() | ReadWait(D, 0.4), timer=timer,
                                       check_every=1.0) as ctl:
            app = ctl.connection()
            ticks = [0]
            ticker = asyncio.create_task(tick(ticks))
            t0 = time.monotonic()
            await app.execute("SELECT 1")
            took = time.monotonic() - t0
            ticker.cancel()
            fake.release()
            await app.close()
            return took, ticks[0], _waits(ctl.controller)

    took, ticks, waits = asyncio.run(main())
    assert 0.35 <= took < 1.5 and ticks > 20  # the loop kept turning while the read waited
    assert waits == (1, 1)


def test_before_start_and_after_stop_reads_do_not_wait() -> None:
    timer = ManualTimer()
    fake = FakeReplica(timer=timer)
    ctl = SyncController(fake, Manual() | ReadWait(D, 5.0), timer=timer)
    assert ctl.before_read() == 0.0  # not started: no sync can come
    ctl.start()
    assert ctl.stop(5)
    t0 = time.monotonic()
    ctl.before_read()  # the sync thread is gone: the wait ends at once
    assert time.monotonic() - t0 < 1.0
    assert wait_for(lambda: not ctl._loop.alive(), 1.0)


def test_async_reads_waiting_for_a_hung_pull_never_delay_a_commit() -> None:
    # more waiting readers than asyncio's default worker threads (at most 32): a read's wait
    # must hold no worker thread, or the commit queues behind the waits
    timer = ManualTimer()
    fake = FakeReplica(timer=timer).script("pull", Step(hang=True))
    readers = 40

    async def main() -> tuple[float, list[float], tuple[int, int]]:
        async with AsyncSyncController(fake, Manual() | ReadWait(D, 1.0), timer=timer,
                                       check_every=1.0) as ctl:
            conns = [ctl.connection() for _ in range(readers)]
            writer = ctl.connection()

            async def read(conn: AsyncSyncedConnection) -> float:
                t0 = time.monotonic()
                assert (await conn.execute("SELECT 1")).fetchall() == [(1,)]
                return time.monotonic() - t0

            reads = [asyncio.create_task(read(c)) for c in conns]
            while not fake.hanging.is_set():  # the first read's pull is stuck
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)  # every reader is waiting now
            t0 = time.monotonic()
            await writer.execute("CREATE TABLE t(x)")
            await writer.execute("INSERT INTO t VALUES (1)")
            await writer.commit()
            took = time.monotonic() - t0
            waited = await asyncio.gather(*reads)
            fake.release()
            for conn in (*conns, writer):
                await conn.close()
            return took, waited, _waits(ctl.controller)

    took, waited, waits = asyncio.run(main())
    assert took < 0.3  # the commit did not wait for the reads' waits
    assert len(waited) == readers and max(waited) < 1.6  # each read: its own wait, not more
    assert waits == (readers, readers)


def test_async_waiting_reads_are_answered_by_the_sync_and_not_held_after_stop() -> None:
    timer = ManualTimer()
    fake = FakeReplica(timer=timer)

    async def main() -> tuple[float, tuple[int, int], float]:
        ctl = AsyncSyncController(fake, Manual() | ReadWait(D, 5.0), timer=timer,
                                  check_every=1.0).start()
        conns = [ctl.connection() for _ in range(10)]
        t0 = time.monotonic()
        await asyncio.gather(*(c.execute("SELECT 1") for c in conns))
        answered = time.monotonic() - t0, _waits(ctl.controller)
        await ctl.stop(2.0)
        timer.advance(D + 1.0)  # stale again, but no sync can come any more
        t0 = time.monotonic()
        await conns[0].execute("SELECT 1")
        after_stop = time.monotonic() - t0
        for c in conns:
            await c.close()
        return *answered, after_stop

    took, waits, after_stop = asyncio.run(main())
    assert took < 2.0 and waits[0] == 10 and waits[1] == 0  # the sync answered, not the 5 s
    assert after_stop < 1.0


def test_history_answers_async_waiters_by_attempt_start_and_releases_them_on_wake() -> None:
    history = SyncHistory()

    async def main() -> tuple[bool, bool, bool, float]:
        early = asyncio.create_task(history.wait_after_async(1.0, 5.0, lambda: True))
        late = asyncio.create_task(history.wait_after_async(2.0, 5.0, lambda: True))
        await asyncio.sleep(0.01)
        # an attempt started at 1.5 answers the read asked at 1.0, not the one at 2.0
        threading.Thread(target=history.record,
                         args=(SyncAttempt(1.5, 1.6, True, None, "x"),)).start()
        first = await early
        await asyncio.sleep(0.05)
        still = not late.done()
        t0 = time.monotonic()
        threading.Thread(target=history.wake).start()  # the sync thread ended
        second = await late
        return first, still, second, time.monotonic() - t0

    first, still, second, took = asyncio.run(main())
    assert first is True and still and second is False and took < 1.0
    assert history._awaiting == []
