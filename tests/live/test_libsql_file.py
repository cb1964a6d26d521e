"""The libsql adapter's open guard: what it hands libsql, refuses or moves aside (no server:
the guard runs before libsql sees the file, and libsql's worker starts only at the first pull).
"""

from __future__ import annotations

import gc
import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synctune.live.app.connection_pool import ReplicaClosed
from synctune.live.replica import libsql_file, open_guard
from synctune.live.replica.errors import OpenRefused
from synctune.live.replica.factory import open_replica
from synctune.live.replica.libsql import LibsqlReplica
from synctune.live.replica.replica_file import RECORD, primary_identity

URL = "http://127.0.0.1:9"  # never contacted: every test ends before a pull
OTHER = "http://10.0.0.2:8080"
TOKEN = "libsql-SECRET-tok"


def _sqlite(path: Path, rows: int = 3) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t(k)")
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(rows)])
    conn.commit()
    conn.close()


def _libsql_replica(path: Path, recorded: str | None = URL, marker: str = "-client_wal_index"
                    ) -> None:
    """Laid out as libsql leaves an embedded replica: a SQLite file and its replication state,
    with synctune's record of the primary (``None``: made outside synctune)."""
    _sqlite(path)
    Path(f"{path}{marker}").write_bytes(os.urandom(40))
    if recorded is not None:
        Path(f"{path}{RECORD}").write_text(f'{{"primary": "{primary_identity(recorded)}"}}')


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.iterdir() if p.is_file()}


def _refused(path: Path, reason: str, url: str = URL) -> OpenRefused:
    before = _snapshot(path.parent)
    with pytest.raises(OpenRefused) as err:
        LibsqlReplica(path, url, auth_token=TOKEN)
    assert err.value.reason == reason
    message = str(err.value)
    assert str(path) in message and "\n" not in message and TOKEN not in message
    assert _snapshot(path.parent) == before  # nothing written, renamed or deleted
    return err.value


def test_a_plain_sqlite_file_is_refused_and_left_as_it_was(tmp_path):
    _sqlite(tmp_path / "app.db")
    assert "plain SQLite database with 1 table" in str(_refused(tmp_path / "app.db", "plain"))


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    (tmp_path / "notes.db").write_bytes(b"dear diary " * 100)
    _refused(tmp_path / "notes.db", "not-database")


def test_a_replica_recorded_for_another_primary_is_refused_and_new_url_adopts_it(tmp_path):
    path = tmp_path / "r.db"
    _libsql_replica(path, recorded=OTHER)
    assert primary_identity(OTHER) in str(_refused(path, "other-primary"))
    data = path.read_bytes()
    replica = LibsqlReplica(path, URL, existing="new-url")
    assert replica.moved_aside is None and path.read_bytes() == data
    assert libsql_file.inspect(str(path)).primary == primary_identity(URL)  # the record follows
    replica.close()
    LibsqlReplica(path, URL).close()  # and it opens as this primary's from now on


def test_a_replica_made_outside_synctune_needs_to_be_named_this_primarys(tmp_path):
    path = tmp_path / "r.db"
    _libsql_replica(path, recorded=None, marker="-info")
    assert "existing='new-url'" in str(_refused(path, "unrecorded"))
    LibsqlReplica(path, URL, existing="new-url")
    assert libsql_file.inspect(str(path)).kind == "replica"


def test_a_replica_recorded_as_this_primarys_opens_untouched(tmp_path):
    path = tmp_path / "r.db"
    _libsql_replica(path, recorded=f"{URL}/")  # the same primary, spelled differently
    before = _snapshot(tmp_path)
    replica = LibsqlReplica(path, URL, auth_token=TOKEN)
    assert replica.moved_aside is None and _snapshot(tmp_path) == before
    assert TOKEN not in repr(replica)


def test_nothing_there_or_a_first_open_that_never_finished_is_free(tmp_path):
    LibsqlReplica(tmp_path / "new.db", URL)
    assert libsql_file.inspect(str(tmp_path / "new.db")).kind == "none"
    assert (tmp_path / f"new.db{RECORD}").exists()
    (tmp_path / "half.db").write_bytes(b"")
    (tmp_path / "half.db-client_wal_index").write_bytes(b"")
    LibsqlReplica(tmp_path / "half.db", OTHER)


_WAL = b"\x37\x7f\x06\x82" + b"\0" * 60  # a WAL header, no frames


@pytest.mark.parametrize("damage", ["main", "wal"])
def test_a_damaged_replica_is_refused(tmp_path, damage):
    path = tmp_path / "r.db"
    _libsql_replica(path)
    if damage == "main":
        path.write_bytes(b"\0" * 4096)
    else:
        Path(f"{path}-wal").write_bytes(b"garbage" * 10)
    _refused(path, "corrupt")


