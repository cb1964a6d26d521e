"""Tables whose INTEGER PRIMARY KEY lets inserts from several local-first replicas replace each
other on the primary: the engine's behaviour on the real server, and doctor naming them."""

from __future__ import annotations

import sqlite3

import pytest
from live_support import primary_rows

from synctune.live.ops.doctor import run_checks
from synctune.live.replica import row_ids
from synctune.live.replica.turso.adapter import TursoReplica


def test_only_tables_whose_integer_primary_key_is_the_row_id_are_named():
    conn = sqlite3.connect(":memory:")
    conn.executescript("""
        CREATE TABLE alias(id INTEGER PRIMARY KEY, v TEXT);
        CREATE TABLE plain(v TEXT);
        CREATE TABLE text_key(id TEXT PRIMARY KEY);
        CREATE TABLE int_key_no_rowid(id INTEGER PRIMARY KEY, v TEXT) WITHOUT ROWID;
        CREATE TABLE pair(a INTEGER, b INTEGER, PRIMARY KEY (a, b));
        CREATE TABLE bigint_key(id BIGINT PRIMARY KEY);
        CREATE TABLE turso_cdc(id INTEGER PRIMARY KEY);
    """)
    conn.execute('CREATE TABLE "odd ""name"""(id integer primary key autoincrement)')
    assert row_ids.rowid_key_tables(conn) == ["alias", 'odd "name"']
    line = row_ids.warning(["alias"])
    assert line.startswith("warning: 1 table(s)") and "alias" in line and "\n" not in line
    assert row_ids.warning([]) == "no table keys rows by an INTEGER PRIMARY KEY"


def _insert_from_two_replicas(tmp, url: str, table: str, schema: str) -> list[tuple]:
    a = TursoReplica(tmp / f"a-{table}.db", url)
    try:
        ca = a.connect()
        ca.execute(schema)
        ca.commit()
        a.push(5.0)
        b = TursoReplica(tmp / f"b-{table}.db", url)
        try:
            cb = b.connect()
            ca.execute(f"INSERT INTO {table}(v) VALUES ('from a')")
            ca.commit()
            cb.execute(f"INSERT INTO {table}(v) VALUES ('from b')")
            cb.commit()
            a.push(5.0)
            b.push(5.0)
        finally:
            b.close()
    finally:
        a.close()
    return primary_rows(url, tmp, f"SELECT v FROM {table} ORDER BY v", name=f"p-{table}.db")


@pytest.mark.server
def test_the_engine_replaces_a_row_keyed_by_the_row_id_and_doctor_names_the_table(server,
                                                                                   tmp_path):
    # the hazard doctor warns of, as the engine behaves today: if a later pyturso keeps both
    # rows, this test says so and the warning can go
    keyed = _insert_from_two_replicas(tmp_path, server.url, "keyed",
                                      "CREATE TABLE keyed(id INTEGER PRIMARY KEY, v TEXT)")
    plain = _insert_from_two_replicas(tmp_path, server.url, "plain", "CREATE TABLE plain(v TEXT)")
    assert plain == [("from a",), ("from b",)]
    assert keyed == [("from b",)]
    checks = {c.name: c for c in run_checks(str(tmp_path / "d.db"), server.url, None,
                                            "production")}
    assert checks["row ids"].ok
    assert checks["row ids"].detail.startswith("warning: 1 table(s)")
    assert "keyed" in checks["row ids"].detail and "plain" not in checks["row ids"].detail
