"""App connection rules, fast: a write waits before it starts, nothing is run twice, sqlite3's
``with conn:``, reads retried, commits reported after they happen, pool and worker slots."""

from __future__ import annotations

import asyncio
import gc
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synctune.live import (
    AsyncSyncController,
    LocalWriteTimeout,
    NoFreeSlot,
    OwnWriteLockHeld,
    SyncedConnection,
    claim_worker_slot,
)
from synctune.live.app.connection_pool import ConnectionPool
from synctune.live.app.statements import statement_kind
from synctune.live.app.worker_slot import slot_files, slot_path
from synctune.live.replica.local import LocalReplica
from synctune.live.replica.turso import _pyturso
from synctune.policy import Manual


def _sqlite(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, timeout=0)
    return conn


def _table(path: Path) -> None:
    with sqlite3.connect(path) as c:
        c.execute("CREATE TABLE IF NOT EXISTS t(k INTEGER)")


def _count(path: Path) -> int:
    with sqlite3.connect(path) as c:
        return int(c.execute("SELECT count(*) FROM t").fetchone()[0])


class _Flaky:
    """A raw connection whose statements apply and then raise, or raise ``locked`` n times."""

    def __init__(self, locked_reads: int = 0) -> None:
        self.calls: list[str] = []
        self.in_transaction = False
        self.locked_reads = locked_reads

    def execute(self, sql: str, params: object = ()) -> object:
        self.calls.append(sql)
        if sql.startswith("SELECT"):
            if self.locked_reads:
                self.locked_reads -= 1
                raise sqlite3.OperationalError("database is locked")
            return sqlite3.connect(":memory:").execute("SELECT 1")
        self.in_transaction = True  # applied ...
        raise sqlite3.OperationalError("database is locked")  # ... and still raised

    def commit(self) -> None:
        self.in_transaction = False

    def rollback(self) -> None:
        self.in_transaction = False

    def close(self) -> None:
        pass


def test_with_conn_commits_or_rolls_back_and_stays_open(tmp_path):
    db = tmp_path / "a.db"
    _table(db)
    commits: list[int] = []
    conn = SyncedConnection(_sqlite(db), gate=threading.Lock(), on_commit=commits.append)
    with conn:
        conn.execute("INSERT INTO t VALUES (1)")
    assert _count(db) == 1 and commits == [1]
    with pytest.raises(ZeroDivisionError), conn:
        conn.execute("INSERT INTO t VALUES (2)")
        raise ZeroDivisionError
    assert _count(db) == 1 and commits == [1]
    assert not conn.closed and not conn.holds_write_lock
    with conn:  # still usable
        conn.execute("INSERT INTO t VALUES (3)")
    assert _count(db) == 2 and commits == [1, 1]
    conn.close()
    assert conn.closed


