"""Many app threads and worker processes against the real tursodb server, with faults.

The primary is killed (-9) and restarted, then replaced by a listener that accepts and never
answers, then restored, while writers commit as fast as they can. Every row is counted on the
primary afterwards: each commit that returned exactly once, none whose commit raised, no
duplicates; opening a connection never waits for the hung primary.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import threading
import time
from pathlib import Path

import pytest
from live_support import ReplyDroppingProxy, wait_for
from load_support import (
    SCHEMA,
    check_primary,
    controller,
    doomed_process,
    faults,
    run_writers,
    with_schema,
    worker_process,
)

from synctune.live import LocalWriteTimeout

pytestmark = [pytest.mark.server, pytest.mark.slow]

HERE = str(Path(__file__).resolve().parent)


def test_six_threads_through_kill9_and_a_hung_primary_every_commit_once(server, tmp_path):
    ctl = with_schema(controller(tmp_path / "app.db", server.url).start())
    assert ctl.sync_now(5)
    stop = threading.Event()
    marks = {"start": time.monotonic()}
    logs, threads = run_writers(ctl, [f"t{i}" for i in range(6)], stop)
    faults(server, stop, marks)
    for t in threads:
        t.join(10)
    assert ctl.stop(deadline=20), ctl.last_error
    ok = {log.name: log.ok for log in logs}
    failed = {log.name: [k for k, _ in log.failed] for log in logs}
    commits = sum(len(log.ok) for log in logs)
    attempts = commits + sum(len(log.failed) for log in logs)
    seen = check_primary(server, tmp_path, ok, failed)
    assert len(seen) == commits > 1000
    # failures are rare, and each one says plainly that nothing was written
    errors = [msg for log in logs for _, msg in log.failed]
    assert len(errors) < 0.01 * attempts, errors[:5]
    assert all(msg.startswith(LocalWriteTimeout.__name__) for msg in errors), errors[:5]
    # opening a connection never waited for the hung primary (whose syncs time out at 2 s)
    hang = [s for log in logs for when, s in log.opens
            if marks["hang_start"] <= when <= marks["hang_end"]]
    assert len(hang) >= 6
    assert max(hang) < 0.1, sorted(hang)[-5:]
    during = sorted(s for log in logs for when, s in log.commits
                    if marks["hang_start"] <= when <= marks["hang_end"])
    assert during and during[int(0.99 * (len(during) - 1))] < 0.5
    print(f"commits {commits}, failed {len(errors)}, opens during hang {len(hang)} "
          f"(max {max(hang) * 1e3:.2f} ms), commit p99 during hang "
          f"{during[int(0.99 * (len(during) - 1))] * 1e3:.1f} ms")


def test_three_worker_processes_one_killed_every_commit_once(server, tmp_path):
    """Three workers, each with its own replica slot; one is killed -9 mid-run and a
    replacement claims its slot and pushes what it left."""
    out = tmp_path / "out"
    out.mkdir()
    root = str(tmp_path / "app.db")
    go, stop_file = str(tmp_path / "go"), str(tmp_path / "stop")
    ctx = multiprocessing.get_context("spawn")

    def spawn() -> multiprocessing.process.BaseProcess:
        p = ctx.Process(target=worker_process,
                        args=(root, server.url, str(out), go, stop_file, 2, HERE))
        p.start()
        return p

    procs = [spawn() for _ in range(3)]
    deadline = time.monotonic() + 60
    while len(list(out.glob("ready-*"))) < 3:
        assert time.monotonic() < deadline, "workers did not start"
        assert all(p.is_alive() or p.exitcode == 0 for p in procs)
        time.sleep(0.05)
    slots = sorted(int(f.read_text()) for f in out.glob("ready-*"))
    assert slots == [0, 1, 2]
    Path(go).touch()
    stop = threading.Event()
    marks = {"start": time.monotonic()}
    faulting = threading.Thread(target=faults, args=(server, stop, marks), daemon=True)
    faulting.start()
    time.sleep(3)
    victim = procs[0]
    os.kill(victim.pid, 9)  # type: ignore[arg-type]
    victim.join(10)
    procs.append(spawn())  # claims the freed slot and pushes what the victim left
    faulting.join(30)
    Path(stop_file).touch()
    for p in procs[1:]:
        p.join(90)
        assert p.exitcode == 0
    reports = [json.loads(f.read_text()) for f in out.glob("report-*.json")]
    assert len(reports) == 3 and all(r["flushed"] for r in reports), reports
    assert sorted(r["slot"] for r in reports) == [0, 1, 2]
    ok: dict[str, list[int]] = {}
    failed: dict[str, list[int]] = {}
    unsure: dict[str, set[int]] = {}
    for r in reports:
        for log in r["logs"]:
            ok[log["name"]] = log["ok"]
            failed[log["name"]] = [k for k, _ in log["failed"]]
    victim_names = {f.stem for f in out.glob(f"p{victim.pid}-*.journal")}
    assert victim_names
    for name in victim_names:
        keys = [int(x) for x in (out / f"{name}.journal").read_text().split()]
        ok[name] = keys
        # the row in flight when it was killed may or may not have committed
        unsure[name] = {(max(keys) + 1) if keys else 0}
    seen = check_primary(server, tmp_path, ok, failed, unsure)
    assert sum(len(v) for v in ok.values()) > 300
    assert len(seen) >= sum(len(v) for v in ok.values())


def test_checkpoints_keep_the_local_file_bounded_under_steady_writes(server, tmp_path):
    bound = 256 * 1024
    ctl = controller(tmp_path / "app.db", server.url)
    ctl.replica.checkpoint_bytes = bound  # type: ignore[attr-defined]
    ctl.start()
    conn = ctl.connection()
    with conn:
        conn.execute(SCHEMA)
    sizes = []
    for k in range(3000):
        with conn:
            conn.execute("INSERT INTO w(writer, k) VALUES ('s', ?)", (k,))
        if k % 100 == 99:
            sizes.append(ctl.replica.local_db_size())
    conn.close()
    assert ctl.stop(deadline=10), ctl.last_error
    replica = ctl.replica
    assert replica.checkpoints >= 3  # type: ignore[attr-defined]
    # without checkpoints the WAL grows ~9 KB a commit (27 MB here); with them it levels off
    assert max(sizes[10:]) < 8 * bound, sizes
    check_primary(server, tmp_path, {"s": list(range(3000))}, {})


def test_an_app_killed_9_mid_push_again_and_again_then_restarted_every_commit_once(
        server, tmp_path):
    """One replica file; its app process is killed -9 four times while writers commit and
    pushes are in flight (the primary applies each push 80 ms before the app hears of it), a
    new process taking the file each time; a last start pushes what is left."""
    out = tmp_path / "out"
    out.mkdir()
    db = str(tmp_path / "app.db")
    proxy = ReplyDroppingProxy(server.port, lambda body: False, delay=0.08)
    ctx = multiprocessing.get_context("spawn")
    rng = random.Random(7)
    try:
        for round_ in range(4):
            prefix = f"r{round_}"
            p = ctx.Process(target=doomed_process,
                            args=(db, proxy.url, str(out), prefix, HERE))
            p.start()
            ready = out / f"ready-{prefix}"
            assert wait_for(lambda p=p, ready=ready: ready.exists() or not p.is_alive(), 60)
            assert p.is_alive(), p.exitcode
            time.sleep(rng.uniform(0.5, 1.0))
            # kill while a push the primary applied awaits its reply
            assert wait_for(lambda: any(b"BEGIN IMMEDIATE" in b for b in proxy.late), 10,
                            step=0.001)
            os.kill(p.pid, 9)  # type: ignore[arg-type]
            p.join(10)
    finally:
        proxy.close()
    ctl = controller(db, server.url).start()
    assert ctl.stop(deadline=20), ctl.stop_report
    ok: dict[str, list[int]] = {}
    unsure: dict[str, set[int]] = {}
    for journal in out.glob("*.journal"):
        keys = [int(x) for x in journal.read_text().split()]
        ok[journal.stem] = keys
        # the row being committed when the process died may or may not have committed
        unsure[journal.stem] = {(max(keys) + 1) if keys else 0}
    assert len(ok) == 8
    seen = check_primary(server, tmp_path, ok, {}, unsure)
    assert sum(len(v) for v in ok.values()) > 200
    print(f"rows journaled {sum(len(v) for v in ok.values())}, on the primary {len(seen)}")


def test_a_second_process_on_a_replica_file_in_use_is_refused_and_the_first_is_unharmed(
        server, tmp_path):
    import subprocess
    import sys

    db = tmp_path / "app.db"
    ctl = with_schema(controller(db, server.url).start())
    try:
        conn = ctl.connection()
        for k in range(5):
            conn.execute("INSERT INTO w VALUES ('a', ?)", (k,))
            conn.commit()
        code = ("import sys; from synctune.live.replica.turso.adapter import TursoReplica\n"
                "from synctune.live import SyncError\n"
                f"try: TursoReplica({str(db)!r}, {server.url!r})\n"
                "except SyncError as e: print(e); sys.exit(3)\n")
        second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                timeout=60)
        assert second.returncode == 3, second.stderr[-500:]
        assert "locked by another process" in second.stdout and not second.stderr
        for k in range(5, 10):  # the first process goes on as before
            conn.execute("INSERT INTO w VALUES ('a', ?)", (k,))
            conn.commit()
        conn.close()
    finally:
        assert ctl.stop(10), ctl.stop_report
        ctl.replica.close()
    check_primary(server, tmp_path, {"a": list(range(10))}, {})
