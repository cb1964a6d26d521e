"""Helpers for the announcement tests: a heartbeat sender, a hint recorder, pull counts."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from pathlib import Path

from synctune.live.announce import Announcer, Hint
from synctune.live.replica.fake import FakeReplica

URL = "http://127.0.0.1:9/db"


class Beats:
    """Sends heartbeats for ``announcer`` every ``every`` s on a thread until closed (a watcher
    stand-in)."""

    def __init__(self, announcer: Announcer, every: float = 0.1) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(announcer, every), daemon=True)
        self._thread.start()

    def _run(self, announcer: Announcer, every: float) -> None:
        while not self._stop.is_set():
            announcer.heartbeat()
            self._stop.wait(every)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)


class Heard:
    """A subscriber that keeps what it hears and the channel states it is told."""

    def __init__(self) -> None:
        self.hints: list[tuple[float, Hint]] = []
        self.states: list[tuple[float, bool]] = []

    def on_hint(self, hint: Hint) -> None:
        self.hints.append((time.time(), hint))

    def on_state(self, up: bool) -> None:
        self.states.append((time.time(), up))

    def commits(self) -> list[Hint]:
        return [h for _, h in self.hints if h.kind == "commit"]


def pulls(fake: FakeReplica) -> list[float]:
    """Start times (the fake's timer) of every pull the fake saw."""
    return [c.began for c in fake.calls if c.op == "pull"]


def redis_server_path() -> str:
    import shutil

    import pytest

    path = shutil.which("redis-server")
    if path is None:
        pytest.fail("redis-server is required (Debian package redis-server; "
                    "`bash scripts/setup.sh --server` installs it)", pytrace=False)
    return path


class RedisServer:
    """A private ``redis-server`` on a loopback port: no persistence, never the system service;
    kill -9 and restart in place (same port, same password)."""

    def __init__(self, workdir: Path, port: int, password: str | None = None) -> None:
        self.workdir, self.port, self.password = workdir, port, password
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f"default:{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        args = [redis_server_path(), "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
                "--daemonize", "no", "--protected-mode", "yes"]
        if self.password:
            args += ["--requirepass", self.password]
        with open(self.workdir / "redis.log", "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited at start")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not listen within 10 s")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL (kill -9) and wait."""
        if self.running:
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None


class HangingProxy:
    """A loopback TCP proxy to ``upstream_port`` that forwards both ways until :meth:`hang`,
    then stops forwarding while keeping every connection (old and new) open: a hung Redis."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.hung = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._held.append(conn)
            if self.hung.is_set():
                continue  # accepted, never answered
            try:
                up = socket.create_connection(("127.0.0.1", self.upstream_port), 2)
            except OSError:
                conn.close()
                continue
            self._held.append(up)
            for a, b in ((conn, up), (up, conn)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                while self.hung.is_set():  # hold the bytes, keep the connection
                    time.sleep(0.05)
                dst.sendall(data)

    def hang(self) -> None:
        self.hung.set()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        for s in self._held:
            s.close()
