"""What a forked child inherits: a raw connection, a worker's slot, a controller to stop.

Each test forks for real (``os.fork``) against the real tursodb server and reports what the
child saw through a pipe; a child that would block for good is killed, failing the test.
"""

from __future__ import annotations

import json
import os
import select
import signal
import threading
import time
from collections.abc import Callable

import pytest
from live_support import primary_rows

from synctune.live import ForkedProcessError, SyncController, claim_worker_slot
from synctune.live.replica.turso.adapter import TursoReplica
from synctune.policy import Manual, OnWrite

pytestmark = pytest.mark.server


def in_child(work: Callable[[], object], timeout: float = 20.0) -> object:
    """Run ``work`` in a forked child; its JSON result, or ``"blocked"`` after ``timeout``."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            out = json.dumps(work())
        except BaseException as exc:  # report, never run the parent's test code
            out = json.dumps(f"{type(exc).__name__}: {exc}")
        os.write(write_end, out.encode())
        os._exit(0)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], timeout)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            return "blocked"
        with os.fdopen(read_end, closefd=False) as pipe:
            return json.loads(pipe.read())
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)


def test_a_raw_connection_taken_before_fork_refuses_to_commit_in_the_child(server, tmp_path):
    replica = TursoReplica(tmp_path / "a.db", server.url)
    raw = replica.connect()  # the raw pooled connection, no SyncedConnection around it
    raw.execute("CREATE TABLE t(who TEXT)")
    raw.execute("INSERT INTO t VALUES ('parent')")
    raw.commit()
    cursor = raw.cursor()
    method = raw.execute

    def child() -> list[str]:
        seen = []
        for attempt in (lambda: raw.execute("INSERT INTO t VALUES ('child')"),
                        lambda: raw.commit(),
                        lambda: cursor.execute("INSERT INTO t VALUES ('child')"),
                        lambda: method("INSERT INTO t VALUES ('child')"),
                        lambda: raw.in_transaction):
            try:
                attempt()
                seen.append("ran")
            except ForkedProcessError:
                seen.append("refused")
        raw.close()  # lets go of the parent's connection, touching nothing
        return seen

    assert in_child(child) == ["refused"] * 5  # was: the child's commit "ran", then was lost
    raw.execute("INSERT INTO t VALUES ('parent')")  # the parent's connection still works
    raw.commit()
    replica.push(5)
    raw.close()
    replica.close()
    rows = primary_rows(server.url, tmp_path, "SELECT who, count(*) FROM t GROUP BY who")
    assert rows == [("parent", 2)]


def test_a_helper_forked_by_a_worker_does_not_keep_its_slot_after_a_kill9(server, tmp_path):
    root = tmp_path / "app.db"
    read_end, write_end = os.pipe()
    worker = os.fork()
    if worker == 0:  # a worker: claims a slot, forks a helper, commits without pushing
        try:
            slot = claim_worker_slot(root)
            helper = os.fork()
            if helper == 0:
                time.sleep(60)
                os._exit(0)
            replica = TursoReplica(slot.path, server.url)
            conn = replica.connection()
            conn.execute("CREATE TABLE t(k INTEGER)")
            for k in range(5):
                conn.execute("INSERT INTO t VALUES (?)", (k,))
                conn.commit()
            os.write(write_end, json.dumps([slot.index, helper]).encode())
            time.sleep(60)
        finally:
            os._exit(1)
    os.close(write_end)
    ready, _, _ = select.select([read_end], [], [], 30)
    assert ready, "the worker never got ready"
    index, helper = json.loads(os.read(read_end, 1000))
    os.close(read_end)
    os.kill(worker, signal.SIGKILL)
    os.waitpid(worker, 0)
    try:
        os.kill(helper, 0)  # the helper is alive, holding its copy of the worker's files
        replacement = claim_worker_slot(root)  # the helper is still alive
        assert (index, replacement.index) == (0, 0)  # was 1: slot 0 stayed the helper's
        ctl = SyncController(TursoReplica(replacement.path, server.url), Manual()).start()
        assert ctl.stop(10), ctl.stop_report  # pushes what the dead worker committed
        ctl.replica.close()
        replacement.release()
    finally:
        os.kill(helper, signal.SIGKILL)  # a grandchild: init reaps it
    rows = primary_rows(server.url, tmp_path, "SELECT k FROM t ORDER BY k")
    assert rows == [(k,) for k in range(5)]


def test_a_slot_is_claimed_once_per_process_and_a_childs_release_keeps_it(tmp_path):
    root = tmp_path / "app.db"
    first, second = claim_worker_slot(root), claim_worker_slot(root)
    assert (first.index, second.index) == (0, 1)  # one process, two slots: never the same
    assert in_child(lambda: [claim_worker_slot(root).index, second.release()]) == [2, None]
    third = claim_worker_slot(root)
    assert third.index == 2  # slot 1 is still this process's
    second.release()
    assert claim_worker_slot(root).index == 1
    first.release()
    third.release()


@pytest.mark.parametrize("lock_held_at_fork", [False, True])
def test_stop_in_a_forked_child_returns_at_once_and_tells_the_truth(server, tmp_path,
                                                                     lock_held_at_fork):
    replica = TursoReplica(tmp_path / "a.db", server.url)
    ctl = SyncController(replica, OnWrite()).start()
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with ctl._lock:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold, daemon=True)
    if lock_held_at_fork:
        holder.start()
        assert held.wait(5)

    def child() -> list[object]:
        t0 = time.monotonic()
        flushed = ctl.stop(5)
        report = ctl.stop_report
        assert report is not None
        return [flushed, time.monotonic() - t0, report.forked, report.abandoned,
                report.message()]

    try:
        flushed, took, forked, abandoned, message = in_child(child)  # type: ignore[misc]
    finally:
        release.set()
    assert flushed is True and forked is True and abandoned is None
    assert took < 0.5  # was: the whole 5 s deadline, or blocked for good behind the lock
    assert "forked" in message and "abandoned" not in message
    assert ctl.stop(5)  # the parent's controller is untouched
    replica.close()


def test_start_after_stop_says_it_was_stopped(server, tmp_path):
    replica = TursoReplica(tmp_path / "a.db", server.url)
    ctl = SyncController(replica, Manual()).start()
    ctl.stop(5)
    with pytest.raises(RuntimeError, match="was stopped and cannot restart"):
        ctl.start()
    replica.close()
