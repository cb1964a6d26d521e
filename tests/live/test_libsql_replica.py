"""LibsqlReplica: local mode, and failure mapping against real loopback sockets.

tursodb's sync server speaks pyturso's protocol, not libsql's replication protocol, so a
successful libsql sync cannot be exercised here; everything around it is.
"""

from __future__ import annotations

import time

import pytest
from live_support import ScriptedHttpServer, SilentServer, free_port, http_reply

from synctune.live.replica.errors import SyncError
from synctune.live.replica.libsql import LibsqlReplica
from synctune.policy import FailureKind

TOKEN = "libsql-SECRET-tok"


def test_local_mode_is_a_plain_file_with_nothing_to_sync(tmp_path):
    replica = LibsqlReplica(tmp_path / "local.db")
    assert not replica.syncs
    conn = replica.connect()
    conn.execute("CREATE TABLE t(x)")
    conn.execute("INSERT INTO t VALUES (42)")
    conn.commit()
    assert replica.connect().execute("SELECT x FROM t").fetchall() == [(42,)]
    assert replica.pull(1).changes == 0 and replica.push(1).changes == 0
    assert replica.integrity_check() == "ok"
    assert replica.local_db_size() > 0


def test_refused_connection_is_a_network_failure_without_the_token(tmp_path):
    replica = LibsqlReplica(tmp_path / "r.db", f"http://127.0.0.1:{free_port()}",
                            auth_token=TOKEN)
    with pytest.raises(SyncError) as err:
        replica.pull(2)
    assert err.value.kind is FailureKind.NETWORK
    assert TOKEN not in str(err.value) and TOKEN not in repr(replica)


@pytest.mark.parametrize(("status", "kind"), [(401, FailureKind.AUTH), (403, FailureKind.AUTH),
                                              (503, FailureKind.SERVER)])
def test_http_status_of_the_primary_maps_to_a_failure_kind(tmp_path, status, kind):
    server = ScriptedHttpServer(lambda line: http_reply(status))
    try:
        replica = LibsqlReplica(tmp_path / "r.db", server.url, auth_token=TOKEN)
        with pytest.raises(SyncError) as err:
            replica.pull(2)
        assert err.value.kind is kind
        assert TOKEN not in str(err.value)
    finally:
        server.close()


def test_silent_primary_times_out(tmp_path):
    silent = SilentServer()
    try:
        replica = LibsqlReplica(tmp_path / "r.db", silent.url)
        t0 = time.monotonic()
        with pytest.raises(SyncError) as err:
            replica.pull(0.4)
        assert err.value.kind is FailureKind.TIMEOUT
        assert 0.35 <= time.monotonic() - t0 < 1.5
    finally:
        silent.close()


def test_a_primary_that_hangs_inside_libsql_is_cut_off_and_this_process_stays_live(tmp_path):
    # the probe gets an answer, then libsql's own requests hang: libsql would hold the GIL,
    # so only the child process can be stuck; it is killed at the deadline
    server = ScriptedHttpServer(lambda line: http_reply(200) if line.startswith("GET / ")
                                else None)
    replica = LibsqlReplica(tmp_path / "r.db", server.url, auth_token=TOKEN)
    try:
        t0 = time.monotonic()
        with pytest.raises(SyncError) as err:
            replica.pull(1.5)
        took = time.monotonic() - t0
        assert err.value.kind is FailureKind.TIMEOUT
        assert 1.4 <= took < 3.5
        assert any(not line.startswith("GET / ") for line in server.lines)  # libsql did call
        assert replica._proc is None  # the stuck worker was killed
    finally:
        replica.close()
        server.close()


@pytest.mark.server
def test_tursodb_does_not_speak_libsqls_protocol(server, tmp_path):
    replica = LibsqlReplica(tmp_path / "r.db", server.url)
    try:
        with pytest.raises(SyncError) as err:
            replica.pull(5)
        assert err.value.kind is FailureKind.OTHER
        assert "404" in str(err.value)
    finally:
        replica.close()


@pytest.mark.parametrize(("offline", "at_risk"), [(False, 0), (True, 3)])
def test_delegated_writes_are_seen_but_not_counted_as_unpushed(tmp_path, offline, at_risk):
    from synctune.live import SyncController
    from synctune.policy import Manual

    replica = LibsqlReplica(tmp_path / "r.db", f"http://127.0.0.1:{free_port()}",
                            offline=offline)
    assert replica.writes_delegated is not offline
    ctl = SyncController(replica, Manual()).start()
    for _ in range(3):
        ctl.notify_write()
    assert ctl.status().unpushed_writes == at_risk
    assert ctl.strategy.oldest_unsynced_write is not None
    ctl.stop(0.2)
    replica.close()
