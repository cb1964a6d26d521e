"""A big backlog of local writes against the real tursodb server: it always drains, every row
once, without freezing the app's threads, and a stop keeps its deadline.

The backlog is 40,000 rows in commits of 1,000 (the unbatched push of it holds every Python
thread for about a second here, and needs more than the short per-attempt deadlines used
below). Rows go to a table without a primary key, so a doubled row would show.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from live_support import ReplyDroppingProxy, _LoopbackHttp, primary_rows, wait_for

from synctune.live import SyncController
from synctune.live.replica.errors import SyncError
from synctune.live.replica.turso import _pyturso_backlog
from synctune.live.replica.turso.adapter import TursoReplica
from synctune.policy import Manual, Periodic

pytestmark = pytest.mark.server

ROWS = 40_000
PER_COMMIT = 1_000
#: the loop-lag bound: no Python thread may be held longer than this during a push (s)
LAG_BOUND = 0.25


def backlog(path: Path, url: str, rows: int = ROWS) -> TursoReplica:
    """A replica of ``url`` holding ``rows`` unpushed rows (the table pushed, the rows not)."""
    replica = TursoReplica(path, url)
    conn = replica.connect()
    conn.execute("CREATE TABLE t(k INTEGER NOT NULL, v TEXT)")
    conn.commit()
    replica.push(5)
    for start in range(0, rows, PER_COMMIT):
        conn.executemany("INSERT INTO t VALUES (?, ?)",
                         [(k, f"row {k}") for k in range(start, min(rows, start + PER_COMMIT))])
        conn.commit()
    replica.hand_back(conn)
    assert replica.count_unpushed() == rows
    return replica


def on_primary(url: str, tmp: Path, name: str = "probe.db") -> tuple[int, int]:
    """(rows, distinct keys) of ``t`` on the primary."""
    [(count, distinct)] = primary_rows(url, tmp, "SELECT count(*), count(DISTINCT k) FROM t",
                                       name)
    return count, distinct


def drain(replica: TursoReplica, timeout: float, budget: float = 45.0) -> tuple[int, list[str]]:
    """Push with ``timeout`` per attempt until nothing is left or ``budget`` s pass."""
    failures: list[str] = []
    end = time.monotonic() + budget
    attempts = 0
    while replica.count_unpushed() and time.monotonic() < end:
        attempts += 1
        try:
            replica.push(timeout)
        except SyncError as exc:
            failures.append(str(exc))
    return attempts, failures


@pytest.mark.slow
def test_a_big_backlog_drains_at_a_short_per_attempt_deadline_every_row_once(server, tmp_path):
    replica = backlog(tmp_path / "r.db", server.url)
    attempts, failures = drain(replica, 0.5)
    assert replica.count_unpushed() == 0, failures[-3:]
    assert on_primary(server.url, tmp_path) == (ROWS, ROWS)
    # the attempts cut off by the deadline kept their progress, and said so
    assert all("timed out" in f or "timeout" in f for f in failures), failures[:3]
    assert all("reached the primary" in f for f in failures if "batches" in f)
    print(f"{ROWS} rows in {attempts} attempts of 0.5 s")
    replica.close()


def test_a_batch_the_primary_applied_but_whose_answer_was_lost_is_not_sent_again(
        server, tmp_path):
    replica = backlog(tmp_path / "r.db", server.url, 10_000)
    replica.close()
    del replica
    gc.collect()  # pyturso releases the file lock when the engine is collected
    proxy = ReplyDroppingProxy(server.port, _third_batch())
    try:
        replica = TursoReplica(tmp_path / "r.db", proxy.url)
        with pytest.raises(SyncError, match=r"2 batches .* reached the primary"):
            replica.push(1.0)  # the third batch is applied upstream, its answer never comes
        assert proxy.dropped == 1
        _, failures = drain(replica, 2.0)
        assert replica.count_unpushed() == 0, failures
    finally:
        proxy.close()
    assert on_primary(server.url, tmp_path) == (10_000, 10_000)
    replica.close()


@pytest.mark.slow
def test_the_event_loop_keeps_running_while_a_big_backlog_drains(server, tmp_path):
    replica = backlog(tmp_path / "r.db", server.url)

    async def main() -> tuple[float, bool]:
        lags: list[float] = []
        ctl = SyncController(replica, Periodic(0.05), default_timeout=0.5, check_every=0.1)
        ctl.start()
        try:
            end = time.monotonic() + 45
            while time.monotonic() < end:
                began = time.monotonic()
                await asyncio.sleep(0.01)
                lags.append(time.monotonic() - began - 0.01)
                if ctl.status().unpushed_writes == 0 and replica.pending_changes() == 0:
                    break
        finally:
            flushed = ctl.stop(5)
        return max(lags), flushed

    worst, flushed = asyncio.run(main())
    assert flushed, (replica.count_unpushed(), replica.last_push)
    assert worst < LAG_BOUND, worst
    assert replica.last_push is not None and replica.last_push.longest_stall < LAG_BOUND
    assert on_primary(server.url, tmp_path) == (ROWS, ROWS)
    print(f"longest event-loop lag {worst * 1e3:.1f} ms")
    replica.close()


@pytest.mark.slow
def test_stop_during_a_big_push_keeps_its_deadline_and_tells_the_truth(server, tmp_path):
    rows = 60_000
    replica = backlog(tmp_path / "r.db", server.url, rows)
    ctl = SyncController(replica, Manual(), default_timeout=30.0, check_every=0.1).start()
    ctl.sync_now(0)  # request one sync and return: its push takes seconds
    assert wait_for(lambda: ctl._loop.in_flight == "push", 10)
    time.sleep(0.3)  # into the push, with batches on the primary
    began = time.monotonic()
    ctl.stop(1.0)
    took = time.monotonic() - began
    report = ctl.stop_report
    assert report is not None
    assert took < 1.0 + 0.3, took  # no push step held this thread past the deadline
    assert abs(report.seconds - took) < 0.1, (report.seconds, took)  # the time it says
    assert not report.flushed
    # the push was cut off at the deadline: it sent nothing more after it
    assert wait_for(lambda: replica._pushing is None, 2)
    time.sleep(0.2)
    on = on_primary(server.url, tmp_path)[0]
    assert 0 < on < rows and on == on_primary(server.url, tmp_path, "probe2.db")[0]
    # what it calls unconfirmed covers what is missing; what it says reached the primary did
    assert report.unpushed >= rows - on
    assert report.batches_on_primary * PER_COMMIT <= on
    assert (f"the primary already holds {report.batches_on_primary} push batches"
            in report.message()) == bool(report.batches_on_primary)
    assert report.batches_on_primary >= 1, report.message()
    drain(replica, 5.0)  # the next push sends the rest, once
    assert on_primary(server.url, tmp_path, "probe3.db") == (rows, rows)
    print(report.message())
    replica.close()


class ThrottledProxy(_LoopbackHttp):
    """A loopback proxy to a real server whose link carries ``rate`` bytes per second each
    way (a slow network), one request per connection."""

    def __init__(self, upstream_port: int, rate: float) -> None:
        self.upstream_port, self.rate = upstream_port, rate
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := src.recv(16384):
                time.sleep(len(chunk) / self.rate)
                dst.sendall(chunk)
            dst.shutdown(socket.SHUT_WR)

    def _relay(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), \
                socket.create_connection(("127.0.0.1", self.upstream_port), 5) as up:
            back = threading.Thread(target=self._pipe, args=(up, conn), daemon=True)
            back.start()
            self._pipe(conn, up)
            back.join(30)
        conn.close()


@pytest.mark.slow
def test_a_slow_link_still_drains_a_backlog_bigger_than_one_attempt_can_carry(
        server, tmp_path):
    rows = 20_000
    replica = backlog(tmp_path / "r.db", server.url, rows)
    replica.close()
    del replica
    gc.collect()
    proxy = ThrottledProxy(server.port, rate=1_000_000)  # the backlog is ~1 MB on the wire
    try:
        replica = TursoReplica(tmp_path / "r.db", proxy.url)
        attempts, failures = drain(replica, 1.0)
        assert replica.count_unpushed() == 0, failures[-3:]
    finally:
        proxy.close()
    assert on_primary(server.url, tmp_path) == (rows, rows)
    print(f"{rows} rows over a 1 MB/s link in {attempts} attempts of 1 s")
    replica.close()


def _third_batch() -> Callable[[bytes], bool]:
    """A proxy's choice: drop the answer to the third push batch only."""
    seen: list[bytes] = []

    def pick(body: bytes) -> bool:
        if b"BEGIN IMMEDIATE" in body[:256]:
            seen.append(body)
            return len(seen) == 3
        return False

    return pick


