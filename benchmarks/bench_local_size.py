"""Local replica size under a steady write load, with and without the controller's checkpoints.

Run: ``.venv/bin/python benchmarks/bench_local_size.py [--seconds S] [--rate R]``
(the server binary from ``$SYNCTUNE_TURSODB`` or ``.tools/turso``).

Two replicas of the same primary, side by side, each with one app thread committing ``--rate``
small rows a second through ``SyncController.connection()`` and a 1 s periodic sync:

* **checkpointing**: the default ``checkpoint_bytes`` (8 MiB);
* **baseline**: checkpoints off (``checkpoint_bytes`` = 1 TiB), the engine's own behaviour.

Prints the local size (database, WAL, revert log, fetched changes) every minute, the
checkpoints done, and the final sizes as a ratio (checkpointing / baseline).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from bench_live import _port, _start, _tursodb

from synctune.live import SyncController
from synctune.live.replica.turso.adapter import DEFAULT_CHECKPOINT_BYTES, TursoReplica
from synctune.policy import Periodic


def _writer(ctl: SyncController, rate: float, end: float, counts: list[int]) -> None:
    conn = ctl.connection()
    k, start = 0, time.monotonic()
    while time.monotonic() < end:
        with conn:
            conn.execute("INSERT INTO w VALUES (?, 'a small row of app data')", (k,))
        k += 1
        lag = start + k / rate - time.monotonic()
        if lag > 0:
            time.sleep(lag)
    counts.append(k)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--rate", type=float, default=200.0, help="commits per second")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        port = _port()
        proc = _start(_tursodb(), tmp / "primary.db", port)
        url = f"http://127.0.0.1:{port}"
        try:
            replicas = {"checkpointing": TursoReplica(tmp / "a.db", url),
                        "baseline": TursoReplica(tmp / "b.db", url, checkpoint_bytes=1 << 40)}
            ctls = {}
            for name, replica in replicas.items():
                ctl = SyncController(replica, Periodic(1.0), check_every=0.5).start()
                setup = ctl.connection()
                with setup:
                    setup.execute("CREATE TABLE IF NOT EXISTS w(k INTEGER, body TEXT)")
                setup.close()
                ctls[name] = ctl
            end = time.monotonic() + args.seconds
            counts: dict[str, list[int]] = {n: [] for n in ctls}
            threads = [threading.Thread(target=_writer, args=(c, args.rate, end, counts[n]))
                       for n, c in ctls.items()]
            for t in threads:
                t.start()
            print(f"{args.rate:g} commits/s for {args.seconds:g} s; checkpoint threshold "
                  f"{DEFAULT_CHECKPOINT_BYTES / 2**20:g} MiB")
            print("   t (s)   checkpointing (MB)   baseline (MB)")
            peak = 0
            while time.monotonic() < end:
                time.sleep(min(60.0, max(0.0, end - time.monotonic())))
                a = replicas["checkpointing"].local_db_size()
                peak = max(peak, a)
                b = replicas["baseline"].local_db_size()
                print(f"{args.seconds - (end - time.monotonic()):8.0f}   {a / 1e6:18.1f}   "
                      f"{b / 1e6:13.1f}", flush=True)
            for t in threads:
                t.join()
            a = replicas["checkpointing"].local_db_size()
            b = replicas["baseline"].local_db_size()
            print(f"commits: {counts['checkpointing'][0]} and {counts['baseline'][0]}; "
                  f"checkpoints: {replicas['checkpointing'].checkpoints} "
                  f"(put off: {replicas['checkpointing'].checkpoints_deferred})")
            print(f"peak checkpointing size {peak / 1e6:.1f} MB; final {a / 1e6:.1f} MB vs "
                  f"baseline {b / 1e6:.1f} MB: ratio {a / b:.3f}")
            for ctl in ctls.values():
                ctl.stop(10)
        finally:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
