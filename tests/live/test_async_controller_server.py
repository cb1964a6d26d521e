"""The asyncio controller against the real tursodb server: a loop that never waits on a sync."""

from __future__ import annotations

import time

import pytest
from live_support import SilentServer, hold_local_rows, primary_rows, tick, wait_for

from synctune.live import SyncController
from synctune.live.replica.turso.adapter import TursoReplica
from synctune.policy import Manual, OnWrite, Periodic

pytestmark = pytest.mark.server

def test_asyncio_form_syncs_without_blocking_the_loop(server, tmp_path):
    import asyncio

    from synctune.live import AsyncSyncController

    replica = TursoReplica(tmp_path / "a.db", server.url)
    app = replica.connect()

    async def main() -> tuple[bool, int, bool]:
        ticks = [0]
        async with AsyncSyncController(replica, Manual()) as ctl:
            task = asyncio.create_task(tick(ticks))
            app.execute("CREATE TABLE t(x)")
            app.commit()
            ctl.notify_write()
            ok = await ctl.sync_now(5)
            task.cancel()
            unpushed = ctl.status().unpushed_writes
        return ok, unpushed, ticks[0] > 0

    ok, unpushed, loop_ran = asyncio.run(main())
    assert ok and unpushed == 0 and loop_ran
    assert primary_rows(server.url, tmp_path, "SELECT count(*) FROM t") == [(0,)]



def test_asyncio_opening_a_connection_while_a_task_holds_a_write_never_blocks_the_loop(
        server, tmp_path):
    # nothing idle in the pool: a new connection needs the write lock, which another task's
    # open transaction holds; that task can commit only while the event loop runs
    import asyncio

    from synctune.live import AsyncSyncController

    replica = TursoReplica(tmp_path / "a.db", server.url, spare_connections=0)

    async def main() -> tuple[float, int, list[tuple[int]]]:
        async with AsyncSyncController(replica, Manual()) as ctl:
            writer = ctl.connection()
            await writer.execute("CREATE TABLE t(x)")
            await writer.execute("INSERT INTO t VALUES (1)")  # holds the write lock

            async def finish() -> None:
                await asyncio.sleep(0.2)
                await writer.commit()

            ticks = [0]
            ticker = asyncio.create_task(tick(ticks))
            committing = asyncio.create_task(finish())
            await asyncio.sleep(0.01)
            t0 = time.monotonic()
            reader = ctl.connection()
            opened = time.monotonic() - t0
            rows = (await reader.execute("SELECT x FROM t")).fetchall()
            await committing
            ticker.cancel()
            await reader.close()
            await writer.close()
            assert await ctl.sync_now(5)
        return opened, ticks[0], rows

    try:
        opened, ticks, rows = asyncio.run(main())
    finally:
        replica.close()
    assert opened < 0.02 and ticks > 20, (opened, ticks)  # the loop never stopped
    assert rows == [(1,)]  # the open waited (in a worker thread) for the commit


@pytest.mark.parametrize("opening", [1, 10])
def test_asyncio_new_connections_waiting_for_a_hung_sync_never_hold_up_other_commits(
        server, tmp_path, opening):
    # nothing idle in the pool: new connections must wait for the hung sync to open. One
    # queued on the writers' lock first, so every task's commit waited on the network; ten
    # filled asyncio's worker threads, so every task's commit waited for a thread
    import asyncio

    from live_support import ReplyDroppingProxy

    from synctune.live import AsyncSyncController

    hang = [False]
    proxy = ReplyDroppingProxy(server.port, lambda body: hang[0])
    replica = TursoReplica(tmp_path / "a.db", proxy.url, spare_connections=0)

    async def main() -> tuple[list[float], float]:
        async with AsyncSyncController(replica, Periodic(0.2), default_timeout=3.0) as ctl:
            base = ctl.connection()
            await base.execute("CREATE TABLE t(x)")
            await base.commit()
            assert await ctl.sync_now(5)
            hang[0] = True
            end = time.monotonic() + 10
            while not (proxy.dropped and ctl.controller._loop.in_flight):  # a sync is hung
                assert time.monotonic() < end
                await asyncio.sleep(0.01)
            late = [ctl.connection() for _ in range(opening)]

            async def open_and_write(i: int) -> None:
                await late[i].execute("INSERT INTO t VALUES (?)", (-1 - i,))
                await late[i].commit()

            t0 = time.monotonic()
            openers = asyncio.gather(*(open_and_write(i) for i in range(opening)))
            await asyncio.sleep(0.1)  # the opens are waiting for the sync
            commits = []
            for k in range(10):
                t = time.monotonic()
                await base.execute("INSERT INTO t VALUES (?)", (k,))
                await base.commit()
                commits.append(time.monotonic() - t)
            await openers
            opened = time.monotonic() - t0
            hang[0] = False
            for conn in (*late, base):
                await conn.close()
            assert await ctl.sync_now(10)
        return commits, opened

    try:
        commits, opened = asyncio.run(main())
    finally:
        replica.close()
        proxy.close()
    assert opened > 0.5  # the new connections did wait for the hung sync
    assert max(commits) < 0.5 * opened, (max(commits), opened)
    rows = primary_rows(server.url, tmp_path, "SELECT x, count(*) FROM t GROUP BY x ORDER BY x")
    assert rows == [(k, 1) for k in range(-opening, 10)]


def test_asyncio_start_never_waits_for_a_sync_an_earlier_controller_abandoned(server, tmp_path):
    # a controller stopped during a hung push leaves it to end at its own deadline, holding
    # the engine; a new controller started on the event loop meanwhile must not wait for it
    import asyncio

    from synctune.live import AsyncSyncController

    db = tmp_path / "a.db"
    held = hold_local_rows(db, server.url, 12)
    server.kill()
    silent = SilentServer(server.port)  # accepts, never answers
    replica = TursoReplica(db, silent.url)
    asked = len(silent.accepted)  # the open's question to the primary, never answered
    try:
        first = SyncController(replica, OnWrite(coalesce=0.0), default_timeout=2.0).start()
        assert wait_for(lambda: len(silent.accepted) > asked, 5)  # the push is on the wire
        assert first.stop(0.1) is False and first.stop_report.abandoned == "push"

        async def main() -> tuple[bool, int]:
            ctl = AsyncSyncController(replica, Manual())
            ctl.start()
            engine_still_busy = replica._engine.lock.locked()  # the push has not ended
            seen = ctl.status().unpushed_writes  # never fewer than the engine holds
            await ctl.stop(0.1)
            return engine_still_busy, seen

        engine_still_busy, seen = asyncio.run(main())
        assert engine_still_busy, "start() waited for the abandoned push"
        assert seen == held
        assert wait_for(lambda: not replica._engine.lock.locked(), 5)
    finally:
        silent.close()
    server.start()
    again = SyncController(replica, Manual()).start()
    try:
        assert again.status().unpushed_writes == held
        assert again.sync_now(10) and again.stop(10), again.stop_report
    finally:
        replica.close()
    rows = primary_rows(server.url, tmp_path, "SELECT k, count(*) FROM t GROUP BY k ORDER BY k")
    assert rows == [(k, 1) for k in range(12)]
