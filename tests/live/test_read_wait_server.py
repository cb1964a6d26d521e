"""Bounded-staleness reads against the real tursodb server on loopback: a read past D pulls
what another replica committed, a hung primary costs a read only its wait, and readers and
writers under faults still put every commit on the primary exactly once."""

from __future__ import annotations

import random
import threading
import time

import pytest
from live_support import SilentServer, wait_for
from load_support import check_primary, controller, faults, run_writers, with_schema

from synctune.live import SyncController
from synctune.live.replica.turso.adapter import TursoReplica
from synctune.policy import Backoff, Manual, OnWrite, ReadWait

pytestmark = pytest.mark.server

#: thread wake-ups and a loopback round trip on a shared machine (s)
SLACK = 0.5


def _writer(server, tmp_path) -> SyncController:  # type: ignore[no-untyped-def]
    ctl = SyncController(TursoReplica(tmp_path / "writer.db", server.url), Manual(),
                         default_timeout=5.0).start()
    app = ctl.connection()
    with app:
        app.execute("CREATE TABLE IF NOT EXISTS notes(k INTEGER NOT NULL)")
    app.close()
    assert ctl.sync_now(5), ctl.last_error
    return ctl


def test_the_first_read_after_d_sees_a_row_another_replica_committed(server, tmp_path):
    writer = _writer(server, tmp_path)
    d = 1.0
    reader = SyncController(TursoReplica(tmp_path / "reader.db", server.url),
                            Manual() | ReadWait(d, 3.0), default_timeout=5.0).start()
    app = reader.connection()
    assert app.execute("SELECT count(*) FROM notes").fetchall() == [(0,)]
    syncs = len(reader.history)
    assert syncs == 1  # the first read could not be vouched for: it pulled
    w = writer.connection()
    with w:
        w.execute("INSERT INTO notes(k) VALUES (7)")
    w.close()
    assert writer.sync_now(5)
    # within D of its pull the replica vouches for what it has: no pull, the row is not there
    assert app.execute("SELECT count(*) FROM notes").fetchall() == [(0,)]
    assert len(reader.history) == syncs
    time.sleep(d + 0.1)
    t0 = time.monotonic()
    assert app.execute("SELECT k FROM notes").fetchall() == [(7,)]
    assert time.monotonic() - t0 < 3.0
    attempts = list(reader.history)
    assert len(attempts) == 2 and all(a.ok for a in attempts)
    assert {a.reason for a in attempts} == {"a read waits for fresh data"}  # nothing periodic
    assert reader.telemetry.snapshot().read_waits == 2
    app.close()
    assert reader.stop(5) and writer.stop(5)


def test_a_hung_primary_costs_a_read_its_wait_not_more(server, tmp_path):
    d, wait = 0.5, 0.8
    reader = SyncController(TursoReplica(tmp_path / "reader.db", server.url),
                            OnWrite() | ReadWait(d, wait), default_timeout=10.0).start()
    app = reader.connection()
    app.execute("SELECT 1")
    assert len(reader.history) == 1 and reader.history[0].ok
    server.kill()
    silent = SilentServer(server.port)  # accepts and never answers
    try:
        time.sleep(d + 0.1)
        t0 = time.monotonic()
        app.execute("SELECT 1")
        took = time.monotonic() - t0
        assert wait - 0.05 <= took <= wait + SLACK
        snap = reader.telemetry.snapshot()
        assert (snap.read_waits, snap.read_waits_out) == (2, 1)
        # a commit meanwhile returns at once: the read held no lock and the sync hangs on
        # the network, not on the local file
        t0 = time.monotonic()
        with app:
            app.execute("CREATE TABLE IF NOT EXISTS t(x)")
            app.execute("INSERT INTO t VALUES (1)")
        assert time.monotonic() - t0 < SLACK
    finally:
        silent.close()
        server.start()
    app.close()
    assert reader.stop(15), reader.last_error


@pytest.mark.slow
def test_readers_and_writers_through_kill9_and_a_hang_every_commit_once(server, tmp_path):
    strategy = OnWrite(coalesce=0.05, backoff=Backoff(base=0.1, cap=0.5),
                       rng=random.Random(7)) | ReadWait(0.3, 0.2, rng=random.Random(8))
    ctl = with_schema(controller(tmp_path / "app.db", server.url, strategy).start())
    assert ctl.sync_now(5)
    stop = threading.Event()
    read_times: list[float] = []

    def reader() -> None:
        conn = ctl.connection()
        while not stop.is_set():
            t0 = time.monotonic()
            conn.execute("SELECT count(*) FROM w").fetchall()
            read_times.append(time.monotonic() - t0)
            time.sleep(0.02)
        conn.close()

    readers = [threading.Thread(target=reader, daemon=True) for _ in range(3)]
    for t in readers:
        t.start()
    marks = {"start": time.monotonic()}
    logs, writers = run_writers(ctl, [f"t{i}" for i in range(4)], stop)
    faults(server, stop, marks, scale=0.5)
    for t in [*writers, *readers]:
        t.join(10)
    assert ctl.stop(deadline=20), ctl.last_error
    ok = {log.name: log.ok for log in logs}
    failed = {log.name: [k for k, _ in log.failed] for log in logs}
    check_primary(server, tmp_path, ok, failed)
    assert sum(len(v) for v in ok.values()) > 50
    # reads waited whenever the writers' syncs left the replica older than D (while the
    # primary was away a retry or the hung attempt would not come in time: they ran at once)
    assert ctl.telemetry.snapshot().read_waits > 0
    # every read took at most its wait plus a local query (and a loaded machine's wake-up)
    assert max(read_times) <= 0.2 + SLACK
    assert wait_for(lambda: not ctl._loop.alive(), 1.0)


