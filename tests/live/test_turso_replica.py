"""TursoReplica against the real tursodb sync server: counts, bytes, timeouts, errors."""

from __future__ import annotations

import time

import pytest
from live_support import SilentServer, free_port, primary_rows

from synctune.live.replica.errors import SyncError
from synctune.live.replica.turso.adapter import TursoReplica
from synctune.policy import FailureKind

pytestmark = pytest.mark.server


def test_push_counts_row_changes_and_pull_sees_them(server, tmp_path):
    a = TursoReplica(tmp_path / "a.db", server.url)
    b = TursoReplica(tmp_path / "b.db", server.url)
    app = a.connect()
    app.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
    app.commit()
    a.push(5)
    assert b.pull(5).changes >= 1
    for i in range(7):
        app.execute("INSERT INTO t(v) VALUES (?)", (f"r{i}",))
    app.commit()
    assert a.pending_changes() == 7
    pushed = a.push(5)
    assert pushed.changes == 7
    assert pushed.nbytes > 0
    assert a.pending_changes() == 0
    pulled = b.pull(5)
    assert pulled.changes == 1 and pulled.nbytes > 0
    assert b.pull(5).changes == 0  # nothing new
    rows = b.connect().execute("SELECT v FROM t ORDER BY id").fetchall()
    assert [r[0] for r in rows] == [f"r{i}" for i in range(7)]
    assert b.integrity_check() == "ok"
    assert b.local_db_size() > 0


def test_unreachable_primary_is_a_network_failure(server, tmp_path):
    a = TursoReplica(tmp_path / "a.db", server.url, auth_token="tok-SECRET-123")
    server.kill()
    with pytest.raises(SyncError) as err:
        a.pull(2)
    assert err.value.kind is FailureKind.NETWORK
    assert "SECRET" not in str(err.value) and "SECRET" not in repr(a)


def test_silent_primary_times_out_then_the_same_replica_recovers(server, tmp_path):

    a = TursoReplica(tmp_path / "a.db", server.url)
    app = a.connect()
    app.execute("CREATE TABLE t(x)")
    app.commit()
    server.kill()
    silent = SilentServer(server.port)
    try:
        for op in (a.push, a.pull):
            t0 = time.monotonic()
            with pytest.raises(SyncError) as err:
                op(0.4)
            took = time.monotonic() - t0
            assert err.value.kind is FailureKind.TIMEOUT
            assert 0.35 <= took < 1.5
    finally:
        silent.close()
    server.start()
    assert a.push(5).changes == 1
    assert primary_rows(server.url, tmp_path, "SELECT count(*) FROM t") == [(0,)]


def test_open_against_a_dead_primary_fails_with_a_sync_error(tmp_path):

    with pytest.raises(SyncError) as err:
        TursoReplica(tmp_path / "x.db", f"http://127.0.0.1:{free_port()}", open_timeout=2)
    assert err.value.kind is FailureKind.NETWORK


def test_close_frees_the_file_for_another_process_at_once(server, tmp_path):
    import gc
    import subprocess
    import sys

    db = tmp_path / "a.db"
    gc.disable()  # what frees the file must be close() itself, not a collection that may run
    try:
        replica = TursoReplica(db, server.url)
        conn = replica.connection()
        conn.execute("CREATE TABLE t(x)")
        conn.commit()
        conn.close()
        replica.close()
        del replica, conn
        code = ("import sys, turso.sync; turso.sync.connect(sys.argv[1], sys.argv[2]).close(); "
                "print('opened')")
        out = subprocess.run([sys.executable, "-c", code, str(db), server.url],
                             capture_output=True, text=True, timeout=30)
    finally:
        gc.enable()
    assert out.stdout.strip() == "opened", out.stderr[-300:]


def test_long_poll_is_passed_through_and_a_server_that_ignores_it_is_detected(server, tmp_path):
    plain = TursoReplica(tmp_path / "p.db", server.url)
    plain.pull(5)
    assert plain.long_poll_ignored is None  # not asked for: nothing to judge
    a = TursoReplica(tmp_path / "a.db", server.url, long_poll_timeout_ms=3000)
    began = time.monotonic()
    assert a.pull(10).changes == 0  # nothing new: a server honouring long-poll holds this
    held = time.monotonic() - began
    # the verdict follows what the server did: held (>= 0.3 s) or answered at once
    assert a.long_poll_ignored is (held < 0.3)
    with pytest.raises(ValueError, match="long_poll_timeout_ms"):
        TursoReplica(tmp_path / "b.db", server.url, long_poll_timeout_ms=0)


def test_a_burst_of_opens_that_waited_for_a_hung_pull_once_finds_connections_ready_after(
        server, tmp_path):
    # the engine cannot open a connection while an operation is on the network: past the
    # spare connections, an open waits for the hung pull. The pool then keeps more ready, so
    # the same burst during the next hung pull opens at once
    import threading

    TursoReplica(tmp_path / "a.db", server.url).close()
    server.kill()
    silent = SilentServer(server.port)
    a = TursoReplica(tmp_path / "a.db", silent.url, spare_connections=2)
    held = []
    outcomes: list[str] = []

    def pull() -> None:
        try:
            a.pull(1.0)
            outcomes.append("ok")
        except SyncError as exc:
            outcomes.append(exc.kind.value)

    def burst() -> list[float]:
        pulling = threading.Thread(target=pull)
        seen = len(silent.accepted)
        pulling.start()
        end = time.monotonic() + 5
        while len(silent.accepted) == seen and time.monotonic() < end:  # the pull is on the wire
            time.sleep(0.01)
        took = []
        for _ in range(3):
            t0 = time.monotonic()
            held.append(a.connection())
            took.append(time.monotonic() - t0)
        pulling.join(5)
        return took

    try:
        first = burst()
        assert max(first[:2]) < 0.1 and first[2] >= 0.5  # two spares, then the wait
        second = burst()
        assert max(second) < 0.1, second
        assert outcomes == ["timeout", "timeout"]
    finally:
        for conn in held:
            conn.close()
        a.close()
        silent.close()


