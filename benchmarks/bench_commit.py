"""App commit latency through the controller while a sync hangs on an unanswering primary.

Run: ``.venv/bin/python benchmarks/bench_commit.py [--commits N] [--threads T]``
(the server binary from ``$SYNCTUNE_TURSODB`` or ``.tools/turso``).

One replica is bootstrapped from the real tursodb server, which is then replaced by a listener
that accepts and never answers: every sync hangs until its 2 s deadline, back to back. On that
replica the app commits single-row inserts two ways, interleaved in batches of 50:

* **raw**: a bare pyturso connection on the same file (the engine's own cost; with several
  threads, each raw commit holds a plain lock, the least any correct app must do, since the
  engine refuses concurrent writers);
* **controller**: ``SyncController.connection()`` (write lock, ``with conn:``, commit report).

Prints p50/p99 of each and the controller/raw ratio (goal p99 ratio <= 1.2), with one app
thread and with ``--threads`` threads (each thread alternates the two kinds the same way).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench_live import SilentPrimary, _port, _start, _tursodb

from synctune.live import SyncController
from synctune.live.replica.turso.adapter import TursoReplica
from synctune.policy import Periodic

BATCH = 50


def _commits(ctl: SyncController, replica: TursoReplica, n: int, tag: str,
             out: dict[str, list[float]], shared: bool = False) -> None:
    wrapped = ctl.connection()
    raw = replica.connect()
    gate = replica.write_gate if shared else contextlib.nullcontext()
    clock = time.perf_counter
    for b in range(n // BATCH):
        kinds = ("raw", "controller") if b % 2 == 0 else ("controller", "raw")
        for kind in kinds:
            for i in range(BATCH):
                t0 = clock()
                if kind == "raw":
                    with gate:  # several raw writers must take turns, or the engine refuses
                        raw.execute("INSERT INTO t VALUES (?, ?)", (tag, i))
                        raw.commit()
                else:
                    with wrapped:
                        wrapped.execute("INSERT INTO t VALUES (?, ?)", (tag, i))
                out[kind].append(clock() - t0)
    wrapped.close()
    replica.hand_back(raw)


def _report(title: str, out: dict[str, list[float]]) -> None:
    def q(xs: list[float], p: float) -> float:
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(p * len(xs)))]

    raw, ctl = out["raw"], out["controller"]
    print(f"{title} ({len(raw)} + {len(ctl)} commits, a sync hanging throughout):")
    print(f"  raw pyturso      p50 {statistics.median(raw) * 1e3:7.3f} ms   "
          f"p99 {q(raw, 0.99) * 1e3:7.3f} ms")
    print(f"  via controller   p50 {statistics.median(ctl) * 1e3:7.3f} ms   "
          f"p99 {q(ctl, 0.99) * 1e3:7.3f} ms")
    print(f"  ratio            p50 {statistics.median(ctl) / statistics.median(raw):7.3f}      "
          f"p99 {q(ctl, 0.99) / q(raw, 0.99):7.3f}   (goal p99 <= 1.2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=2000, help="per thread and run")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        port = _port()
        proc = _start(_tursodb(), tmp / "primary.db", port)
        # no checkpoint during the run: raw commits bypass the write lock a checkpoint takes
        replica = TursoReplica(tmp / "app.db", f"http://127.0.0.1:{port}",
                               checkpoint_bytes=1 << 40)
        setup = replica.connection()
        with setup:
            setup.execute("CREATE TABLE t(who TEXT, i INTEGER)")
        setup.close()
        replica.push(5)
        proc.kill()
        proc.wait()
        silent = SilentPrimary(port)
        ctl = SyncController(replica, Periodic(0.01), default_timeout=2.0).start()
        try:
            time.sleep(0.2)
            assert ctl.status().syncs == 0
            one: dict[str, list[float]] = {"raw": [], "controller": []}
            _commits(ctl, replica, args.commits, "one", one)
            _report("1 app thread", one)
            many: dict[str, list[float]] = {"raw": [], "controller": []}
            threads = [threading.Thread(target=_commits,
                                        args=(ctl, replica, args.commits, f"t{i}", many,
                                              True))
                       for i in range(args.threads)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            _report(f"{args.threads} app threads", many)
            failures = ctl.status().sync_failures
            print(f"syncs that hung and timed out meanwhile: {failures}")
        finally:
            ctl.stop(0.5)
            silent.close()


if __name__ == "__main__":
    main()
