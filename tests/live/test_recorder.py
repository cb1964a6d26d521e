"""Recording live traffic: against the real tursodb server, then replayed in the simulator."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from live_support import wait_for

from synctune.live import SyncController
from synctune.live.control.recorder import TraceRecorder
from synctune.live.replica.turso.adapter import TursoReplica
from synctune.policy import Periodic
from synctune.policy.errors import InvalidInput
from synctune.sim import SimConfig, advise, compare, load_trace


def _other_client(url: str, db: Path, commits: int, stop: threading.Event) -> int:
    """Another app writing to the primary: one commit and push every 50 ms."""
    other = TursoReplica(db, url)
    conn = other.connect()
    conn.execute("CREATE TABLE IF NOT EXISTS feed(k INTEGER)")
    conn.commit()
    other.push(5.0)
    done = 0
    try:
        for k in range(commits):
            if stop.is_set():
                break
            conn.execute("INSERT INTO feed(k) VALUES (?)", (k,))
            conn.commit()
            other.push(5.0)
            done += 1
            time.sleep(0.05)
    finally:
        other.close()
    return done


@pytest.mark.server
@pytest.mark.slow
def test_recorded_traffic_replays_in_compare_and_recommend(server, tmp_path):
    path = tmp_path / "traffic.csv"
    recorder = TraceRecorder(path, flush_every=0.05)
    replica = TursoReplica(tmp_path / "app.db", server.url)
    ctl = SyncController(replica, Periodic(0.15), recorder=recorder)
    stop = threading.Event()
    result: list[int] = []
    writer = threading.Thread(
        target=lambda: result.append(_other_client(server.url, tmp_path / "o.db", 40, stop)),
        daemon=True)
    reads = commits = 0
    with ctl:
        app = ctl.connection(busy_timeout=10.0)  # a loaded machine applies pulls slowly
        app.execute("CREATE TABLE IF NOT EXISTS notes(body TEXT)")
        app.commit()
        commits += 1
        writer.start()
        end = time.monotonic() + 2.5
        while time.monotonic() < end:
            app.execute("SELECT count(*) FROM notes")
            reads += 1
            if reads % 10 == 0:
                app.execute("INSERT INTO notes(body) VALUES ('x')")
                app.commit()
                commits += 1
            time.sleep(0.01)
        stop.set()
        writer.join(10)
        ctl.request_sync()
        assert wait_for(lambda: ctl.status().unpushed_writes == 0, 5)
    assert recorder.dropped == 0
    assert not recorder.started or not recorder._thread.is_alive()  # closed with the controller
    wl = load_trace(path)
    assert list(wl.nodes) == ["app"]
    load = wl.nodes["app"]
    assert load.reads.size == reads
    assert load.writes.size == commits
    assert load.syncs.size == 1  # the one request_sync
    # the other client's commits came back as pulls with changes, replayed as primary writes
    pulled = wl.primary_writes.size
    assert pulled >= 1
    assert pulled <= result[0] + 1  # pyturso counts at most one per pull: never more
    assert wl.primary_writes.min() >= 0.0 and wl.primary_writes.max() <= wl.duration + 1e-9
    # replay: the recorded traffic drives the simulator and the advisor
    table = compare(SimConfig(trace=str(path), freshness=1.0), ["periodic:0.15", "periodic:2"])
    assert table["reads"].tolist() == [reads, reads]
    assert table["syncs"].iloc[0] > table["syncs"].iloc[1] > 0
    advice = advise(str(path), 1.0, 0.05)
    assert advice.sync_interval > 0 and advice.local_writes == commits
    out = subprocess.run([sys.executable, "-m", "synctune", "recommend", "--trace", str(path),
                          "--freshness", "1", "--json"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["sync_interval"] == advice.sync_interval


def _events(rec: TraceRecorder, n: int) -> None:
    for i in range(n):
        if i % 7 == 0:
            rec.write()
        elif i % 11 == 0:
            rec.pull(i % 3)
        else:
            rec.read()


def test_rotation_keeps_every_part_a_trace_on_one_time_origin(tmp_path):
    path = tmp_path / "t.csv"
    clock = iter(float(i) * 0.01 for i in range(10**6))
    rec = TraceRecorder(path, max_bytes=2048, keep=100, flush_every=0.01,
                        clock=lambda: next(clock)).start()
    for _ in range(5):
        _events(rec, 200)
        time.sleep(0.05)
    rec.close()
    parts = sorted(tmp_path.glob("t.*.csv"), key=lambda p: int(p.name.split(".")[1]))
    assert len(parts) >= 3
    ends = []
    rows = 0
    for part in [*parts, path]:
        assert part.stat().st_mode & 0o777 == 0o600
        assert part.stat().st_size < 2048 + 4096  # rotated once past the limit
        if part == path and len(part.read_text().splitlines()) == 1:
            continue  # rotated just before closing: the current file has only its header
        wl = load_trace(part)
        rows += sum(ld.reads.size + ld.writes.size for ld in wl.nodes.values())
        lines = part.read_text().splitlines()
        assert lines[0] == "t,node,op,bytes,changes"
        ends.append((float(lines[1].split(",")[0]), float(lines[-1].split(",")[0])))
    # the parts continue one another in time
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ends))
    assert rec.rows == 1000 and rec.dropped == 0


def test_rotation_removes_parts_beyond_keep(tmp_path):
    path = tmp_path / "t.csv"
    rec = TraceRecorder(path, max_bytes=1024, keep=2, flush_every=0.01).start()
    for _ in range(6):
        _events(rec, 100)
        time.sleep(0.05)
    rec.close()
    kept = sorted(p.name for p in tmp_path.glob("t.*.csv"))
    assert len(kept) == 2


def test_hooks_never_wait_on_the_writer_and_count_what_they_drop(tmp_path):
    rec = TraceRecorder(tmp_path / "t.csv", max_pending=100)  # never started: nothing drains
    t0 = time.perf_counter()
    for _ in range(10_000):
        rec.read()
    assert time.perf_counter() - t0 < 1.0  # no waiting: a full queue drops
    assert rec.dropped == 10_000 - 100


def test_parquet_recording_loads_as_a_trace(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "t.parquet"
    with TraceRecorder(path, flush_every=0.01) as rec:
        for _ in range(3):
            rec.read()
        rec.write(2)
        rec.pull(4)
    wl = load_trace(path)
    assert wl.nodes["app"].reads.size == 3 and wl.nodes["app"].writes.size == 2
    assert wl.primary_writes.size == 4


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"node": "primary"}, "node"),
    ({"node": "a,b"}, "node"),
    ({"max_bytes": 10}, "max_bytes"),
    ({"flush_every": 0}, "flush_every"),
])
def test_bad_settings_name_the_field(tmp_path, kwargs, needle):
    with pytest.raises(InvalidInput, match=needle):
        TraceRecorder(tmp_path / "t.csv", **kwargs)


def test_an_existing_recording_is_never_overwritten(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("keep me")
    with pytest.raises(InvalidInput, match="already exists"):
        TraceRecorder(path)
    assert path.read_text() == "keep me"
    with pytest.raises(InvalidInput, match="no such directory"):
        TraceRecorder(tmp_path / "missing" / "t.csv")


@pytest.mark.server
def test_run_records_traffic_and_serves_metrics_on_the_given_address(server, tmp_path):
    record = tmp_path / "run.csv"
    out = subprocess.run([sys.executable, "-m", "synctune", "run", "--db", str(tmp_path / "a.db"),
                          "--url", server.url, "--freshness", "5", "--strategy", "periodic:0.2",
                          "--duration", "1.5", "--status-every", "0.5", "--record", str(record),
                          "--metrics-port", "0", "--metrics-addr", "0.0.0.0"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "metrics at http://0.0.0.0:" in out.stdout
    lines = record.read_text().splitlines()
    assert lines[0] == "t,node,op,bytes,changes"
    assert any(",pull," in ln for ln in lines[1:])  # the syncs' pulls, with their counts
    assert record.stat().st_mode & 0o777 == 0o600
    # an existing recording is refused before anything starts
    again = subprocess.run([sys.executable, "-m", "synctune", "run", "--db",
                            str(tmp_path / "a.db"), "--url", server.url, "--freshness", "5",
                            "--record", str(record)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 2
    assert "already exists" in again.stderr and len(again.stderr.strip().splitlines()) == 1


def test_reads_reported_without_a_latency_are_recorded_and_counted(tmp_path):
    from synctune.live.replica.local import LocalReplica
    from synctune.policy import Manual

    path = tmp_path / "t.csv"
    ctl = SyncController(LocalReplica(tmp_path / "a.db"), Manual(), freshness=30.0,
                         recorder=TraceRecorder(path, flush_every=0.01))
    with ctl:
        ctl.notify_read(5)   # reads that bypass ctl.connection()
        ctl.record_query(0.001)
        ctl.notify_write(2)
    snap = ctl.telemetry.snapshot()
    assert snap.reads == 6 and snap.query_latency.count == 1
    wl = load_trace(path)
    assert wl.nodes["app"].reads.size == 6 and wl.nodes["app"].writes.size == 2


def test_hooks_after_close_queue_nothing(tmp_path):
    # an app's connections may go on reporting to a stopped controller: with the writer gone,
    # a queue kept filling would hold up to max_pending events in memory for nothing
    rec = TraceRecorder(tmp_path / "t.csv", flush_every=0.01).start()
    rec.write(3)
    rec.close()
    for _ in range(1000):
        rec.write()
        rec.read()
    assert len(rec._events) == 0 and rec.dropped == 0
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert rec.rows == 3 and len(lines) == 4 and all(",write," in line for line in lines[1:])