def test_a_checkpoint_takes_the_engine_then_the_write_lock_as_an_open_does(server, tmp_path):
    # an app open holds the engine, then waits for the write lock (Engine.open_connection);
    # a checkpoint taking them the other way round held the write lock while it waited for
    # the engine, and the open waited its whole timeout, then failed
    import threading

    a = TursoReplica(tmp_path / "a.db", server.url)
    app = a.connection()
    with app:
        app.execute("CREATE TABLE t(x)")
        app.execute("INSERT INTO t VALUES (1)")
    app.close()
    a.checkpoint_bytes = 0  # any WAL at all is worth a checkpoint
    opening: dict[str, float | bool] = {}
    holds_engine = threading.Event()

    def open_like_the_app() -> None:
        with a._engine.lock:  # the order of Engine.open_connection(wait=True)
            holds_engine.set()
            time.sleep(0.3)
            t0 = time.monotonic()
            opening["got"] = a.write_gate.acquire(timeout=2.0)
            opening["waited"] = time.monotonic() - t0
        if opening["got"]:
            a.write_gate.release()

    opener = threading.Thread(target=open_like_the_app)
    opener.start()
    assert holds_engine.wait(5)
    checkpointer = threading.Thread(target=a.maintain)
    checkpointer.start()
    opener.join(5)
    checkpointer.join(5)
    try:
        assert opening["got"] and opening["waited"] < 0.5, opening
        assert a.checkpoints == 1
    finally:
        a.close()


def test_opening_a_connection_inside_this_threads_own_write_fails_at_once(server, tmp_path):
    # the engine refuses to open a connection while a write transaction is open, and only
    # this thread can end it: the open fails at once instead of waiting 5 s for nothing
    from synctune.live import OwnWriteLockHeld

    a = TursoReplica(tmp_path / "a.db", server.url, spare_connections=0)
    try:
        writer = a.connection()
        writer.execute("CREATE TABLE t(x)")
        writer.commit()
        writer.execute("INSERT INTO t VALUES (1)")
        t0 = time.monotonic()
        with pytest.raises(OwnWriteLockHeld, match="nothing was run"):
            a.connection()
        assert time.monotonic() - t0 < 2.5  # the engine's open alone would wait its 5 s
        assert a._pool.waited_opens == 0  # not counted as a wait for the network
        a._pool.fill()  # topping up (no waiting) on this thread opens nothing, raises nothing
        assert a._pool.idle == 0
        writer.commit()
        reader = a.connection()
        assert reader.execute("SELECT x FROM t").fetchall() == [(1,)]
        reader.close()
        writer.close()
    finally:
        a.close()


def test_asyncio_tasks_sharing_a_worker_thread_wait_for_each_other_not_refuse(server, tmp_path):
    # with two worker threads, a task's open runs on the thread that ran another task's
    # INSERT: that transaction is the other task's, which commits on the second thread
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from synctune.live import AsyncSyncController
    from synctune.policy import Manual

    a = TursoReplica(tmp_path / "a.db", server.url, spare_connections=0)

    async def main() -> list[tuple[int]]:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(2))
        async with AsyncSyncController(a, Manual()) as ctl:
            writer = ctl.connection()
            await writer.execute("CREATE TABLE t(x)")
            await writer.commit()
            await writer.execute("INSERT INTO t VALUES (1)")

            async def finish() -> None:
                await asyncio.sleep(0.2)
                await writer.commit()

            committing = asyncio.create_task(finish())
            reader = ctl.connection()
            rows = (await reader.execute("SELECT x FROM t")).fetchall()
            await committing
            await reader.close()
            await writer.close()
        return rows

    try:
        assert asyncio.run(main()) == [(1,)]
    finally:
        a.close()


def test_a_slow_log_handler_never_holds_app_writes_during_a_checkpoint(server, tmp_path):
    # a checkpoint put off is logged; logged while it held the write lock, a slow handler
    # (a remote syslog, a full pipe) held every app write for as long as it took
    import logging
    import threading

    a = TursoReplica(tmp_path / "a.db", server.url)
    app = a.connection()
    with app:
        app.execute("CREATE TABLE t(x)")
        app.execute("INSERT INTO t VALUES (0)")
    a.checkpoint_bytes = 0  # any WAL at all is worth a checkpoint

    def refuse() -> None:
        raise RuntimeError("checkpoint incomplete")

    a._engine.checkpoint = refuse  # type: ignore[method-assign]
    entered = threading.Event()

    class Slow(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "checkpoint" in record.getMessage():
                entered.set()
                time.sleep(1.5)

    logger = logging.getLogger("synctune.live")
    handler, level = Slow(logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        checkpointer = threading.Thread(target=a.maintain)
        checkpointer.start()
        assert entered.wait(5)
        t0 = time.monotonic()
        with app:
            app.execute("INSERT INTO t VALUES (1)")
        took = time.monotonic() - t0
        checkpointer.join(5)
        assert a.checkpoints_deferred == 1
        assert took < 0.75, took  # the handler takes 1.5 s
        assert app.execute("SELECT count(*) FROM t").fetchall() == [(2,)]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        app.close()
        a.close()
