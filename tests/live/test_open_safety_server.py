"""Opening a replica is safe, on the real tursodb server (issue 16, items 1 to 4).

Each test would fail on a pyturso open that bootstraps over whatever it finds: a plain SQLite
file, another primary's replica, a damaged replica, or a file this process already has open.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from live_support import TursoServer, free_port, hold_local_rows, primary_rows, tursodb_path

from synctune.live.replica.errors import SyncError
from synctune.live.replica.factory import open_replica
from synctune.live.replica.turso.adapter import TursoReplica


def _synctune(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "synctune", *args], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, PYTHONUNBUFFERED="1"))


def _plain_db(path: Path, rows: int = 1000) -> str:
    """The app's development database: 3 tables, ``rows`` rows; returns its digest."""
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);"
                       "CREATE TABLE orders(id INTEGER); CREATE TABLE notes(body TEXT);")
    conn.executemany("INSERT INTO users(name) VALUES (?)", [(f"u{i}",) for i in range(rows)])
    conn.commit()
    conn.close()
    return _digest(path)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _user_rows(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM users").fetchone()[0])
    finally:
        conn.close()


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name))


def test_a_plain_sqlite_file_is_refused_by_open_doctor_and_run_and_left_untouched(
        server, tmp_path):
    db = tmp_path / "dev.db"
    digest = _plain_db(db)
    with pytest.raises(SyncError, match=r"dev\.db is a plain SQLite database with 3 tables"):
        open_replica(db, server.url)
    with pytest.raises(SyncError, match="plain SQLite database"):
        TursoReplica(db, server.url)
    doctor = _synctune("doctor", "--db", str(db), "--url", server.url, "--timeout", "3")
    assert doctor.returncode == 1, doctor.stdout
    assert "FAIL  open replica" in doctor.stdout and "3 tables" in doctor.stdout
    run = _synctune("run", "--db", str(db), "--url", server.url, "--freshness", "1",
                    "--duration", "1")
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and "plain SQLite database with 3 tables" in run.stderr
    assert _digest(db) == digest and _user_rows(db) == 1000
    assert _siblings(db) == ["dev.db"]  # no -info, -wal or -changes written beside it


def test_move_aside_keeps_the_plain_file_whole_and_bootstraps_a_fresh_replica(server, tmp_path):
    db = tmp_path / "dev.db"
    digest = _plain_db(db)
    replica = open_replica(db, server.url, existing="move-aside")
    try:
        assert replica.moved_aside is not None  # type: ignore[attr-defined]
        aside = Path(replica.moved_aside)  # type: ignore[attr-defined]
        conn = replica.connect()
        conn.execute("CREATE TABLE t(k INTEGER)")
        conn.commit()
        replica.hand_back(conn)
        replica.push(5)
    finally:
        replica.close()
    assert _digest(aside) == digest and _user_rows(aside) == 1000
    assert aside.name.startswith("dev.db.aside-")
    assert primary_rows(server.url, tmp_path, "SELECT name FROM sqlite_master WHERE name='t'")


def test_run_and_doctor_move_aside_say_where_the_file_went(server, tmp_path):
    db = tmp_path / "dev.db"
    digest = _plain_db(db)
    run = _synctune("run", "--db", str(db), "--url", server.url, "--freshness", "1",
                    "--duration", "0.5", "--existing", "move-aside")
    assert run.returncode == 0, run.stderr
    moved = [line for line in run.stdout.splitlines() if "moved aside to" in line]
    assert len(moved) == 1 and "dev.db was not a replica of this primary" in moved[0]
    aside = Path(moved[0].rsplit("moved aside to ", 1)[1])
    assert _digest(aside) == digest
    (tmp_path / "dev2.db").write_bytes(aside.read_bytes())
    doctor = _synctune("doctor", "--db", str(tmp_path / "dev2.db"), "--url", server.url,
                       "--timeout", "3", "--existing", "move-aside")
    assert doctor.returncode == 0, doctor.stdout
    assert "PASS  open replica" in doctor.stdout and "moved aside to" in doctor.stdout


def test_a_replica_of_another_primary_is_refused_and_its_row_reaches_its_own(server, tmp_path):
    other = TursoServer(tursodb_path(), tmp_path / "b.db", free_port()).start()
    try:
        db = tmp_path / "a-replica.db"
        assert hold_local_rows(db, server.url, 1) == 1
        before = _siblings(db)
        with pytest.raises(SyncError, match="replica of another primary"):
            TursoReplica(db, other.url)
        doctor = _synctune("doctor", "--db", str(db), "--url", other.url, "--timeout", "3")
        assert doctor.returncode == 1 and "replica of another primary" in doctor.stdout
        assert primary_rows(other.url, tmp_path, "SELECT name FROM sqlite_master "
                            "WHERE name = 't'", name="b-probe.db") == []
        assert _siblings(db) == before
        replica = TursoReplica(db, server.url)  # its own primary: the row goes there
        try:
            assert replica.pending_changes() == 1
            replica.push(5)
        finally:
            replica.close()
        assert primary_rows(server.url, tmp_path, "SELECT k FROM t") == [(0,)]
    finally:
        other.kill()