def _engine_count(replica: TursoReplica) -> int:
    with replica._engine.lock:
        return int(replica._engine.stats().cdc_operations)


def test_the_quick_backlog_count_is_the_engines_own_through_every_kind_of_change(
        server, tmp_path, monkeypatch):
    monkeypatch.setattr(_pyturso_backlog, "QUICK_FROM", 0)  # counted here even when small
    replica = TursoReplica(tmp_path / "r.db", server.url, push_batch_operations=3)
    conn = replica.connect()

    def same() -> int:
        quick = replica.count_unpushed()
        assert quick == _engine_count(replica) == replica.pending_changes()
        return quick

    conn.execute("CREATE TABLE u(k INTEGER PRIMARY KEY, v TEXT)")
    conn.commit()
    assert same() > 0
    for k in range(20):
        conn.executemany("INSERT INTO u VALUES (?, ?)", [(2 * k, "a"), (2 * k + 1, "b")])
        conn.commit()
    conn.execute("UPDATE u SET v = 'c' WHERE k < 10")
    conn.execute("DELETE FROM u WHERE k >= 30")
    conn.commit()
    conn.execute("CREATE INDEX tv ON u(v)")
    conn.commit()
    conn.execute("INSERT INTO u VALUES (100, 'x')")
    conn.rollback()  # a rolled-back change is no change
    assert same() == 1 + 40 + 10 + 10 + 1
    replica.push(5)
    assert same() == 0
    replica.pull(5)  # the engine's own table changed: it leaves that out, the quick count not
    assert replica.count_unpushed() >= _engine_count(replica) == 0
    replica.hand_back(conn)
    replica.close()
    del replica, conn
    gc.collect()
    # a push cut short: the engine confirms nothing, and neither count moves
    held = backlog(tmp_path / "s.db", server.url, 5_000)
    held.close()
    del held
    gc.collect()
    proxy = ReplyDroppingProxy(server.port, _third_batch())
    try:
        replica = TursoReplica(tmp_path / "s.db", proxy.url)
        with pytest.raises(SyncError):
            replica.push(1.0)
        assert replica.count_unpushed() == _engine_count(replica) == 5_000
        assert replica.last_pull_unix_time() is not None
    finally:
        proxy.close()
    replica.close()


def test_run_signalled_during_a_big_push_exits_by_its_stop_deadline(server, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    rows = 60_000
    held = backlog(tmp_path / "r.db", server.url, rows)
    held.close()
    del held
    gc.collect()
    proc = subprocess.Popen(
        [sys.executable, "-m", "synctune", "run", "--db", str(tmp_path / "r.db"), "--url",
         server.url, "--freshness", "30", "--strategy", "periodic:1", "--stop-deadline", "1",
         "--log-level", "info"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # bounded by the server: the first sync starts within ~1 s
            if "sync started" in line:
                break
        time.sleep(0.3)  # into the push
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        took = time.monotonic() - began
    finally:
        proc.kill()
    assert took < 1.0 + 0.5, took  # was 2.1-4.8 s: the unbatched push held every thread
    assert proc.returncode == 1, out
    assert "local row changes not confirmed pushed" in out
    on = on_primary(server.url, tmp_path)[0]
    assert 0 < on < rows
