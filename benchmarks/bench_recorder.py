"""What recording live traffic costs the app: hook calls with and without a TraceRecorder.

Run: ``.venv/bin/python benchmarks/bench_recorder.py [--calls N] [--rounds R]``

Two controllers on local files (no network: what is measured is the app-thread cost of the
calls), one with a recorder writing CSV every 50 ms, one without. Their ``notify_write()`` and
``record_query()`` are timed in interleaved batches of 1,000 calls (so drift in the machine's
speed hits both alike); prints the median per call of each, the ratio recorded/plain, and the
recorder's queue figures (rows written, events dropped).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
from pathlib import Path

from synctune.live import SyncController
from synctune.live.control.recorder import TraceRecorder
from synctune.live.replica.local import LocalReplica
from synctune.policy import Manual

BATCH = 1000


def _per_call(fn: object, n: int) -> float:
    call = fn  # a bound method: no attribute lookup inside the loop
    start = time.perf_counter()
    for _ in range(n):
        call()  # type: ignore[operator]
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000, help="calls per kind and set-up")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions of the whole run")
    args = parser.parse_args()
    for r in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            recorder = TraceRecorder(root / "traffic.csv", flush_every=0.05)
            plain = SyncController(LocalReplica(root / "plain.db"), Manual()).start()
            recorded = SyncController(LocalReplica(root / "rec.db"), Manual(),
                                      recorder=recorder).start()
            times: dict[str, list[float]] = {k: [] for k in
                                             ("write plain", "write recorded",
                                              "read plain", "read recorded")}
            read_plain = functools.partial(plain.record_query, 0.0002)
            read_recorded = functools.partial(recorded.record_query, 0.0002)
            for _ in range(args.calls // BATCH):
                times["write plain"].append(_per_call(plain.notify_write, BATCH))
                times["write recorded"].append(_per_call(recorded.notify_write, BATCH))
                times["read plain"].append(_per_call(read_plain, BATCH))
                times["read recorded"].append(_per_call(read_recorded, BATCH))
            plain.stop(5)
            recorded.stop(5)
            med = {k: statistics.median(v) * 1e6 for k, v in times.items()}
            print(f"round {r + 1}: notify_write {med['write plain']:.2f} µs plain, "
                  f"{med['write recorded']:.2f} µs recorded "
                  f"(x{med['write recorded'] / med['write plain']:.2f}); record_query "
                  f"{med['read plain']:.2f} µs plain, {med['read recorded']:.2f} µs recorded "
                  f"(x{med['read recorded'] / med['read plain']:.2f}); "
                  f"{recorder.rows:,} rows written, {recorder.dropped} dropped")


if __name__ == "__main__":
    main()