def test_a_statement_that_raised_after_applying_is_never_run_again():
    raw = _Flaky()
    gate = threading.Lock()
    conn = SyncedConnection(raw, gate=gate, busy_timeout=1.0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        conn.execute("INSERT INTO t VALUES (1)")
    assert raw.calls == ["INSERT INTO t VALUES (1)"]
    # the transaction it opened keeps the write lock until the app decides
    assert conn.holds_write_lock and gate.locked()
    conn.rollback()
    assert not gate.locked()


def test_reads_are_retried_while_locked_because_they_change_nothing():
    raw = _Flaky(locked_reads=3)
    latencies: list[float] = []
    conn = SyncedConnection(raw, gate=threading.Lock(), on_read=latencies.append)
    assert conn.execute("SELECT 1").fetchall() == [(1,)]
    assert raw.calls == ["SELECT 1"] * 4 and len(latencies) == 1


def _two_writers(db: Path, busy_timeout: float) -> tuple[SyncedConnection, SyncedConnection]:
    """Two connections on ``db`` (table t made) sharing one write lock; ``b`` waits
    ``busy_timeout`` s for it."""
    _table(db)
    gate = threading.Lock()
    return (SyncedConnection(_sqlite(db), gate=gate),
            SyncedConnection(_sqlite(db), gate=gate, busy_timeout=busy_timeout))


def test_a_write_waits_for_the_lock_before_it_starts_and_times_out_cleanly(tmp_path):
    db = tmp_path / "a.db"
    a, b = _two_writers(db, 0.1)
    # another thread's transaction holds the lock until it commits
    began = threading.Thread(target=a.execute, args=("INSERT INTO t VALUES (1)",))
    began.start()
    began.join()
    t0 = time.monotonic()
    with pytest.raises(LocalWriteTimeout, match="nothing was run") as err:
        b.execute("INSERT INTO t VALUES (2)")
    assert 0.1 <= time.monotonic() - t0 < 1.0
    assert not isinstance(err.value, OwnWriteLockHeld)
    a.commit()
    assert _count(db) == 1  # b's statement never ran
    with b:
        b.execute("INSERT INTO t VALUES (2)")
    assert _count(db) == 2


def test_a_thread_needing_the_lock_its_own_transaction_holds_fails_at_once(tmp_path):
    # waiting would end only when this thread commits, which it cannot do while it waits
    db = tmp_path / "a.db"
    a, b = _two_writers(db, 60.0)
    a.execute("INSERT INTO t VALUES (1)")
    t0 = time.monotonic()
    with pytest.raises(OwnWriteLockHeld, match="nothing was run"):
        b.execute("INSERT INTO t VALUES (2)")
    assert time.monotonic() - t0 < 30.0  # not the 60 s wait
    assert b.execute("SELECT count(*) FROM t").fetchall() == [(0,)]  # reads still run
    assert a.holds_write_lock and not b.holds_write_lock
    a.commit()
    with b:
        b.execute("INSERT INTO t VALUES (2)")
    # a transaction shared out to other threads is still its own: another thread waits
    a.execute("INSERT INTO t VALUES (3)")
    waited: list[str] = []

    def other() -> None:
        with b:
            b.execute("INSERT INTO t VALUES (4)")
        waited.append("done")

    helper = threading.Thread(target=other)
    helper.start()
    time.sleep(0.05)
    assert not waited  # waiting for a's commit, not refused
    a.commit()
    helper.join(10)
    assert waited == ["done"]
    with sqlite3.connect(db) as c:
        assert [r[0] for r in c.execute("SELECT k FROM t ORDER BY k")] == [1, 2, 3, 4]


def test_commits_are_reported_only_when_they_wrote_and_succeeded(tmp_path):
    db = tmp_path / "a.db"
    _table(db)
    commits: list[int] = []
    conn = SyncedConnection(_sqlite(db), gate=threading.Lock(), on_commit=commits.append)
    conn.execute("SELECT count(*) FROM t")
    conn.commit()
    assert commits == []
    conn.execute("INSERT INTO t VALUES (1)")
    conn.execute("INSERT INTO t VALUES (2)")
    conn.commit()
    assert commits == [1]
    conn.execute("CREATE TABLE u(x)")  # autocommits: reported at once
    assert commits == [1, 1] and not conn.holds_write_lock


def test_a_commit_that_succeeded_never_raises_for_its_report(tmp_path, caplog):
    # the report after a commit failed (here: the app's clock raised): the row is stored, so
    # raising would make the app retry it and store it twice
    from synctune.live import SyncController

    db = tmp_path / "a.db"
    _table(db)
    broken = [False]

    def clock() -> float:
        if broken[0]:
            raise ValueError("clock unavailable")
        return 100.0

    ctl = SyncController(LocalReplica(db), Manual(), clock=clock)
    conn = ctl.connection()
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    broken[0] = True
    conn.execute("INSERT INTO t VALUES (2)")
    conn.commit()
    with conn:
        conn.execute("INSERT INTO t VALUES (3)")
    conn.execute("CREATE TABLE u(x)")  # autocommitted
    assert _count(db) == 3 and not conn.holds_write_lock
    assert caplog.text.count("committed, but reporting the commit failed (ValueError") == 3
    conn.close()


def test_a_read_that_ran_never_raises_for_its_report(tmp_path, caplog):
    # the read's latency report failed: raising would fail a read that ran, and inside
    # ``with conn:`` roll back the app's writes with it
    db = tmp_path / "a.db"
    _table(db)

    def report(seconds: float) -> None:
        raise ValueError("report failed")

    conn = SyncedConnection(_sqlite(db), gate=threading.Lock(), on_read=report)
    with conn:
        conn.execute("INSERT INTO t VALUES (1)")
        assert conn.execute("SELECT count(*) FROM t").fetchall() == [(1,)]
        conn.execute("INSERT INTO t VALUES (2)")
    assert _count(db) == 2 and not conn.holds_write_lock
    assert caplog.text.count("read, but reporting it failed (ValueError") == 1
    conn.close()


def test_many_threads_one_lock_every_row_once(tmp_path):
    db = tmp_path / "a.db"
    _table(db)
    gate = threading.Lock()
    commits: list[int] = []
    errors: list[BaseException] = []

    def work(i: int) -> None:
        conn = SyncedConnection(_sqlite(db), gate=gate, on_commit=commits.append)
        try:
            for k in range(100):
                if k % 2:
                    with conn:
                        conn.execute("INSERT INTO t VALUES (?)", (i * 1000 + k,))
                else:
                    conn.execute("INSERT INTO t VALUES (?)", (i * 1000 + k,))
                    conn.commit()
        except BaseException as exc:
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _count(db) == 800 and len(commits) == 800
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT count(DISTINCT k) FROM t").fetchone()[0] == 800


def test_a_dropped_connection_rolls_back_and_frees_the_lock(tmp_path):
    db = tmp_path / "a.db"
    _table(db)
    gate = threading.Lock()
    back: list[object] = []
    conn = SyncedConnection(_sqlite(db), gate=gate, release=back.append)
    conn.execute("INSERT INTO t VALUES (1)")
    assert gate.locked()
    del conn
    gc.collect()
    assert not gate.locked() and len(back) == 1
    assert _count(db) == 0


def test_closed_connection_says_so():
    conn = SyncedConnection(sqlite3.connect(":memory:"))
    conn.close()
    conn.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        conn.execute("SELECT 1")
    with pytest.raises(ValueError, match="busy_timeout"):
        SyncedConnection(sqlite3.connect(":memory:"), busy_timeout=-1)


def test_cursor_follows_the_connection_rules(tmp_path):
    db = tmp_path / "a.db"
    _table(db)
    gate = threading.Lock()
    conn = SyncedConnection(_sqlite(db), gate=gate)
    cur = conn.cursor()
    cur.execute("INSERT INTO t VALUES (?)", (5,))
    assert gate.locked()
    conn.commit()
    assert not gate.locked()
    assert cur.execute("SELECT k FROM t").fetchall() == [(5,)]
    cur.executemany("INSERT INTO t VALUES (?)", [(6,), (7,)])
    conn.commit()
    assert [r[0] for r in cur.execute("SELECT k FROM t ORDER BY k")] == [5, 6, 7]


_PREFIX = st.lists(st.sampled_from([" ", "\n", "\t", "-- note\n", "/* c */", "/*\nx\n*/"]),
                   max_size=4).map("".join)


@given(_PREFIX, st.sampled_from(["SELECT 1", "select * from t", "VALUES (1)",
                                 "EXPLAIN SELECT 1", "WITH a AS (SELECT 1) SELECT * FROM a"]))
def test_only_statements_that_change_nothing_are_reads(prefix, sql):
    assert statement_kind(prefix + sql) == "read"


@given(_PREFIX, st.sampled_from(["INSERT INTO t VALUES (1)", "update t set k=1",
                                 "DELETE FROM t", "CREATE TABLE x(a)", "BEGIN",
                                 "PRAGMA user_version = 3", "SAVEPOINT s", "ROLLBACK TO s",
                                 "WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a",
                                 "REPLACE INTO t VALUES (1)", ""]))
def test_everything_else_takes_the_write_lock(prefix, sql):
    assert statement_kind(prefix + sql) == "write"


def test_commit_and_rollback_statements_are_recognised():
    assert statement_kind("COMMIT") == statement_kind(" end transaction") == "commit"
    assert statement_kind("ROLLBACK") == "rollback"


def test_pool_hands_out_idle_connections_and_opens_only_when_free():
    opened: list[int] = []
    busy = {"on": False}

    def opener(wait: bool) -> object | None:
        if busy["on"] and not wait:
            return None
        opened.append(1)
        return sqlite3.connect(":memory:")

    pool = ConnectionPool(opener, spare=2, max_idle=3)
    pool.fill()
    assert pool.idle == 2 and len(opened) == 2
    busy["on"] = True
    a, b = pool.lease(), pool.lease()
    assert pool.waited_opens == 0
    c = pool.lease()  # nothing idle and the engine busy: waits (counted)
    assert pool.waited_opens == 1 and len(opened) == 3
    assert pool.spare == 3  # doubled after the wait, capped at max_idle
    for conn in (a, b, c):
        pool.give_back(conn)
    pool.fill()  # engine busy: fill opens nothing
    assert pool.idle == 3 and len(opened) == 3
    pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        pool.lease()
    with pytest.raises(ValueError, match="spare"):
        ConnectionPool(opener, spare=5, max_idle=2)


def test_worker_slots_are_claimed_in_order_and_freed_on_exit(tmp_path):
    root = tmp_path / "app.db"
    a = claim_worker_slot(root)
    b = claim_worker_slot(root)
    assert (a.index, b.index) == (0, 1)
    assert a.path == slot_path(root, 0) == str(tmp_path / "app.slot-0.db")
    a.release()
    with claim_worker_slot(root) as again:
        assert again.index == 0
        with pytest.raises(NoFreeSlot, match="max_slots"):
            claim_worker_slot(root, max_slots=2)
    with pytest.raises(ValueError, match="max_slots"):
        claim_worker_slot(root, max_slots=0)
    b.release()
    # a process holding slot 0 that dies frees it
    code = ("import sys, time; from synctune.live import claim_worker_slot; "
            f"s = claim_worker_slot({str(root)!r}); print(s.index, flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "0"
        assert claim_worker_slot(root).index == 1
    finally:
        proc.kill()
        proc.wait()
    assert claim_worker_slot(root).index == 0
    Path(slot_path(root, 0)).touch()
    assert slot_files(root) == [slot_path(root, 0)]


def test_async_connections_commit_without_blocking_the_loop(tmp_path):
    db = tmp_path / "a.db"
    _table(db)

    async def main() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        async with AsyncSyncController(LocalReplica(db), Manual()) as actl:
            task = asyncio.create_task(ticker())

            async def one(k: int) -> None:
                conn = actl.connection()
                async with conn:
                    await conn.execute("INSERT INTO t VALUES (?)", (k,))
                    rows = await conn.execute("SELECT count(*) FROM t WHERE k = ?", (k,))
                    assert rows.fetchall() == [(1,)]
                await conn.close()

            # more writers than worker threads: they queue without holding threads
            await asyncio.gather(*(one(k) for k in range(60)))
            task.cancel()
            unpushed = actl.status().unpushed_writes
        assert unpushed == 60
        return ticks

    assert asyncio.run(main()) > 0
    assert _count(db) == 60


def test_engine_shape_check_names_what_is_missing(monkeypatch):
    import turso.lib_sync as lib_sync

    _pyturso.check()  # the installed pyturso has what we drive
    monkeypatch.setattr(_pyturso, "_checked", False)
    monkeypatch.delattr(lib_sync, "_run_op")
    with pytest.raises(_pyturso.EngineShapeError, match=r"_run_op.*pyturso==0\.8\.3"):
        _pyturso.check()


def test_local_replica_connections_take_turns_across_threads(tmp_path):
    replica = LocalReplica(tmp_path / "dev.db")
    with replica.connection() as setup:
        setup.execute("CREATE TABLE t(k INTEGER)")
    errors: list[BaseException] = []

    def work(i: int) -> None:
        conn = replica.connection()
        try:
            for k in range(50):
                with conn:  # SQLite alone would answer "database is locked" here at times
                    conn.execute("INSERT INTO t VALUES (?)", (i * 100 + k,))
        except BaseException as exc:
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and _count(tmp_path / "dev.db") == 300


def test_a_connection_collected_while_its_pool_is_locked_is_handed_back_without_deadlock():
    # a dropped connection in a reference cycle is reclaimed by the garbage collector, which
    # can run at any allocation: also inside the pool's own lock (pool.close() allocates
    # there). Run that finaliser with the lock held by this very thread, as the collector would.
    pool = ConnectionPool(lambda wait: sqlite3.connect(":memory:", check_same_thread=False),
                          spare=0)
    conn = SyncedConnection(pool.lease(), release=pool.give_back)
    finished = threading.Event()

    def collected_inside_the_lock() -> None:
        with pool._lock:
            conn._finalizer()
        finished.set()

    worker = threading.Thread(target=collected_inside_the_lock, daemon=True)
    worker.start()
    worker.join(10.0)
    if not finished.is_set():  # deadlocked: free the thread before failing
        pool._lock.release()
    assert finished.is_set(), "the finaliser waited for the lock its own thread held"
    assert conn.closed and pool.idle == 1
    pool.close()
    assert pool.idle == 0


def test_a_forked_child_releasing_its_copy_of_a_slot_leaves_the_parents_claim(tmp_path):
    # flock belongs to the open file the child shares with its parent: unlocking it in the
    # child would free the parent's slot for another worker, two processes on one replica file
    root = tmp_path / "app.db"
    slot = claim_worker_slot(root)
    pid = os.fork()
    if pid == 0:  # the child lets go of what it inherited (as a with-block's exit would)
        try:
            slot.release()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    other = claim_worker_slot(root)
    assert (slot.index, other.index) == (0, 1)  # slot 0 is still the parent's
    other.release()
    slot.release()
    assert claim_worker_slot(root).index == 0


def test_a_read_never_waits_for_a_pull_its_own_threads_write_holds_up(tmp_path):
    # a pull's local apply waits for the write lock: a read by the thread holding it (through
    # another connection) waiting for that pull would only spend its whole max_read_wait
    db = tmp_path / "a.db"
    asked: list[int] = []
    a, _ = _two_writers(db, 1.0)
    b = SyncedConnection(_sqlite(db), gate=a._lease.gate, before_read=lambda: asked.append(1))
    assert b.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
    assert asked == [1]  # free: the read may wait for a fresh pull
    a.execute("INSERT INTO t VALUES (1)")
    assert b.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
    assert asked == [1]  # this thread holds the lock: no wait
    other: list[object] = []
    reader = threading.Thread(target=lambda: other.append(b.execute("SELECT 1").fetchall()))
    reader.start()
    reader.join(10)
    assert other == [[(1,)]] and asked == [1, 1]  # another thread's read may still wait
    a.commit()


def test_a_new_thread_is_never_taken_for_an_ended_one_that_left_a_write_open(tmp_path):
    # thread ids are reused at once: a thread that ended with a transaction open must not make
    # the next thread (same id) count as its owner; that one waits its busy_timeout as others do
    db = tmp_path / "a.db"
    a, b = _two_writers(db, 0.1)
    first = threading.Thread(target=a.execute, args=("INSERT INTO t VALUES (1)",))
    first.start()
    first.join()
    raised: list[BaseException] = []

    def write() -> None:
        try:
            b.execute("INSERT INTO t VALUES (2)")
        except LocalWriteTimeout as exc:
            raised.append(exc)

    second = threading.Thread(target=write)
    second.start()
    second.join(10)
    assert len(raised) == 1 and type(raised[0]) is LocalWriteTimeout
    a.rollback()
    assert _count(db) == 0