def test_a_replica_with_its_pages_in_its_wal_opens_and_a_stray_wal_is_refused(tmp_path):
    path = tmp_path / "r.db"
    _libsql_replica(path)
    path.write_bytes(b"")  # not checkpointed yet: every page in the WAL
    Path(f"{path}-wal").write_bytes(_WAL)
    LibsqlReplica(path, URL).close()
    stray = tmp_path / "s.db"
    stray.write_bytes(b"")
    Path(f"{stray}-wal").write_bytes(_WAL)
    _refused(stray, "leftover")


def test_move_aside_keeps_every_file_and_frees_the_path(tmp_path):
    path = tmp_path / "r.db"
    _libsql_replica(path, recorded=OTHER)
    Path(f"{path}-wal").write_bytes(b"")
    before = _snapshot(tmp_path)
    replica = open_replica(path, URL, adapter="libsql", existing="move-aside")
    assert isinstance(replica, LibsqlReplica) and replica.moved_aside is not None
    moved = Path(replica.moved_aside)
    for suffix in ("", "-client_wal_index", "-wal", RECORD):
        name = f"r.db{suffix}"
        assert _snapshot(tmp_path)[moved.name + suffix] == before[name]
        assert not (tmp_path / name).exists() or suffix == RECORD  # the new record only
    assert libsql_file.inspect(str(path)).kind == "none"


def test_the_factory_passes_refusal_through(tmp_path):
    _sqlite(tmp_path / "app.db")
    with pytest.raises(OpenRefused):
        open_replica(tmp_path / "app.db", URL, adapter="libsql")


_MAIN = st.sampled_from(["absent", "empty", "plain", "garbage"])
_RECORD = st.sampled_from([None, URL, OTHER, "junk"])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(main=_MAIN, markers=st.sets(st.sampled_from(libsql_file.MARKERS)), record=_RECORD,
       wal=st.sampled_from(["absent", "empty", "garbage", "valid"]))
def test_refuse_never_changes_a_byte_and_opens_only_what_is_this_primarys(
        tmp_path_factory, main, markers, record, wal):
    folder = tmp_path_factory.mktemp("f")
    path = folder / "db"
    if main == "plain":
        _sqlite(path)
    elif main != "absent":
        path.write_bytes(b"" if main == "empty" else os.urandom(1000))
    for m in markers:
        Path(f"{path}{m}").write_bytes(os.urandom(16))
    if wal != "absent":
        content = {"empty": b"", "garbage": os.urandom(64), "valid": _WAL}[wal]
        Path(f"{path}-wal").write_bytes(content)
    if record is not None:
        text = "{" if record == "junk" else f'{{"primary": "{primary_identity(record)}"}}'
        Path(f"{path}{RECORD}").write_text(text)
    before = _snapshot(folder)
    holds = main in ("plain", "garbage") or wal in ("garbage", "valid")
    try:
        LibsqlReplica(path, URL)
    except OpenRefused:
        assert _snapshot(folder) == before
        assert holds  # refused only a path that holds something
        return
    after = _snapshot(folder)
    assert {k: v for k, v in after.items() if k != f"db{RECORD}"} == {
        k: v for k, v in before.items() if k != f"db{RECORD}"}
    # opened: nothing there, or a replica recorded as this primary's
    assert not holds or (markers and record == URL and main != "garbage" and wal != "garbage")


def test_run_with_the_libsql_adapter_refuses_in_one_line_and_moves_aside_on_request(tmp_path):
    db = tmp_path / "dev.db"
    _sqlite(db, rows=50)
    data = db.read_bytes()

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "synctune", "run", "--adapter", "libsql", "--db", str(db),
             "--url", URL, "--freshness", "1", "--duration", "0.5", *extra],
            capture_output=True, text=True, timeout=60)

    refused = run()
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "plain SQLite database with 1 table" in refused.stderr
    assert db.read_bytes() == data and sorted(p.name for p in tmp_path.iterdir()) == ["dev.db"]
    moved = run("--existing", "move-aside")
    assert "moved it and its side files aside" in moved.stderr, moved.stderr
    aside = [p for p in tmp_path.iterdir() if ".aside-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes() == data


def test_one_syncing_replica_per_file_in_a_process_until_closed_or_dropped(tmp_path):
    path = tmp_path / "r.db"
    first = LibsqlReplica(path, URL)
    with pytest.raises(OpenRefused) as err:
        LibsqlReplica(tmp_path / "." / "r.db", URL)  # the same file by another spelling
    assert err.value.reason == "in-use"
    first.close()
    with pytest.raises(ReplicaClosed):
        first.pull(1)  # a closed replica never syncs its file again
    second = LibsqlReplica(path, URL)
    del second
    gc.collect()
    LibsqlReplica(path, URL).close()  # a dropped replica frees its file
    assert not open_guard.held(str(path))
