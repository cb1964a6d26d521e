"""How fast the live controller stops when the primary hangs, against the real tursodb server.

Run: ``.venv/bin/python benchmarks/bench_shutdown.py [--runs N]``
(the server binary from ``$SYNCTUNE_TURSODB`` or ``.tools/turso``).

Prints, for ``synctune run`` as a subprocess holding 20 unpushed rows:

* the baseline: SIGTERM to exit with a healthy primary (nothing to wait for);
* SIGTERM to exit while its push waits on a primary that accepts and never answers, for each
  ``--stop-deadline``, with the exit code and the margin over the deadline (goal: deadline +
  0.5 s at most);
* ``SyncController.stop(deadline)`` in-process with the same hung push: the time it returns.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


from bench_live import SilentPrimary, _port, _start, _tursodb

from synctune.live import SyncController
from synctune.live.replica.turso.adapter import TursoReplica
from synctune.policy import OnWrite

ROWS = 20


def _hold_rows(db: Path, url: str) -> None:
    replica = TursoReplica(db, url)
    conn = replica.connect()
    conn.execute("CREATE TABLE IF NOT EXISTS t(k INTEGER)")
    conn.commit()
    replica.push(5)
    for k in range(ROWS):
        conn.execute("INSERT INTO t VALUES (?)", (k,))
        conn.commit()
    conn.close()
    replica.close()


def _run_and_term(db: Path, url: str, deadline: float) -> tuple[float, int]:
    """Start ``synctune run``, wait until its first sync started, SIGTERM; (seconds, code)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "synctune", "run", "--db", str(db), "--url", url,
         "--freshness", "30", "--strategy", "on-write", "--stop-deadline", str(deadline),
         "--log-level", "info"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"))
    assert proc.stderr is not None
    for line in proc.stderr:
        if "sync started" in line:
            break
    time.sleep(0.3)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.stderr.read()
    code = proc.wait(30)
    return time.monotonic() - t0, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("synctune.live").setLevel(logging.ERROR)  # the figures, not the log
    binary = _tursodb()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        port = _port()
        url = f"http://127.0.0.1:{port}"
        server = _start(binary, tmp / "primary.db", port)
        try:
            base = []
            for i in range(args.runs):
                db = tmp / f"healthy{i}.db"
                _hold_rows(db, url)
                took, code = _run_and_term(db, url, 1.0)
                assert code == 0, code
                base.append(took)
            print(f"synctune run, SIGTERM to exit, {args.runs} runs, {ROWS} rows held:")
            print(f"  healthy primary (baseline)        median {statistics.median(base):.3f} s"
                  f"  max {max(base):.3f} s")
            dbs = []
            for deadline in (0.5, 1.0, 2.0):
                for i in range(args.runs):
                    db = tmp / f"hung{deadline}-{i}.db"
                    _hold_rows(db, url)
                    dbs.append((deadline, db))
        finally:
            server.kill()
            server.wait()
        silent = SilentPrimary(port)
        try:
            results: dict[float, list[tuple[float, int]]] = {}
            for deadline, db in dbs:
                results.setdefault(deadline, []).append(_run_and_term(db, url, deadline))
            for deadline, runs in results.items():
                times = [t for t, _ in runs]
                codes = sorted({c for _, c in runs})
                print(f"  hung primary, --stop-deadline {deadline:<4g}  median "
                      f"{statistics.median(times):.3f} s  max {max(times):.3f} s  "
                      f"max over deadline {max(times) - deadline:+.3f} s (goal <= +0.5)  "
                      f"exit {codes}")
            print("SyncController.stop(deadline) in-process, push hung:")
            for deadline in (0.5, 1.0):
                db = tmp / f"hung{deadline}-0.db"  # still holds its rows: the run pushed none
                replica = TursoReplica(db, url)
                ctl = SyncController(replica, OnWrite(), default_timeout=30).start()
                time.sleep(0.5)  # the held rows' push is now waiting on the silent primary
                t0 = time.monotonic()
                flushed = ctl.stop(deadline)
                took = time.monotonic() - t0
                report = ctl.stop_report
                assert report is not None
                print(f"  deadline {deadline:<4g}  returned in {took:.3f} s  flushed={flushed}  "
                      f"abandoned={report.abandoned}  unpushed={report.unpushed}")
        finally:
            silent.close()


if __name__ == "__main__":
    main()
