"""``synctune run`` and ``synctune doctor`` end to end, as real subprocesses."""

from __future__ import annotations

import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from live_support import (
    ReplyDroppingProxy,
    SilentServer,
    free_port,
    hold_local_rows,
    primary_rows,
    wait_for,
)

from synctune.live import SyncController
from synctune.live.replica.turso.adapter import TursoReplica
from synctune.policy import Manual

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
        self.errors: list[str] = []  # stderr lines so far
        threading.Thread(target=self._read, daemon=True).start()
        self._err_reader = threading.Thread(target=self._read_errors, daemon=True)
        self._err_reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def _read_errors(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.errors.append(line.rstrip("\n"))

    def stderr(self) -> str:
        """All of stderr, once the process has ended."""
        self._err_reader.join(5)
        return "\n".join(self.errors)

    def rest(self) -> str:
        """Every stdout line not yet taken, after the process ended."""
        while True:
            try:
                self.seen.append(self.lines.get(timeout=0.5))
            except queue.Empty:
                return "\n".join(self.seen)

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

    def stop_by(self, *signals: int, gap: float = 0.3) -> float:
        """Send ``signals`` (``gap`` s apart) and wait for the exit; seconds from the first."""
        t0 = time.monotonic()
        for k, sig in enumerate(signals):
            if k:
                time.sleep(gap)
            self.proc.send_signal(sig)
        self.proc.wait(timeout=15)
        return time.monotonic() - t0

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
        err = run.stderr()
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


def _push_what_is_held(db, url: str) -> None:
    """A controller started on ``db`` against a healthy primary pushes what the file holds."""
    ctl = SyncController(TursoReplica(db, url), Manual(), default_timeout=5.0).start()
    try:
        assert ctl.stop(10), ctl.stop_report
    finally:
        ctl.replica.close()


@pytest.mark.server
@pytest.mark.slow
def test_run_with_a_hung_primary_exits_by_the_stop_deadline_and_the_next_start_pushes_once(
        server, tmp_path):
    db = tmp_path / "run.db"
    held = hold_local_rows(db, server.url, 20)
    assert held == 20
    server.kill()
    silent = SilentServer(server.port)  # accepts, never answers
    try:
        run = Running("--db", str(db), "--url", silent.url, "--freshness", "30",
                      "--strategy", "on-write", "--stop-deadline", "1", "--log-level", "info")
        try:
            run.wait_line(lambda s: "running" in s)
            assert wait_for(lambda: any("sync started" in e for e in run.errors), 10)
            time.sleep(0.3)  # the push is now waiting on the silent primary
            # impatient: a second signal during the stop
            took = run.stop_by(signal.SIGTERM, signal.SIGINT)
            out, err = run.rest(), run.stderr()
        finally:
            run.kill()
    finally:
        silent.close()
    assert took <= 1.0 + 0.5, took
    assert run.proc.returncode == 1, out + err
    assert "stop deadline reached during a push, which was abandoned" in out
    assert f"{held} local row changes not confirmed pushed;" in out  # exact: run is alone
    assert "Traceback" not in err and "could not be pushed" not in err
    server.start()
    _push_what_is_held(db, server.url)
    rows = primary_rows(server.url, tmp_path, "SELECT k, count(*) FROM t GROUP BY k ORDER BY k")
    assert rows == [(k, 1) for k in range(20)]


@pytest.mark.server
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_bootstrapping_exits_cleanly_without_a_traceback(tmp_path, sig):
    silent = SilentServer()  # a first open bootstraps, and this primary never answers
    try:
        run = Running("--db", str(tmp_path / "new.db"), "--url", silent.url, "--freshness", "5",
                      "--stop-deadline", "0.5")
        try:
            assert wait_for(lambda: bool(silent.accepted), 15)  # the bootstrap has begun
            took = run.stop_by(sig)
            err = run.stderr()
        finally:
            run.kill()
    finally:
        silent.close()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert run.proc.returncode == 130, err
    assert "stopped while opening the replica" in err
    assert took <= 0.5 + 0.5, took


@pytest.mark.server
@pytest.mark.slow
def test_run_abandoning_a_push_the_primary_applied_never_doubles_a_row(server, tmp_path):
    db = tmp_path / "run.db"
    held = hold_local_rows(db, server.url, 12)
    # the push's write batch reaches the primary and commits there; its reply never comes back
    proxy = ReplyDroppingProxy(server.port, lambda body: b"BEGIN IMMEDIATE" in body)
    try:
        run = Running("--db", str(db), "--url", proxy.url, "--freshness", "30",
                      "--strategy", "on-write", "--stop-deadline", "0.5")
        try:
            assert wait_for(lambda: proxy.dropped >= 1, 15)
            took = run.stop_by(signal.SIGTERM)
            out, err = run.rest(), run.stderr()
        finally:
            run.kill()
    finally:
        proxy.close()
    assert took <= 0.5 + 0.5, took
    assert run.proc.returncode == 1, out + err
    # not confirmed by the primary, so still counted as at risk: truthful, if pessimistic
    assert f"{held} local row changes not confirmed pushed;" in out  # exact: run is alone
    assert "Traceback" not in err
    rows = "SELECT k, count(*) FROM t GROUP BY k ORDER BY k"
    assert primary_rows(server.url, tmp_path, rows, "probe1.db") == [(k, 1) for k in range(12)]
    _push_what_is_held(db, server.url)  # the next start resends; the primary skips what it has
    assert primary_rows(server.url, tmp_path, rows, "probe2.db") == [(k, 1) for k in range(12)]



@pytest.mark.slow
def test_run_answers_sigterm_while_nobody_reads_its_stdout(server, tmp_path):
    # stdout is a pipe nobody drains: status lines fill it, then every write would block
    proc = subprocess.Popen([sys.executable, "-m", "synctune", "run", "--db",
                             str(tmp_path / "run.db"), "--url", server.url, "--freshness", "2",
                             "--status-every", "0.001", "--stop-deadline", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env())
    try:
        assert proc.stdout is not None
        assert select.select([proc.stdout], [], [], 15)[0]  # it prints: it is running
        time.sleep(2.0)  # ~200 bytes a line every 1 ms: the 64 KiB pipe is full by now
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=2 + 3) == 0  # the stop deadline, plus process exit
    finally:
        proc.kill()
        proc.wait()
