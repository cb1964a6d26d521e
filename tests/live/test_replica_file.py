"""What is at a replica's path, the one-open-per-file guard and the open-path words (no server)."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synctune import InvalidInput
from synctune.live.app import fork_guard
from synctune.live.replica import open_guard, replica_file
from synctune.live.replica.errors import OpenRefused, classify, local_cause
from synctune.live.replica.factory import check_url
from synctune.live.replica.replica_file import inspect, move_aside, prepare, primary_identity
from synctune.policy import FailureKind

URL = "http://127.0.0.1:8080"


def _sqlite(path: Path, tables: int = 2) -> None:
    conn = sqlite3.connect(path)
    for i in range(tables):
        conn.execute(f"CREATE TABLE t{i}(k)")
    conn.commit()
    conn.close()


def _replica(path: Path, url: str = URL) -> None:
    """A file laid out as pyturso leaves a checkpointed replica: a SQLite main file holding its
    change table, and its -info."""
    _sqlite(path, 1)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE turso_cdc(change_id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    path.with_name(path.name + "-info").write_text(json.dumps(
        {"version": "v1", "saved_configuration": {"remote_url": url}}))


def test_nothing_or_an_empty_file_is_safe_to_bootstrap(tmp_path):
    assert inspect(str(tmp_path / "new.db")).kind == "none"
    (tmp_path / "empty.db").touch()
    assert prepare(str(tmp_path / "empty.db"), URL) is None


def test_a_plain_sqlite_file_is_named_with_its_tables(tmp_path):
    db = tmp_path / "dev.db"
    _sqlite(db, 3)
    with pytest.raises(OpenRefused, match=r"dev\.db is a plain SQLite database with 3 tables"
                       ) as info:
        prepare(str(db), URL)
    assert info.value.reason == "plain" and "\n" not in str(info.value)
    assert sorted(os.listdir(tmp_path)) == ["dev.db"]  # reading it wrote nothing beside it


@pytest.mark.parametrize(("content", "reason", "words"), [
    (b"id,name\n1,a\n", "not-database", "not a SQLite database"),
])
def test_a_file_of_another_kind_is_refused(tmp_path, content, reason, words):
    db = tmp_path / "data.db"
    db.write_bytes(content)
    with pytest.raises(OpenRefused, match=words) as info:
        prepare(str(db), URL)
    assert info.value.reason == reason and db.read_bytes() == content


def test_a_device_is_refused_not_opened():
    with pytest.raises(OpenRefused, match="not a regular file"):
        prepare("/dev/null", URL)


def test_a_directory_is_refused_even_when_moving_aside(tmp_path):
    (tmp_path / "d.db").mkdir()
    with pytest.raises(OpenRefused, match="is a directory"):
        prepare(str(tmp_path / "d.db"), URL, "move-aside")
    assert (tmp_path / "d.db").is_dir()


def test_a_write_ahead_log_left_by_another_tool_is_refused(tmp_path):
    (tmp_path / "r.db-wal").write_bytes(b"\x37\x7f\x06\x82" + bytes(60))
    with pytest.raises(OpenRefused, match="write-ahead log left by another tool"):
        prepare(str(tmp_path / "r.db"), URL)


@pytest.mark.parametrize("damage", ["empty", "garbage", "bad page size", "missing main",
                                    "bad wal", "bad info", "another database"])
def test_a_damaged_replica_is_refused_before_anything_rebuilds_it(tmp_path, damage):
    db = tmp_path / "r.db"
    _replica(db)
    if damage == "empty":
        os.truncate(db, 0)
    elif damage == "garbage":
        db.write_bytes(os.urandom(4096))
    elif damage == "bad page size":
        data = bytearray(db.read_bytes())
        data[16:18] = (1000).to_bytes(2, "big")
        db.write_bytes(bytes(data))
    elif damage == "missing main":
        db.unlink()
    elif damage == "another database":
        db.unlink()
        _sqlite(db, 2)  # a plain database copied over the replica's main file
    elif damage == "bad wal":
        (tmp_path / "r.db-wal").write_bytes(os.urandom(64))
    else:
        (tmp_path / "r.db-info").write_text("{not json")
    with pytest.raises(OpenRefused, match=r"r\.db is a damaged replica") as info:
        prepare(str(db), URL)
    assert info.value.reason == "corrupt"


def test_a_replica_a_sqlite_tool_has_open_is_refused(tmp_path):
    db = tmp_path / "r.db"
    _replica(db)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("INSERT INTO t0 VALUES (1)")
    conn.commit()
    try:
        assert (tmp_path / "r.db-shm").exists()
        with pytest.raises(OpenRefused, match="open in a SQLite tool"):
            prepare(str(db), URL)
    finally:
        conn.close()
    assert prepare(str(db), URL) is None  # closed: its writes are in the main file now


def test_another_primary_is_refused_and_new_url_accepts_it(tmp_path):
    db = tmp_path / "r.db"
    _replica(db, "http://127.0.0.1:9999")
    with pytest.raises(OpenRefused, match=r"replica of another primary \(http://127.0.0.1:"
                       r"9999\), not of http://127.0.0.1:8080") as info:
        prepare(str(db), URL)
    assert info.value.reason == "other-primary"
    assert prepare(str(db), "http://127.0.0.1:9999/") is None  # the same primary
    assert prepare(str(db), URL, "new-url") is None
    replica_file.record_primary(str(db), URL)  # done once the replica is open
    assert prepare(str(db), URL) is None
    with pytest.raises(OpenRefused):  # the record follows the new URL
        prepare(str(db), "http://127.0.0.1:9999")


def test_a_primary_that_holds_the_replicas_pushes_is_its_own_at_a_new_url(tmp_path):
    db = tmp_path / "r.db"
    _replica(db, "http://127.0.0.1:9999")
    info = json.loads((tmp_path / "r.db-info").read_text())
    (tmp_path / "r.db-info").write_text(json.dumps(dict(info, client_unique_id="c-1")))
    asked: list[str] = []
    assert prepare(str(db), URL, knows=lambda cid: asked.append(cid) or True) is None
    assert asked == ["c-1"]
    with pytest.raises(OpenRefused, match="has no record that it ever received"):
        prepare(str(db), URL, knows=lambda cid: False)
    with pytest.raises(OpenRefused, match="could not be asked"):
        prepare(str(db), URL, knows=lambda cid: None)


def test_asking_a_primary_that_is_not_there_tells_nothing():
    from live_support import free_port

    from synctune.live.replica.primary_check import last_change

    assert last_change(f"http://127.0.0.1:{free_port()}", "tok", "c-1", timeout=1.0) is None


def test_new_url_never_accepts_a_plain_or_damaged_file(tmp_path):
    _sqlite(tmp_path / "dev.db")
    with pytest.raises(OpenRefused, match="plain SQLite"):
        prepare(str(tmp_path / "dev.db"), URL, "new-url")


def test_move_aside_renames_every_side_file_and_never_overwrites(tmp_path):
    db = tmp_path / "r.db"
    names = ["r.db", "r.db-wal", "r.db-info", "r.db-changes", "r.db-synctune"]
    contents = {}
    for name in names:
        contents[name] = os.urandom(32)
        (tmp_path / name).write_bytes(contents[name])
    first = move_aside(str(db), now=lambda: 0.0)
    assert first == str(tmp_path / "r.db.aside-19700101T000000Z")
    (tmp_path / "r.db").write_bytes(b"again")
    second = move_aside(str(db), now=lambda: 0.0)
    assert second.endswith("-2") and Path(second).read_bytes() == b"again"
    for name in names:
        assert Path(first + name[4:]).read_bytes() == contents[name]
    assert not any(p.name.startswith("r.db") and "aside" not in p.name
                   for p in tmp_path.iterdir())


def test_prepare_refuses_an_unknown_existing_value(tmp_path):
    with pytest.raises(InvalidInput, match="existing must be one of refuse, move-aside, "
                       "new-url; got 'wipe'"):
        prepare(str(tmp_path / "r.db"), URL, "wipe")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files anyway")
def test_a_read_only_folder_is_named(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OpenRefused, match="is not writable"):
            prepare(str(folder / "r.db"), URL)
    finally:
        folder.chmod(0o700)


def test_a_missing_folder_is_named_as_missing_and_nothing_is_made(tmp_path):
    with pytest.raises(OpenRefused, match=r"folder .*missing does not exist") as info:
        prepare(str(tmp_path / "missing" / "r.db"), URL)
    assert info.value.reason == "no-folder" and os.listdir(tmp_path) == []


def test_a_read_only_file_system_is_named_even_for_root(tmp_path):
    import subprocess

    folder = tmp_path / "ro"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)],
                      capture_output=True).returncode:
        pytest.skip("mounting a tmpfs needs root (CAP_SYS_ADMIN)")
    try:
        with pytest.raises(OpenRefused, match="is not writable"):
            prepare(str(folder / "r.db"), URL)
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


SECRET = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=4,
                 max_size=16).map(lambda s: "Zq" + s)


@given(st.sampled_from(["libsql", "https", "turso"]), SECRET, SECRET)
def test_primary_identity_carries_no_credentials_and_reads_libsql_as_https(scheme, user, token):
    url = f"{scheme}://{user}:{token}@DB.Example.org/?authToken={token}#{token}"
    identity = primary_identity(url)
    assert identity == "https://db.example.org:443"
    assert token not in identity and user.lower() not in identity


@given(SECRET)
def test_a_token_in_the_url_query_is_refused_early_and_never_echoed(token):
    with pytest.raises(InvalidInput, match="must not carry a token in its query") as info:
        check_url(f"http://127.0.0.1:8080/?authToken={token}")
    assert token not in str(info.value)


def test_the_turso_adapter_refuses_any_query_before_touching_the_file(tmp_path):
    from synctune.live.replica.turso.adapter import TursoReplica

    with pytest.raises(InvalidInput, match="must not carry a query"):
        TursoReplica(tmp_path / "r.db", "http://127.0.0.1:1/?x=1")
    assert not open_guard.held(str(tmp_path / "r.db")) and os.listdir(tmp_path) == []


@given(SECRET)
def test_the_turso_adapter_refuses_credentials_in_the_url_without_echoing_them(password):
    import tempfile

    from synctune.live.replica.turso.adapter import TursoReplica

    with tempfile.TemporaryDirectory() as folder:
        with pytest.raises(InvalidInput, match="user:password@") as info:
            TursoReplica(os.path.join(folder, "r.db"), f"http://u:{password}@127.0.0.1:1")
        assert password not in str(info.value) and os.listdir(folder) == []


@pytest.mark.parametrize("text", [
    "DatabaseError: database or disk is full", "OSError: [Errno 28] No space left on device",
    # pyturso 0.8.3's pull on a full disk
    "DatabaseError: sync engine operation failed: database error: I/O error (pwrite): no "
    "storage space"])
def test_a_full_disk_is_named_as_such_not_a_network_failure(text):
    cause = local_cause(text)
    assert cause is not None and cause.startswith("local disk full")
    assert classify(OSError(28, "No space left on device")) is FailureKind.OTHER
    assert classify(RuntimeError(text)) is FailureKind.OTHER


def test_one_claim_per_file_across_threads_and_symlinks(tmp_path):
    db = tmp_path / "r.db"
    (tmp_path / "link.db").symlink_to(db)
    won: list[open_guard.Claim] = []
    start = threading.Barrier(8)

    def claim(path: Path) -> None:
        start.wait()
        with contextlib.suppress(OpenRefused):
            won.append(open_guard.Claim(str(path)))

    threads = [threading.Thread(target=claim, args=(db if i % 2 else tmp_path / "link.db",))
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(won) == 1
    won[0].release()
    won[0].release()  # idempotent
    open_guard.Claim(str(db)).release()


def test_a_hard_link_to_a_claimed_file_is_the_same_file(tmp_path):
    # cp -al / rsync --link-dest trees: the main file and its side files under a second name
    db, twin = tmp_path / "r.db", tmp_path / "other" / "r.db"
    db.write_bytes(b"")
    twin.parent.mkdir()
    os.link(db, twin)
    first = open_guard.Claim(str(db))
    try:
        assert open_guard.held(str(twin))
        with pytest.raises(OpenRefused, match="already open"):
            open_guard.Claim(str(twin))
    finally:
        first.release()
    open_guard.Claim(str(twin)).release()


def test_a_forked_child_is_not_held_by_its_parents_claims(tmp_path, monkeypatch):
    db = str(tmp_path / "r.db")
    parent = open_guard.Claim(db)
    try:
        monkeypatch.setattr(fork_guard, "generation", fork_guard.generation + 1)  # the child
        assert not open_guard.held(db)
        child = open_guard.Claim(db)  # the parent's file lock keeps it out across processes
        child.release()
    finally:
        monkeypatch.undo()
        parent.release()
    assert not open_guard.held(db)


def test_a_claim_waits_for_a_replica_closed_mid_sync_but_not_for_an_open_one(tmp_path):
    import time

    db = str(tmp_path / "r.db")
    first = open_guard.Claim(db)
    t0 = time.monotonic()
    with pytest.raises(OpenRefused, match="already open"):
        open_guard.Claim(db, wait=5.0)  # open, not closing: refused at once
    assert time.monotonic() - t0 < 2.0
    first.closing()  # closed while its sync is on the network
    threading.Timer(0.2, first.release).start()
    second = open_guard.Claim(db, wait=5.0)  # waits for that sync to end
    assert time.monotonic() - t0 >= 0.2
    second.release()
