"""How a big backlog of local writes is pushed: batched (the default) against one unbatched push.

Run: ``.venv/bin/python benchmarks/bench_backlog.py [--rows N] [--per-commit C]
[--attempt S]`` (the server binary from ``$SYNCTUNE_TURSODB`` or ``.tools/turso``).

Each configuration runs in a fresh process against a fresh real tursodb server on loopback,
with ``--rows`` unpushed rows committed ``--per-commit`` at a time, and prints:

* **drain**: one push with a generous deadline; its time, the longest and median engine step
  (each holds the interpreter lock: every Python thread waits), the longest event-loop lag an
  asyncio loop in the main thread saw meanwhile, and the process's peak memory growth;
* **short deadlines**: pushes of ``--attempt`` seconds each until the backlog is gone (or 20
  attempts): how many it took, and the rows on the primary (each exactly once).

The last lines give the ratios of the batched figures to the unbatched baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_live import _port, _start, _tursodb

from synctune.live.replica.errors import SyncError
from synctune.live.replica.turso._pyturso import PUSH_BATCH_OPERATIONS
from synctune.live.replica.turso.adapter import TursoReplica

MAX_ATTEMPTS = 20


def _backlog(path: Path, url: str, rows: int, per_commit: int, batch: int | None
             ) -> TursoReplica:
    replica = TursoReplica(path, url, push_batch_operations=batch)
    conn = replica.connect()
    conn.execute("CREATE TABLE t(k INTEGER NOT NULL, v TEXT)")
    conn.commit()
    replica.push(10)
    for start in range(0, rows, per_commit):
        conn.executemany("INSERT INTO t VALUES (?, ?)",
                         [(k, f"row {k}") for k in range(start, min(rows, start + per_commit))])
        conn.commit()
    replica.hand_back(conn)
    return replica


def _push_watching_the_loop(replica: TursoReplica, timeout: float) -> tuple[float, float]:
    """Push on a thread while an asyncio loop here measures its lag: (push s, longest lag s)."""
    done = threading.Event()
    took: list[float] = []

    def push() -> None:
        began = time.perf_counter()
        try:
            replica.push(timeout)
        finally:
            took.append(time.perf_counter() - began)
            done.set()

    async def watch() -> float:
        worst = 0.0
        threading.Thread(target=push, daemon=True).start()
        while not done.is_set():
            began = time.perf_counter()
            await asyncio.sleep(0.005)
            worst = max(worst, time.perf_counter() - began - 0.005)
        return worst

    worst = asyncio.run(watch())
    return took[0], worst


def _on_primary(url: str, tmp: Path) -> tuple[int, int]:
    probe = TursoReplica(tmp / "probe.db", url)
    try:
        probe.pull(30)
        row = probe.connect().execute("SELECT count(*), count(DISTINCT k) FROM t").fetchone()
        return int(row[0]), int(row[1])
    finally:
        probe.close()


def _drain(replica: TursoReplica, url: str, tmp: Path, attempt: float) -> dict[str, Any]:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    took, lag = _push_watching_the_loop(replica, 120.0)
    meter = replica.last_push
    assert meter is not None and replica.count_unpushed() == 0
    # the build of each batch is the step that holds the lock longest; the others are the
    # engine taking in its answer, 64 KiB at a time
    builds = sorted(meter.stalls)[-max(1, meter.batches_acked):]
    return dict(drain=took, lag=lag, stall_max=meter.longest_stall,
                stall_p50=statistics.median(builds), batches=meter.batches_acked,
                rss_mb=(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024)


def _short(replica: TursoReplica, url: str, tmp: Path, attempt: float) -> dict[str, Any]:
    attempts = 0
    while replica.count_unpushed() and attempts < MAX_ATTEMPTS:
        attempts += 1
        with contextlib.suppress(SyncError):
            replica.push(attempt)
    return dict(attempts=attempts, left=replica.count_unpushed(),
                on_primary=_on_primary(url, tmp))


def one(rows: int, per_commit: int, attempt: float, batch: int | None) -> dict[str, Any]:
    """Both measurements for one batch size, in this process (a fresh server for each)."""
    binary, out = _tursodb(), {}
    for measure in (_drain, _short):
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp, port = Path(tmpdir), _port()
            server = _start(binary, tmp / "primary.db", port)
            url = f"http://127.0.0.1:{port}"
            try:
                replica = _backlog(tmp / "r.db", url, rows, per_commit, batch)
                out.update(measure(replica, url, tmp, attempt))
                replica.close()
            finally:
                server.kill()
                server.wait(5)
    return out


def _show(name: str, r: dict[str, Any], rows: int, attempt: float) -> None:
    print(f"{name:>10}: drain {r['drain']:6.2f} s in {r['batches']:4d} batches | engine step "
          f"max {r['stall_max'] * 1e3:7.1f} ms, batch build p50 {r['stall_p50'] * 1e3:6.1f} ms"
          f" | loop lag max {r['lag'] * 1e3:7.1f} ms | peak RSS +{r['rss_mb']:5.0f} MB")
    done = "drained" if not r["left"] else f"{r['left']} rows still unpushed"
    print(f"{'':>10}  at {attempt:g} s per attempt: {done} after {r['attempts']} attempts; "
          f"primary holds {r['on_primary'][0]} rows ({r['on_primary'][1]} distinct) of {rows}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--per-commit", type=int, default=1_000)
    parser.add_argument("--attempt", type=float, default=1.0, help="per-attempt deadline (s)")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # the child's batch size
    args = parser.parse_args()
    if args.one is not None:
        batch = None if args.one == "none" else int(args.one)
        print(json.dumps(one(args.rows, args.per_commit, args.attempt, batch)))
        return
    print(f"{args.rows} unpushed rows in commits of {args.per_commit}, real tursodb on loopback")
    results = {}
    for name, batch in (("unbatched", "none"), ("batched", str(PUSH_BATCH_OPERATIONS))):
        child = subprocess.run(
            [sys.executable, __file__, "--rows", str(args.rows), "--per-commit",
             str(args.per_commit), "--attempt", str(args.attempt), "--one", batch],
            capture_output=True, text=True, check=True, timeout=600)
        results[name] = r = json.loads(child.stdout.strip().splitlines()[-1])
        _show(name if batch == "none" else f"{batch}/batch", r, args.rows, args.attempt)
    base, new = results["unbatched"], results["batched"]
    print(f"batched / unbatched: drain time x{new['drain'] / base['drain']:.2f}, longest engine "
          f"step x{new['stall_max'] / base['stall_max']:.3f}, longest loop lag "
          f"x{new['lag'] / base['lag']:.3f}")


if __name__ == "__main__":
    main()