@pytest.mark.slow
def test_asyncio_readers_and_writers_through_kill9_and_a_hang_every_commit_once(
        server, tmp_path):
    # the same faults for an asyncio app: writer tasks commit through async connections,
    # reader tasks' reads wait for fresh pulls; every commit lands once, and the event loop
    # never stalls (it ticks every millisecond or so throughout)
    import asyncio

    from load_support import SCHEMA, WriterLog

    from synctune.live import AsyncSyncController, LocalWriteTimeout

    strategy = OnWrite(coalesce=0.05, backoff=Backoff(base=0.1, cap=0.5),
                       rng=random.Random(7)) | ReadWait(0.3, 0.2, rng=random.Random(8))
    replica = TursoReplica(tmp_path / "app.db", server.url)
    logs = [WriterLog(f"a{i}") for i in range(4)]
    read_times: list[float] = []
    gaps: list[float] = []

    async def main(ctl: AsyncSyncController) -> None:
        stop = asyncio.Event()

        async def writer(log: WriterLog, use_with: bool) -> None:
            k, conn = 0, None
            while not stop.is_set():
                if conn is None or k % 25 == 0:
                    if conn is not None:
                        await conn.close()
                    conn = ctl.connection()
                try:
                    if use_with:
                        async with conn:
                            await conn.execute("INSERT INTO w(writer, k) VALUES (?, ?)",
                                               (log.name, k))
                    else:
                        await conn.execute("INSERT INTO w(writer, k) VALUES (?, ?)",
                                           (log.name, k))
                        await conn.commit()
                except Exception as exc:
                    if not use_with:
                        await conn.rollback()
                    log.failed.append((k, f"{type(exc).__name__}: {exc}"))
                else:
                    log.ok.append(k)
                k += 1
                await asyncio.sleep(0.002)
            if conn is not None:
                await conn.close()

        async def reader() -> None:
            conn = ctl.connection()
            while not stop.is_set():
                t0 = time.monotonic()
                (await conn.execute("SELECT count(*) FROM w")).fetchall()
                read_times.append(time.monotonic() - t0)
                await asyncio.sleep(0.02)
            await conn.close()

        async def ticker() -> None:
            last = time.monotonic()
            while not stop.is_set():
                await asyncio.sleep(0.001)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        setup = ctl.connection()
        async with setup:
            await setup.execute(SCHEMA)
        await setup.close()
        assert await ctl.sync_now(5)
        marks = {"start": time.monotonic()}
        done = threading.Event()
        tasks = [asyncio.create_task(writer(log, i % 2 == 0)) for i, log in enumerate(logs)]
        tasks += [asyncio.create_task(reader()) for _ in range(3)]
        tasks.append(asyncio.create_task(ticker()))
        await asyncio.to_thread(faults, server, done, marks, 0.5)
        stop.set()
        await asyncio.gather(*tasks)
        assert await ctl.stop(deadline=20), ctl.controller.last_error

    ctl = AsyncSyncController(replica, strategy, default_timeout=2.0, check_every=0.1)
    ctl.start()
    try:
        asyncio.run(main(ctl))
    finally:
        replica.close()
    ok = {log.name: log.ok for log in logs}
    failed = {log.name: [k for k, _ in log.failed] for log in logs}
    check_primary(server, tmp_path, ok, failed)
    assert sum(len(v) for v in ok.values()) > 50
    errors = [msg for log in logs for _, msg in log.failed]
    assert all(msg.startswith(LocalWriteTimeout.__name__) for msg in errors), errors[:5]
    assert ctl.controller.telemetry.snapshot().read_waits > 0
    assert max(read_times) <= 0.2 + SLACK
    assert max(gaps) < SLACK, sorted(gaps)[-5:]
    print(f"async commits {sum(len(v) for v in ok.values())}, failed {len(errors)}, reads "
          f"{len(read_times)} (max {max(read_times) * 1e3:.0f} ms), longest loop gap "
          f"{max(gaps) * 1e3:.1f} ms")
