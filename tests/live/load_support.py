"""App-like load for the fault tests: writer threads committing through SyncController.

Every writer appends ``(writer, k)`` rows and records each attempt's fate: ``ok`` (commit
returned), ``failed`` (commit raised; the row must not reach the primary). Rows are checked on
the primary afterwards: every ``ok`` row exactly once, no ``failed`` row, no duplicates.
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from live_support import SilentServer, TursoServer, primary_rows

from synctune.live import SyncController
from synctune.live.replica.turso.adapter import TursoReplica
from synctune.policy import Backoff, OnWrite, SyncStrategy

SCHEMA = "CREATE TABLE IF NOT EXISTS w(writer TEXT NOT NULL, k INTEGER NOT NULL)"


@dataclass
class WriterLog:
    """What one writer thread saw."""

    name: str
    ok: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    opens: list[tuple[float, float]] = field(default_factory=list)  # (when, seconds)
    commits: list[tuple[float, float]] = field(default_factory=list)  # (when, seconds)


def controller(path: Path | str, url: str, strategy: SyncStrategy | None = None
               ) -> SyncController:
    """The writers' controller: on-write pushes with a short backoff (or ``strategy``)."""
    if strategy is None:
        strategy = OnWrite(coalesce=0.05, backoff=Backoff(base=0.1, cap=0.5),
                           rng=random.Random(7))
    replica = TursoReplica(path, url)
    return SyncController(replica, strategy, default_timeout=2.0, check_every=0.1)


def with_schema(ctl: SyncController) -> SyncController:
    """Create the writers' table through ``ctl`` (started); returns ``ctl``."""
    setup = ctl.connection()
    with setup:
        setup.execute(SCHEMA)
    setup.close()
    return ctl


def writer(ctl: SyncController, log: WriterLog, stop: threading.Event, use_with: bool,
           journal: Any = None) -> None:
    """Commit ``(name, k)`` rows as fast as possible until ``stop``; reopen every 25 commits."""
    k = 0
    conn = None
    while not stop.is_set():
        if conn is None or k % 25 == 0:
            if conn is not None:
                conn.close()
            t0 = time.perf_counter()
            conn = ctl.connection()
            log.opens.append((time.monotonic(), time.perf_counter() - t0))
        t0 = time.perf_counter()
        try:
            if use_with:
                with conn:
                    conn.execute("INSERT INTO w(writer, k) VALUES (?, ?)", (log.name, k))
            else:
                conn.execute("INSERT INTO w(writer, k) VALUES (?, ?)", (log.name, k))
                conn.commit()
        except Exception as exc:
            if not use_with:
                conn.rollback()
            log.failed.append((k, f"{type(exc).__name__}: {exc}"))
        else:
            log.ok.append(k)
            if journal is not None:
                journal.write(f"{k}\n")
                journal.flush()
        log.commits.append((time.monotonic(), time.perf_counter() - t0))
        if k % 10 == 0:
            conn.execute("SELECT count(*) FROM w WHERE writer = ?", (log.name,)).fetchall()
        k += 1
        time.sleep(0.001)
    if conn is not None:
        conn.close()


def run_writers(ctl: SyncController, names: list[str], stop: threading.Event,
                journals: dict[str, Any] | None = None) -> tuple[list[WriterLog],
                                                                 list[threading.Thread]]:
    logs = [WriterLog(n) for n in names]
    threads = [threading.Thread(target=writer, name=f"writer-{log.name}",
                                args=(ctl, log, stop, i % 2 == 0,
                                      (journals or {}).get(log.name)), daemon=True)
               for i, log in enumerate(logs)]
    for t in threads:
        t.start()
    return logs, threads


def worker_process(slot_root: str, url: str, out_dir: str, go_file: str, stop_file: str,
                   threads: int, here: str) -> None:
    """One app worker process: claim a slot, open its replica, write until ``stop_file``."""
    if here not in sys.path:
        sys.path.insert(0, here)
    from synctune.live import claim_worker_slot

    slot = claim_worker_slot(slot_root)
    pid = os.getpid()
    ctl = with_schema(controller(slot.path, url).start())
    names = [f"p{pid}-t{i}" for i in range(threads)]
    journals = {n: open(Path(out_dir) / f"{n}.journal", "w") for n in names}  # noqa: SIM115
    Path(out_dir, f"ready-{pid}").write_text(str(slot.index))
    while not os.path.exists(go_file):
        time.sleep(0.01)
    stop = threading.Event()
    logs, workers = run_writers(ctl, names, stop, journals)
    while not os.path.exists(stop_file):
        time.sleep(0.02)
    stop.set()
    for t in workers:
        t.join(10)
    flushed = ctl.stop(deadline=20)
    report = {"slot": slot.index, "flushed": flushed, "last_error": ctl.last_error,
              "logs": [{"name": log.name, "ok": log.ok, "failed": log.failed,
                        "opens": log.opens} for log in logs]}
    Path(out_dir, f"report-{pid}.json").write_text(json.dumps(report))
    slot.release()


def doomed_process(path: str, url: str, out_dir: str, prefix: str, here: str) -> None:
    """An app process on replica ``path`` whose writers journal each commit under ``prefix``
    until it is killed."""
    if here not in sys.path:
        sys.path.insert(0, here)
    ctl = with_schema(controller(path, url).start())
    names = [f"{prefix}-t{i}" for i in range(2)]
    journals = {n: open(Path(out_dir) / f"{n}.journal", "w") for n in names}  # noqa: SIM115
    run_writers(ctl, names, threading.Event(), journals)
    Path(out_dir, f"ready-{prefix}").touch()
    while True:
        time.sleep(1)


def faults(server: TursoServer, stop: threading.Event, marks: dict[str, float],
           scale: float = 1.0) -> None:
    """kill -9 at 2 s, restart at 4 s; hang from 6 s to 10 s; then healthy until 13 s (times
    ``scale``); sets ``stop`` at the end."""
    def at(t: float) -> None:
        time.sleep(max(0.0, t * scale - (time.monotonic() - marks["start"])))

    at(2)
    server.kill()
    at(4)
    server.start()
    at(6)
    server.kill()
    silent = SilentServer(server.port)
    marks["hang_start"] = time.monotonic()
    at(10)
    silent.close()
    marks["hang_end"] = time.monotonic()
    server.start()
    at(13)
    stop.set()


def check_primary(server: TursoServer, tmp: Path, ok: dict[str, list[int]],
                  failed: dict[str, list[int]], unsure: dict[str, set[int]] | None = None
                  ) -> Counter[tuple[str, int]]:
    """Every ``ok`` row on the primary once, no ``failed`` row, nothing nobody committed."""
    rows = primary_rows(server.url, tmp, "SELECT writer, k, count(*) FROM w GROUP BY writer, k")
    seen = Counter({(w, k): n for w, k, n in rows})
    doubled = {key: n for key, n in seen.items() if n > 1}
    assert not doubled, f"rows stored more than once: {list(doubled.items())[:10]}"
    for name, keys in ok.items():
        missing = [k for k in keys if (name, k) not in seen]
        assert not missing, f"{name}: {len(missing)} committed rows never reached the primary"
    for name, keys in failed.items():
        stray = [k for k in keys if (name, k) in seen]
        assert not stray, f"{name}: rows whose commit raised reached the primary: {stray[:10]}"
    known = {(n, k) for n, ks in ok.items() for k in ks}
    extra = [key for key in seen if key not in known and key[1] not in
             (unsure or {}).get(key[0], set())]
    assert not extra, f"rows nobody committed: {extra[:10]}"
    return seen
