"""Fixtures that run the real tursodb sync server on loopback, and a primary that never answers.

The server binary comes from ``SYNCTUNE_TURSODB`` (``scripts/test.sh`` exports it). Without it
the server tests fail with a message saying how to install it: CI always has it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from announce_support import RedisServer  # noqa: E402
from live_support import SilentServer, TursoServer, free_port, tursodb_path  # noqa: E402


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TursoServer]:
    srv = TursoServer(tursodb_path(), tmp_path / "primary.db", free_port()).start()
    try:
        yield srv
    finally:
        srv.kill()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    srv = SilentServer()
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture(scope="session")
def _redis_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    srv = RedisServer(tmp_path_factory.mktemp("redis"), free_port(), password="pw-SECRET-1")
    try:
        yield srv.start()
    finally:
        srv.kill()


@pytest.fixture
def redis_server(_redis_session: RedisServer) -> RedisServer:
    """The session's private redis-server (password set), running (restarted if a test
    killed it)."""
    if not _redis_session.running:
        _redis_session.start()
    return _redis_session
