"""Real servers for the live tests: tursodb on loopback, and a primary that never answers."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from synctune.live.replica.turso.adapter import TursoReplica


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tursodb_path() -> str:
    path = os.environ.get("SYNCTUNE_TURSODB", "")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("SYNCTUNE_TURSODB must point at the tursodb binary (npm turso@0.6.0); run "
                    "`bash scripts/setup.sh --server` and export it, or use scripts/test.sh "
                    f"(got {path!r})", pytrace=False)
    return path


class TursoServer:
    """One ``tursodb DB --sync-server 127.0.0.1:PORT`` process; kill -9 and restart in place."""

    def __init__(self, binary: str, db: Path, port: int) -> None:
        self.binary, self.db, self.port = binary, db, port
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = db.with_suffix(".log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TursoServer:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [self.binary, str(self.db), "--sync-server", f"127.0.0.1:{self.port}"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tursodb exited: {self.log.read_text()[-500:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("tursodb did not start listening within 10 s")

    def kill(self) -> None:
        """SIGKILL (kill -9) and wait: no chance to flush anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None


class SilentServer:
    """A plain socket that accepts connections and never answers (nor closes them)."""

    def __init__(self, port: int = 0) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)
            hook = getattr(self, "accepted_hook", None)
            if hook is not None:
                hook(conn)

    def close(self) -> None:
        # shutdown wakes the accept() blocked in the thread; close alone would leave it listening
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self._thread.join(5)
        for c in self.accepted:
            c.close()


async def tick(ticks: list[int]) -> None:
    """Count event-loop turns into ``ticks[0]`` until cancelled (is the loop free?)."""
    import asyncio

    while True:
        ticks[0] += 1
        await asyncio.sleep(0.001)


def wait_for(predicate: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def primary_rows(url: str, tmp: Path, sql: str, name: str = "probe.db") -> list[tuple]:
    """Rows of ``sql`` as a fresh replica bootstrapped from the primary sees them."""
    probe = TursoReplica(tmp / name, url)
    try:
        probe.pull(5.0)
        conn = probe.connect()
        return [tuple(r) for r in conn.execute(sql).fetchall()]
    finally:
        probe.close()


def hold_local_rows(db: Path, url: str, n: int) -> int:
    """Bootstrap ``db`` from the primary, commit ``n`` rows locally without pushing them."""
    writer = TursoReplica(db, url)
    conn = writer.connect()
    conn.execute("CREATE TABLE t(k INTEGER)")
    conn.commit()
    writer.push(5)
    for k in range(n):
        conn.execute("INSERT INTO t VALUES (?)", (k,))
        conn.commit()
    held = writer.pending_changes()
    conn.close()
    writer.close()
    return held


class _LoopbackHttp:
    """A loopback listener (a :class:`SilentServer`) handing each connection to ``_serve``."""

    def __init__(self) -> None:
        self.silent = SilentServer()
        self.port = self.silent.port
        self.silent.accepted_hook = self._serve  # type: ignore[attr-defined]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.silent.close()


class ScriptedHttpServer(_LoopbackHttp):
    """A loopback HTTP server answering each request line with ``answer(line)``.

    ``answer`` returns the raw response bytes, or ``None`` to hold the connection open
    without ever answering (a hung primary).
    """

    def __init__(self, answer: Callable[[str], bytes | None]) -> None:
        self.answer = answer
        self.lines: list[str] = []
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        def run() -> None:
            data = b""
            with contextlib.suppress(OSError):
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                line = data.split(b"\r\n", 1)[0].decode(errors="replace")
                self.lines.append(line)
                reply = self.answer(line)
                if reply is not None:
                    conn.sendall(reply)
                    conn.close()

        threading.Thread(target=run, daemon=True).start()


def http_reply(status: int, body: bytes = b"") -> bytes:
    return (f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            .encode() + body)


class ReplyDroppingProxy(_LoopbackHttp):
    """A loopback HTTP proxy to a real server that forwards every request but holds back the
    reply to those ``drop(body)`` picks: the primary applies them, the client never hears.
    Other replies are passed on ``delay`` seconds late."""

    def __init__(self, upstream_port: int, drop: Callable[[bytes], bool],
                 delay: float = 0.0) -> None:
        self.upstream_port, self.drop, self.delay = upstream_port, drop, delay
        self.late: list[bytes] = []  # bodies applied upstream whose late reply is not sent yet
        self.dropped = 0  # requests applied upstream whose reply was held back
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _relay(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length:
                body += conn.recv(65536)
            with socket.create_connection(("127.0.0.1", self.upstream_port), 5) as up:
                up.sendall(head + b"\r\n\r\n" + body)
                reply = b""
                while chunk := up.recv(65536):
                    reply += chunk
            if self.drop(body):
                self.dropped += 1
                return  # the connection stays open (kept by the SilentServer), unanswered
            self.late.append(body)
            try:
                time.sleep(self.delay)  # applied upstream, not yet confirmed to the client
                conn.sendall(reply)
            finally:
                self.late.remove(body)
            conn.close()
