"""Live controller overhead on loopback against the real tursodb sync server.

Run: ``.venv/bin/python benchmarks/bench_live.py [--pulls N] [--notifies N]``
(the server binary from ``$SYNCTUNE_TURSODB`` or ``.tools/turso``).

Prints:

* a controller-driven pull (``SyncController.sync_now`` with a manual strategy: wake the sync
  thread, idle-push check, pull with a deadline, metrics and alerts) against a bare pyturso
  ``pull()`` on a second replica, both pulling the same remote commit, interleaved, as the
  ratio of medians (goal <= 1.10);
* the cost one ``notify_write()`` adds to an app commit (median and 99th percentile, goal
  median <= 5 us), next to the cost of the commit itself on a local file.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from synctune.live import SyncController
from synctune.live.replica.local import LocalReplica
from synctune.live.replica.turso.adapter import TursoReplica
from synctune.policy import Manual, OnWrite, Periodic


def _tursodb() -> str:
    env = os.environ.get("SYNCTUNE_TURSODB")
    if env:
        return env
    root = Path(__file__).resolve().parent.parent
    found = glob.glob(str(root / ".tools/turso/node_modules/@tursodatabase/cli-*/tursodb"))
    if not found:
        sys.exit("bench_live: set SYNCTUNE_TURSODB or run `bash scripts/setup.sh --server`")
    return found[0]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(binary: str, db: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([binary, str(db), "--sync-server", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc
        except OSError:
            time.sleep(0.01)
    proc.kill()
    sys.exit("bench_live: tursodb did not start")


class SilentPrimary:
    """A primary that accepts on ``port`` and never answers (every sync hangs)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        for c in self.held:
            c.close()


def bench_pull(tmp: Path, url: str, pulls: int) -> None:
    import turso.sync

    writer = turso.sync.connect(str(tmp / "w.db"), url)
    writer.execute("CREATE TABLE t(k INTEGER, body TEXT)")
    writer.commit()
    writer.push()
    bare = turso.sync.connect(str(tmp / "bare.db"), url)
    replica = TursoReplica(tmp / "ctl.db", url)
    ctl = SyncController(replica, Manual(), check_every=3600).start()
    bare.pull()
    ctl.sync_now(10)
    t_bare, t_ctl = [], []
    for k in range(pulls):
        writer.execute("INSERT INTO t VALUES (?, 'x')", (k,))
        writer.commit()
        writer.push()
        order = ("bare", "ctl") if k % 2 == 0 else ("ctl", "bare")
        for who in order:
            t0 = time.perf_counter()
            if who == "bare":
                applied = bare.pull()
                t_bare.append(time.perf_counter() - t0)
                assert applied
            else:
                ok = ctl.sync_now(10)
                t_ctl.append(time.perf_counter() - t0)
                assert ok
    ctl.stop(5)
    assert ctl.status().syncs == pulls + 1
    mb, mc = statistics.median(t_bare), statistics.median(t_ctl)
    print(f"pull, {pulls} remote commits on loopback (median):")
    print(f"  bare pyturso pull()        {mb * 1e3:8.3f} ms")
    print(f"  controller-driven sync     {mc * 1e3:8.3f} ms")
    print(f"  ratio controller / bare    {mc / mb:8.3f}   (goal <= 1.10)")


def bench_notify(tmp: Path, n: int) -> None:
    ctl = SyncController(LocalReplica(tmp / "local.db"), Periodic(60) | OnWrite(coalesce=1.0),
                         check_every=3600).start()
    clock = time.perf_counter_ns
    empty, notify = [], []
    for _ in range(n):
        t0 = clock()
        t1 = clock()
        ctl.notify_write()
        t2 = clock()
        empty.append(t1 - t0)
        notify.append(t2 - t1)
    ctl.stop(1)
    base = statistics.median(empty)
    cost = sorted(x - base for x in notify)
    conn = sqlite3.connect(tmp / "commit.db")
    conn.execute("CREATE TABLE t(x)")
    commits = []
    for i in range(2000):
        t0 = clock()
        conn.execute("INSERT INTO t VALUES (?)", (i,))
        conn.commit()
        commits.append(clock() - t0)
    median = statistics.median(cost) / 1e3
    p99 = cost[int(0.99 * len(cost))] / 1e3
    print(f"notify_write(), {n} calls (timer overhead {base:.0f} ns removed):")
    print(f"  median {median:6.2f} us   p99 {p99:6.2f} us   (goal median <= 5 us)")
    print(f"  for scale: one local SQLite insert+commit, median "
          f"{statistics.median(commits) / 1e3:.1f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pulls", type=int, default=200)
    parser.add_argument("--notifies", type=int, default=100_000)
    args = parser.parse_args()
    binary = _tursodb()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        port = _port()
        proc = _start(binary, tmp / "primary.db", port)
        try:
            bench_pull(tmp, f"http://127.0.0.1:{port}", args.pulls)
        finally:
            proc.kill()
            proc.wait()
        bench_notify(tmp, args.notifies)


if __name__ == "__main__":
    main()