def test_the_same_primary_at_a_new_url_is_recognised_by_the_pushes_it_holds(server, tmp_path):
    from live_support import ReplyDroppingProxy

    pushed, fresh = tmp_path / "pushed.db", tmp_path / "fresh.db"
    assert hold_local_rows(pushed, server.url, 2) == 2  # its first push reached the primary
    TursoReplica(fresh, server.url).close()  # never pushed: nothing on the primary knows it
    proxy = ReplyDroppingProxy(server.port, lambda body: False)
    try:
        replica = TursoReplica(pushed, proxy.url)  # a proxy in front: the same primary
        try:
            replica.push(5)
        finally:
            replica.close()
        with pytest.raises(SyncError, match="has no record that it ever received"):
            TursoReplica(fresh, proxy.url)
        TursoReplica(fresh, proxy.url, existing="new-url").close()  # said explicitly
        TursoReplica(fresh, proxy.url).close()  # and recorded
    finally:
        proxy.close()
    assert primary_rows(server.url, tmp_path, "SELECT k FROM t ORDER BY k") == [(0,), (1,)]


def test_a_second_open_of_one_file_in_one_process_is_refused_until_the_first_closes(
        server, tmp_path):
    db = tmp_path / "r.db"
    first = TursoReplica(db, server.url)
    try:
        with pytest.raises(SyncError, match="already open as a replica in this process"):
            TursoReplica(db, server.url)
        (tmp_path / "link.db").symlink_to(db)
        with pytest.raises(SyncError, match="already open"):
            open_replica(tmp_path / "link.db", server.url)
    finally:
        first.close()
    second = TursoReplica(db, server.url)  # released by close()
    second.close()


def test_a_second_mount_of_the_folder_is_the_same_file_not_a_second_engine(server, tmp_path):
    # a volume mounted at two paths: the real paths differ, the file is one
    (tmp_path / "data").mkdir()
    (tmp_path / "again").mkdir()
    if subprocess.run(["mount", "--bind", str(tmp_path / "data"), str(tmp_path / "again")],
                      capture_output=True).returncode:
        pytest.skip("bind mounts need root (CAP_SYS_ADMIN)")
    try:
        first = TursoReplica(tmp_path / "data" / "r.db", server.url)
        try:
            with pytest.raises(SyncError, match="already open as a replica in this process"):
                TursoReplica(tmp_path / "again" / "r.db", server.url).close()
        finally:
            first.close()
        TursoReplica(tmp_path / "again" / "r.db", server.url).close()  # released by close()
    finally:
        subprocess.run(["umount", str(tmp_path / "again")], check=True)


def test_threads_racing_to_open_one_file_get_exactly_one_replica(server, tmp_path):
    db = tmp_path / "r.db"
    TursoReplica(db, server.url).close()  # bootstrapped once, so the race is on opening
    opened: list[TursoReplica] = []
    refused: list[BaseException] = []
    start = threading.Barrier(6)

    def race() -> None:
        start.wait()
        try:
            opened.append(TursoReplica(db, server.url))
        except SyncError as exc:
            refused.append(exc)

    threads = [threading.Thread(target=race) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for replica in opened:
        replica.close()
    assert len(opened) == 1 and len(refused) == 5


@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_a_damaged_replica_is_refused_then_moved_aside_with_its_unpushed_changes(
        server, tmp_path, damage):
    db = tmp_path / "r.db"
    assert hold_local_rows(db, server.url, 1) == 1
    if damage == "truncated":
        os.truncate(db, 0)
    else:
        db.write_bytes(os.urandom(db.stat().st_size))
    wal = (tmp_path / "r.db-wal").read_bytes()
    with pytest.raises(SyncError, match=r"r\.db is a damaged replica"):
        TursoReplica(db, server.url)
    doctor = _synctune("doctor", "--db", str(db), "--url", server.url, "--timeout", "3")
    assert doctor.returncode == 1 and "damaged replica" in doctor.stdout
    run = _synctune("run", "--db", str(db), "--url", server.url, "--freshness", "1",
                    "--duration", "1")
    assert run.returncode == 1 and "damaged replica" in run.stderr
    assert (tmp_path / "r.db-wal").read_bytes() == wal  # nothing rebuilt over it
    replica = TursoReplica(db, server.url, existing="move-aside")
    try:
        aside = replica.moved_aside
        assert aside is not None
        assert Path(aside + "-wal").read_bytes() == wal  # the unpushed change, kept
        assert Path(aside + "-info").exists()
    finally:
        replica.close()


def test_a_checkpointed_replica_overwritten_by_another_database_is_refused(server, tmp_path):
    db = tmp_path / "r.db"
    assert hold_local_rows(db, server.url, 3) == 3
    replica = TursoReplica(db, server.url, checkpoint_bytes=0)
    replica.maintain()  # the WAL folded into the main file: the main file is everything
    replica.close()
    assert (tmp_path / "r.db-wal").stat().st_size == 0
    db.unlink()
    digest = _plain_db(db, rows=5)  # another database copied over it
    before = _siblings(db)
    with pytest.raises(SyncError, match="damaged replica: its database file holds none of"):
        TursoReplica(db, server.url)
    assert _digest(db) == digest and _siblings(db) == before


def test_close_releases_the_file_lock_at_once_and_closed_connections_refuse(server, tmp_path):
    db = tmp_path / "r.db"
    replica = TursoReplica(db, server.url)
    raw = replica.connect()
    app = replica.connection()
    raw.execute("CREATE TABLE t(k INTEGER)")
    raw.commit()
    replica.close()
    other = subprocess.run(
        [sys.executable, "-c", "import sys; from synctune.live.replica.turso.adapter import "
         "TursoReplica; TursoReplica(sys.argv[1], sys.argv[2]).close(); print('opened')",
         str(db), server.url], capture_output=True, text=True, timeout=60)
    assert other.stdout.strip() == "opened", other.stderr[-300:]
    for conn in (raw, app):
        with pytest.raises(Exception, match="is closed"):
            conn.execute("INSERT INTO t VALUES (1)")
            conn.commit()
    reopened = TursoReplica(db, server.url)
    try:
        assert reopened.connect().execute("SELECT count(*) FROM t").fetchone()[0] == 0
    finally:
        reopened.close()


def test_a_file_open_in_another_process_is_refused_in_one_line(server, tmp_path):
    db = tmp_path / "r.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from synctune.live.replica.turso.adapter import "
         "TursoReplica; r = TursoReplica(sys.argv[1], sys.argv[2]); print('open', flush=True);"
         " sys.stdin.read()", str(db), server.url],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(SyncError, match="locked by another process that has it open") as caught:
            TursoReplica(db, server.url)
        assert "\n" not in str(caught.value)
    finally:
        holder.kill()
        holder.wait(10)


