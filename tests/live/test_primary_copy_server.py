"""A copy of the primary (a branch, a restored backup) at another URL, on the real tursodb
server: it holds the replica's older pushes, so it must not pass for the replica's own primary
at a new address, nor get its unpushed rows.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from live_support import TursoServer, free_port, primary_rows, tursodb_path

from synctune.live.replica.errors import SyncError
from synctune.live.replica.turso.adapter import TursoReplica

pytestmark = pytest.mark.server


def _commit(replica: TursoReplica, sql: str, push: bool) -> None:
    conn = replica.connect()
    conn.execute(sql)
    conn.commit()
    replica.hand_back(conn)
    if push:
        replica.push(5)


def _branch(server: TursoServer, tmp: Path) -> TursoServer:
    """A second primary started from a copy of ``server``'s database as it is now."""
    server.kill()
    for suffix in ("", "-wal"):
        source = Path(f"{server.db}{suffix}")
        if source.exists():
            shutil.copy(source, tmp / f"branch.db{suffix}")
    server.start()
    return TursoServer(tursodb_path(), tmp / "branch.db", free_port()).start()


def test_a_branch_made_before_the_replicas_last_push_is_not_its_primary(server, tmp_path):
    db = tmp_path / "r.db"
    replica = TursoReplica(db, server.url)
    _commit(replica, "CREATE TABLE t(k TEXT)", push=False)
    _commit(replica, "INSERT INTO t VALUES ('before the branch')", push=True)
    replica.close()
    branch = _branch(server, tmp_path)
    try:
        replica = TursoReplica(db, server.url)
        _commit(replica, "INSERT INTO t VALUES ('after the branch')", push=True)
        _commit(replica, "INSERT INTO t VALUES ('unpushed')", push=False)
        replica.close()
        with pytest.raises(SyncError, match="replica of another primary"):
            TursoReplica(db, branch.url).close()
        assert primary_rows(branch.url, tmp_path, "SELECT k FROM t", "branch-probe.db") == [
            ("before the branch",)]
    finally:
        branch.kill()
    replica = TursoReplica(db, server.url)  # its own primary: the row goes there
    replica.push(5)
    replica.close()
    assert sorted(primary_rows(server.url, tmp_path, "SELECT k FROM t")) == [
        ("after the branch",), ("before the branch",), ("unpushed",)]
