"""End to end on real servers: a real tursodb primary, a private redis-server, three app worker
processes (worker slots) on ``Announced``, one ``synctune watch`` process, and an outside writer.

The outside writer is another pyturso replica that pushes its commits: the local tursodb sync
server has no SQL-over-HTTP endpoint. Its commit times are the starts of its pushes (the
earliest a row can have landed at the primary), and every read of every worker is judged
against them. Mid-run redis-server is killed -9 and restarted, then the watcher is.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from live_support import primary_rows

from synctune.live.replica.turso.adapter import TursoReplica

HERE = Path(__file__).resolve().parent
D = 2.0
#: seconds after t0: outside bursts, the workers' own writes, the kills and restarts, the end
BURSTS = (0.0, 13.0, 16.5, 21.0, 25.0, 32.0)
OWN_WRITES = (12.0, 30.0)
QUIET = (4.0, 11.0)  # no commit lands in [0.5, 12): a poller at D would pull 3-4 times here
KILL_REDIS, START_REDIS, KILL_WATCHER, START_WATCHER, END = 15.0, 19.0, 23.0, 28.0, 35.0


def _watcher(url: str, tmp: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = open(tmp / "watch.log", "ab")  # noqa: SIM115 - the process keeps it
    return subprocess.Popen(
        [sys.executable, "-c", "from synctune.cli.main import entry; entry()", "watch",
         "--url", url, "--db", str(tmp / "watch.db"), "--freshness", str(D),
         "--heartbeat", "0.5", "--status-every", "60"], env=env, stdout=log, stderr=log,
        stdin=subprocess.DEVNULL)


def _worker(i: int, url: str, go: Path, tmp: Path,
            env: dict[str, str]) -> subprocess.Popen[bytes]:
    err = open(tmp / f"worker{i}.log", "ab")  # noqa: SIM115 - the process keeps it
    return subprocess.Popen(
        [sys.executable, str(HERE / "announce_worker.py"), str(tmp / "app.db"), url, str(D),
         str(go), str(tmp / f"worker{i}.json"), *map(str, OWN_WRITES)], env=env,
        stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL)


def _at(t0: float, offset: float) -> None:
    time.sleep(max(0.0, t0 + offset - time.time()))


def _burst(writer: TursoReplica, conn, n0: int, rows: int, commits: dict[int, float]) -> int:
    for n in range(n0, n0 + rows):
        conn.execute("INSERT INTO t(src, n) VALUES ('out', ?)", (n,))
    conn.commit()
    began = time.time()
    writer.push(5.0)
    for n in range(n0, n0 + rows):
        commits[n] = began
    return n0 + rows


def _stale(reads: list, commits: dict[int, float]) -> int:
    """Reads that missed an outside row committed more than D before them."""
    order = sorted(commits.items())
    stale = 0
    for t, seen in reads:
        due = [n for n, c in order if c + D < t]
        if due and seen < due[-1]:
            stale += 1
    return stale


@pytest.mark.server
@pytest.mark.timeout(150)
def test_three_workers_and_a_watcher_keep_d_through_redis_and_watcher_kills(
        server, redis_server, tmp_path):
    env = {**os.environ, "SYNCTUNE_ANNOUNCE_URL": redis_server.url}
    writer = TursoReplica(tmp_path / "outside.db", server.url)
    conn = writer.connect()
    conn.execute("CREATE TABLE t(src TEXT NOT NULL, n INTEGER NOT NULL)")
    conn.commit()
    writer.push(5.0)
    watcher = _watcher(server.url, tmp_path, env)
    go = tmp_path / "go"
    workers = [_worker(i, server.url, go, tmp_path, env) for i in range(3)]
    for w in workers:
        assert w.stdout is not None and w.stdout.readline().strip() == b"ready"
    time.sleep(1.0)  # the workers' first pulls and the channel up
    t0 = time.time() + 0.2
    go.write_text(repr(t0))
    commits: dict[int, float] = {}
    events: dict[str, float] = {}
    n = 1
    plan = sorted([(b, "burst") for b in BURSTS] + [
        (KILL_REDIS, "kill_redis"), (START_REDIS, "start_redis"),
        (KILL_WATCHER, "kill_watcher"), (START_WATCHER, "start_watcher")])
    for offset, what in plan:
        _at(t0, offset)
        events[what] = time.time()
        if what == "burst":
            n = _burst(writer, conn, n, 3, commits)
        elif what == "kill_redis":
            redis_server.kill()
        elif what == "start_redis":
            redis_server.start()
        elif what == "kill_watcher":
            watcher.kill()
            watcher.wait(5)
        elif what == "start_watcher":
            watcher = _watcher(server.url, tmp_path, env)
    _at(t0, END)
    for w in workers:
        w.send_signal(signal.SIGTERM)
    for w in workers:
        assert w.wait(30) == 0
    watcher.send_signal(signal.SIGTERM)
    watcher.wait(15)
    conn.close()
    writer.close()
    seen = [json.loads((tmp_path / f"worker{i}.json").read_text()) for i in range(3)]
    _check(seen, commits, events, t0, server.url, tmp_path)


def _check(seen: list[dict], commits: dict[int, float], events: dict[str, float], t0: float,
           url: str, tmp: Path) -> None:
    reads = [r for s in seen for r in s["reads"] if r[0] >= t0]
    stale = _stale(reads, commits)
    print(f"reads {len(reads)}, older than D {stale} ({stale / len(reads):.2%})")
    assert stale <= 0.01 * len(reads)
    for s in seen:
        assert s["flushed"]
        pulls = [p for p, _ in s["pulls"]]
        quiet = [p for p in pulls if t0 + QUIET[0] <= p < t0 + QUIET[1]]
        print(f"slot {s['slot']}: {len(pulls)} syncs in {len(s['reads']) * 0.05:.0f} s, "
              f"{len(quiet)} in the quiet {QUIET[1] - QUIET[0]:g} s; hints {s['hints']}")
        assert len(quiet) <= 1  # a poller at D: 3 or 4
        fb = s["fallback"]
        # redis killed: fallback within the subscriber's dead_after (1 s) plus a poll
        assert _first(fb, events["kill_redis"], True) - events["kill_redis"] <= 2.0
        assert _first(fb, events["start_redis"], False) - events["start_redis"] <= 6.0
        # the watcher killed: fallback once its heartbeats are 3 s silent
        assert _first(fb, events["kill_watcher"], True) - events["kill_watcher"] <= 4.5
        assert _first(fb, events["start_watcher"], False) - events["start_watcher"] <= 8.0
        assert s["hints"].get("commit", 0) >= len(BURSTS) - 2
    rows = primary_rows(url, tmp, "SELECT src, n, count(*) FROM t GROUP BY src, n")
    assert all(c == 1 for _, _, c in rows)
    expected = {("out", k) for k in commits}
    expected |= {(f"w{s['slot']}", k) for s in seen for k, _ in s["written"]}
    assert {(src, k) for src, k, _ in rows} == expected


def _first(series: list, after: float, value: bool) -> float:
    """When ``series`` (time, flag) first shows ``value`` at or after ``after``."""
    return next((t for t, v in series if t >= after and v is value), float("inf"))