def test_a_forked_child_neither_closes_the_parents_replica_nor_opens_its_file(server, tmp_path):
    db = tmp_path / "r.db"
    replica = TursoReplica(db, server.url)
    try:
        conn = replica.connect()
        conn.execute("CREATE TABLE t(k INTEGER)")
        conn.commit()
        replica.hand_back(conn)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report in one byte, never return into pytest
            code = b"?"
            try:
                replica.close()  # the parent's: left alone
                try:
                    TursoReplica(db, server.url)
                    code = b"o"  # opened: two processes on one file
                except SyncError as exc:
                    code = b"r" if "locked by another process" in str(exc) else b"e"
            finally:
                os.write(write, code)
                os._exit(0)
        os.close(write)
        assert os.read(read, 1) == b"r"
        os.waitpid(pid, 0)
        os.close(read)
        conn = replica.connect()  # the parent goes on
        conn.execute("INSERT INTO t VALUES (1)")
        conn.commit()
        replica.hand_back(conn)
        replica.push(5)
    finally:
        replica.close()
    assert primary_rows(server.url, tmp_path, "SELECT k FROM t") == [(1,)]


def test_reopening_right_after_closing_mid_push_waits_for_that_push_then_opens(
        server, tmp_path):
    from live_support import SilentServer, wait_for

    db = tmp_path / "r.db"
    assert hold_local_rows(db, server.url, 2) == 2
    silent = SilentServer()
    try:
        hung = TursoReplica(db, silent.url, existing="new-url")
        asked = len(silent.accepted)  # the open's question to the primary, never answered
        failed: list[SyncError] = []

        def push() -> None:
            try:
                hung.push(1.5)
            except SyncError as exc:
                failed.append(exc)

        pushing = threading.Thread(target=push)
        pushing.start()
        assert wait_for(lambda: len(silent.accepted) > asked, 5)  # the push is on the wire
        hung.close()  # the push still holds the engine: released when it ends
        again = TursoReplica(db, server.url, existing="new-url")  # waits, then opens
        pushing.join(5)
        try:
            assert not pushing.is_alive() and len(failed) == 1
            assert again.pending_changes() == 2
            again.push(5)
        finally:
            again.close()
    finally:
        silent.close()
    assert primary_rows(server.url, tmp_path, "SELECT k FROM t ORDER BY k") == [(0,), (1,)]


def test_a_replica_dropped_unclosed_frees_its_file_once_it_is_garbage(server, tmp_path):
    import gc

    db = tmp_path / "r.db"
    dropped = TursoReplica(db, server.url)
    raw = dropped.connect()
    raw.execute("CREATE TABLE t(k INTEGER)")
    raw.commit()
    del dropped
    gc.collect()
    again = TursoReplica(db, server.url)  # neither refused nor a second engine on the file
    try:
        with pytest.raises(Exception, match="is closed"):
            raw.execute("INSERT INTO t VALUES (1)")  # cut off with its engine
        assert again.connect().execute("SELECT count(*) FROM t").fetchone()[0] == 0
    finally:
        again.close()
