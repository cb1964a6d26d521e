"""``synctune run`` and ``synctune doctor`` end to end, as real subprocesses."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from live_support import free_port

from synctune.live.turso_replica import TursoReplica

TOKEN = "cli-SECRET-token-77"


def _env() -> dict[str, str]:
    return dict(os.environ, TURSO_AUTH_TOKEN=TOKEN, PYTHONUNBUFFERED="1")


def _synctune(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "synctune", *args], capture_output=True,
                          text=True, env=_env(), timeout=timeout)


class Running:
    """A ``synctune run`` subprocess whose stdout lines arrive on a queue."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "synctune", "run", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=_env())
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_line(self, predicate, timeout: float = 15) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if predicate(line):
                return line
        raise AssertionError(f"no matching line in {timeout} s; saw {self.seen!r}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.mark.server
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_run_syncs_serves_metrics_and_stops_cleanly_on_a_signal(server, tmp_path, sig):
    writer = TursoReplica(tmp_path / "w.db", server.url)
    conn = writer.connect()
    conn.execute("CREATE TABLE t(k INTEGER)")
    conn.execute("INSERT INTO t VALUES (7)")
    conn.commit()
    writer.push(5)
    db = tmp_path / "run.db"
    run = Running("--db", str(db), "--url", server.url, "--freshness", "2",
                  "--status-every", "0.2", "--metrics-port", "0", "--log-level", "info")
    try:
        metrics = run.wait_line(lambda s: "metrics at" in s).split("metrics at ", 1)[1]
        run.wait_line(lambda s: "syncs=1" in s or "syncs=2" in s)
        body = urllib.request.urlopen(metrics, timeout=5).read().decode()
        assert "synctune_sync_lag_seconds" in body and TOKEN not in body
        run.proc.send_signal(sig)
        run.proc.wait(timeout=15)
        run.wait_line(lambda s: "stopped:" in s, 5)
        assert run.proc.stderr is not None
        err = run.proc.stderr.read()
    finally:
        run.kill()
    assert run.proc.returncode == 0, err
    text = "\n".join(run.seen) + err
    assert "sync done" in err  # decisions and results are logged with their reasons
    assert TOKEN not in text and "SECRET" not in text
    again = TursoReplica(db, server.url)  # the run's replica holds the primary's row
    assert again.connect().execute("SELECT k FROM t").fetchall() == [(7,)]


@pytest.mark.parametrize("args", [
    ["--db", "x.db", "--url", "http://127.0.0.1:9", "--freshness", "0"],
    ["--db", "x.db", "--url", "http://127.0.0.1:9", "--freshness", "abc"],
    ["--db", "x.db", "--url", "ftp://nowhere", "--freshness", "5"],
    ["--db", "x.db", "--url", "http://127.0.0.1:9", "--freshness", "5", "--strategy", "sometimes"],
    ["--db", "x.db", "--url", "http://127.0.0.1:9", "--freshness", "5", "--metrics-port", "70000"],
    ["--url", "http://127.0.0.1:9", "--freshness", "5"],
])
def test_run_bad_input_exits_2_with_one_line(tmp_path, args):
    out = subprocess.run([sys.executable, "-m", "synctune", "run", *args], capture_output=True,
                         text=True, env=_env(), cwd=tmp_path, timeout=60)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("synctune: error:"), out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "x.db").exists()


@pytest.mark.server
def test_doctor_passes_against_a_healthy_primary_without_showing_the_token(server, tmp_path):
    out = _synctune("doctor", "--db", str(tmp_path / "d.db"), "--url", server.url, "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    checks = {c["name"]: c for c in json.loads(out.stdout)}
    assert {"environment", "url", "token", "reachable", "token accepted", "integrity",
            "sync state", "manual sync"} <= set(checks)
    assert all(c["ok"] for c in checks.values())
    assert checks["token"]["detail"] == "set (hidden)"
    assert TOKEN not in out.stdout + out.stderr


@pytest.mark.server
def test_doctor_fails_with_hints_when_the_primary_is_down(server, tmp_path):
    db = tmp_path / "d.db"
    assert _synctune("doctor", "--db", str(db), "--url", server.url).returncode == 0
    server.kill()
    out = _synctune("doctor", "--db", str(db), "--url", server.url, "--timeout", "2")
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert any(s.startswith("FAIL  reachable") for s in lines)
    assert any(s.startswith("FAIL  manual sync") for s in lines)
    assert any(s.startswith("PASS  integrity") for s in lines)  # the local file is still sound
    assert any("fix: check the URL" in s for s in lines)
    assert TOKEN not in out.stdout + out.stderr


def test_doctor_without_url_fails_the_url_check(tmp_path):
    env = _env()
    env.pop("TURSO_DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-m", "synctune", "doctor", "--db",
                          str(tmp_path / "d.db"), "--json"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode == 1
    url = next(c for c in json.loads(out.stdout) if c["name"] == "url")
    assert not url["ok"] and "TURSO_DATABASE_URL" in url["hint"]


def test_doctor_development_checks_the_local_file_only(tmp_path):
    import sqlite3

    db = tmp_path / "dev.db"
    sqlite3.connect(db).execute("CREATE TABLE t(x)").connection.commit()
    out = _synctune("doctor", "--env", "development", "--db", str(db),
                    "--url", f"http://127.0.0.1:{free_port()}")
    assert out.returncode == 0, out.stdout
    assert "PASS  integrity" in out.stdout and "reachable" not in out.stdout
    missing = _synctune("doctor", "--env", "development", "--db", str(tmp_path / "none.db"))
    assert missing.returncode == 1 and "does not exist" in missing.stdout


@pytest.mark.parametrize("args", [["--env", "mars"], ["--timeout", "0"], ["--timeout", "x"]])
def test_doctor_bad_input_exits_2_with_one_line(args):
    out = _synctune("doctor", *args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("synctune: error:"), out.stderr
