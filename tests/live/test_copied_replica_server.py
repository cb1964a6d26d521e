"""A replica file copied, or an older backup of it put back, on the real tursodb server.

Such a file keeps the replica's identity on the primary, whose record of the last change it
applied from that identity is ahead of the file: every row the file then commits was dropped
as already applied, yet reported pushed. An open must refuse it before any sync, and a healthy
replica (pushed, pulled, a push whose answer was lost) must still open.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from live_support import ReplyDroppingProxy, primary_rows

from synctune.live.replica.errors import OpenRefused, SyncError
from synctune.live.replica.replica_file import SIDE_FILES
from synctune.live.replica.turso.adapter import TursoReplica

pytestmark = pytest.mark.server


def _copy(src: Path, dst: Path) -> None:
    """``src`` and every file beside it over ``dst`` (a backup taken, or put back)."""
    for suffix in ("", *SIDE_FILES):
        if os.path.exists(f"{dst}{suffix}"):
            os.remove(f"{dst}{suffix}")
        if os.path.exists(f"{src}{suffix}"):
            shutil.copy(f"{src}{suffix}", f"{dst}{suffix}")


def _digest(path: Path) -> str:
    return "".join(hashlib.sha256(open(f"{path}{s}", "rb").read()).hexdigest()
                   for s in ("", *SIDE_FILES) if os.path.exists(f"{path}{s}"))


def _commit(replica: TursoReplica, *keys: str, push: bool = True) -> None:
    conn = replica.connect()
    for k in keys:
        conn.execute("INSERT INTO t VALUES (?)", (k,))
        conn.commit()
    replica.hand_back(conn)
    if push:
        replica.push(5)


def _on_primary(url: str, tmp: Path, name: str) -> list[str]:
    return sorted(r[0] for r in primary_rows(url, tmp, "SELECT k FROM t", name))


def _started(db: Path, url: str) -> TursoReplica:
    replica = TursoReplica(db, url)
    conn = replica.connect()
    conn.execute("CREATE TABLE t(k TEXT)")
    conn.commit()
    replica.hand_back(conn)
    _commit(replica, "a0")
    return replica


@pytest.mark.parametrize("pull_between", [False, True])
def test_an_older_backup_put_back_is_refused_before_a_row_is_lost(server, tmp_path,
                                                                   pull_between):
    db, backup = tmp_path / "r.db", tmp_path / "backup.db"
    replica = _started(db, server.url)
    replica.close()
    _copy(db, backup)  # last night's backup
    replica = TursoReplica(db, server.url)
    if pull_between:
        replica.pull(5)  # a new pull generation on the primary's record
    _commit(replica, "a1", "a2")
    replica.close()
    _copy(backup, db)  # the disk is restored from it
    before = _digest(db)
    with pytest.raises(OpenRefused, match="behind its own pushes") as info:
        TursoReplica(db, server.url)
    assert info.value.reason == "behind" and _digest(db) == before  # untouched
    replica = TursoReplica(db, server.url, existing="move-aside")
    assert replica.moved_aside is not None and _digest(Path(replica.moved_aside)) == before
    replica.pull(5)
    _commit(replica, "a3")
    replica.close()
    assert _on_primary(server.url, tmp_path, "probe.db") == ["a0", "a1", "a2", "a3"]


def test_a_copy_opened_after_its_original_pushed_again_is_refused(server, tmp_path):
    original, copy = tmp_path / "r.db", tmp_path / "seeded-worker.db"
    replica = _started(original, server.url)
    replica.close()
    _copy(original, copy)  # a warm replica copied to seed another worker
    replica = TursoReplica(original, server.url)
    _commit(replica, "a1")
    with pytest.raises(OpenRefused, match="a copy of a replica"):
        TursoReplica(copy, server.url)
    _commit(replica, "a2")
    replica.close()
    assert _on_primary(server.url, tmp_path, "probe.db") == ["a0", "a1", "a2"]


def test_a_healthy_replica_reopens_through_pushes_pulls_and_a_lost_answer(server, tmp_path):
    db = tmp_path / "r.db"
    replica = _started(db, server.url)
    for step in range(3):  # pushed; pulled with a row unpushed; pushed again
        _commit(replica, f"b{step}", push=step != 1)
        if step == 1:
            replica.pull(5)
        replica.close()
        replica = TursoReplica(db, server.url)
    conn = replica.connect()
    conn.executemany("INSERT INTO t VALUES (?)", [(f"c{i}",) for i in range(2500)])
    conn.commit()  # one transaction: one batch, whose answer is lost
    replica.hand_back(conn)
    replica.close()
    proxy = ReplyDroppingProxy(server.port, lambda body: b"BEGIN IMMEDIATE" in body[:256])
    try:
        replica = TursoReplica(db, proxy.url)
        with pytest.raises(SyncError):
            replica.push(1.0)  # applied upstream, the answer never comes
        assert proxy.dropped == 1
        replica.close()
    finally:
        proxy.close()
    replica = TursoReplica(db, server.url)  # the primary is ahead of the engine, not the file
    replica.push(5)
    assert replica.count_unpushed() == 0
    replica.close()
    rows = _on_primary(server.url, tmp_path, "probe.db")
    assert len(rows) == len(set(rows)) == 2504 and "b1" in rows
