"""A full local disk during pushes and pulls, on the real tursodb server (a 1 MB tmpfs: needs
root; skipped otherwise): no row is reported pushed that is not on the primary, none is lost or
doubled once space is back, and every failure names the full disk.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_support import primary_rows

from synctune.live.replica.errors import SyncError
from synctune.live.replica.turso.adapter import TursoReplica
from synctune.policy import FailureKind

pytestmark = pytest.mark.server


@contextlib.contextmanager
def _small_disk(where: Path) -> Iterator[Path]:
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
                      capture_output=True).returncode:
        pytest.skip("mounting a small tmpfs needs root (CAP_SYS_ADMIN)")
    try:
        yield where
    finally:
        # lazily: a replica a failed test left open must not keep the mount
        subprocess.run(["umount", "--lazy", str(where)], check=True)


def _fill(disk: Path) -> None:
    with contextlib.suppress(OSError), open(disk / "filler", "ab", buffering=0) as f:
        while True:
            f.write(b"\0" * 4096)


def _fails_named(step: str, run: object) -> SyncError:
    with pytest.raises(SyncError) as info:
        run()  # type: ignore[operator]
    assert info.value.kind is FailureKind.OTHER, f"{step}: {info.value}"
    assert "local disk full" in str(info.value), f"{step}: {info.value}"
    return info.value


def test_a_full_disk_fails_pushes_and_pulls_by_name_and_loses_or_doubles_nothing(
        server, tmp_path):
    with _small_disk(tmp_path / "disk") as disk:
        replica = TursoReplica(disk / "r.db", server.url)
        conn = replica.connect()
        conn.execute("CREATE TABLE t(k INTEGER, v TEXT)")
        conn.commit()
        replica.push(5)
        for k in range(50):
            conn.execute("INSERT INTO t VALUES (?, ?)", (k, "x" * 100))
            conn.commit()
        _fill(disk)
        for _ in range(2):  # the primary may take a batch; the engine cannot record it
            _fails_named("push", lambda: replica.push(5))
            assert replica.count_unpushed() == 50
        other = TursoReplica(tmp_path / "other.db", server.url)
        other_conn = other.connect()
        for k in range(100, 130):
            other_conn.execute("INSERT INTO t VALUES (?, ?)", (k, "y" * 500))
            other_conn.commit()
        other.push(5)
        other.close()
        _fails_named("pull", lambda: replica.pull(5))
        os.remove(disk / "filler")
        replica.push(5)
        replica.pull(5)
        assert replica.count_unpushed() == 0
        assert conn.execute("SELECT count(*), count(DISTINCT k) FROM t").fetchone() == (80, 80)
        replica.hand_back(conn)
        replica.close()
    assert primary_rows(server.url, tmp_path, "SELECT count(*), count(DISTINCT k) FROM t") == [
        (80, 80)]
