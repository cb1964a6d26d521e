"""Tables whose rows several local-first replicas can overwrite on the primary.

With pyturso 0.8.3 and tursodb 0.6.0, a push replays each local insert with its row id. Where an
``INTEGER PRIMARY KEY`` column is that row id, two replicas that each insert "the next id" send
the same key, and the later push silently replaces the earlier row on the primary (measured:
two inserts, one row left). Tables without such a column keep both rows (the primary assigns
row ids of its own). synctune cannot change the engine's replay, so ``doctor`` names the tables
at risk and the docs say how to avoid it: random keys, or one writing replica.
"""

from __future__ import annotations

from typing import Any

#: tables of SQLite and of the sync engine itself, never the app's
_INTERNAL = ("sqlite_", "turso_", "__turso", "libsql_", "_litestream")


def rowid_key_tables(conn: Any) -> list[str]:
    """Names of the app's tables whose ``INTEGER PRIMARY KEY`` aliases the row id (sorted)."""
    names = [str(r[0]) for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()]
    at_risk = []
    for name in names:
        if name.startswith(_INTERNAL):
            continue
        quoted = '"' + name.replace('"', '""') + '"'
        # (cid, name, type, notnull, default, pk): one key column, declared INTEGER
        keys = [r for r in conn.execute(f"PRAGMA table_info({quoted})").fetchall() if r[5]]
        if len(keys) == 1 and str(keys[0][2]).strip().upper() == "INTEGER" \
                and not _without_rowid(conn, name):
            at_risk.append(name)
    return at_risk


def _without_rowid(conn: Any, name: str) -> bool:
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                       (name,)).fetchone()
    return row is not None and "WITHOUT ROWID" in " ".join(str(row[0]).upper().split())


def warning(tables: list[str]) -> str:
    """One line for ``doctor``: which tables, what can happen, what to do."""
    if not tables:
        return "no table keys rows by an INTEGER PRIMARY KEY"
    shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
    return (f"warning: {len(tables)} table(s) key rows by an INTEGER PRIMARY KEY ({shown}): "
            "inserts from several local-first replicas that pick the same id replace each "
            "other on the primary; use random keys (e.g. UUID text) or write from one replica")
