"""The engine's backlog counted without the engine: pyturso 0.8.3 internals, read-only.

pyturso's ``stats()`` counts unpushed changes in one engine step that holds the interpreter lock
for the whole count, 0.18-0.31 s for 300k unpushed rows here (more with a long write-ahead log),
so every Python thread, an asyncio loop included, stops that long. The same figure is two cheap
reads:

- the last change the engine confirmed pushed, ``last_pushed_change_id_hint`` in its metadata
  file ``<db>-info`` (JSON, replaced whole by a rename, so never read half-written); and
- its change log ``turso_cdc``: the rows after that change, commit markers (``change_type``
  2) aside, counted by an app connection (13-40 ms for 300k rows: a range of the primary key).

That is the engine's own count after local inserts, updates, deletes, schema changes and partial
pushes (``tests/live/test_backlog_push.py``), or a few more: after a pull the engine leaves out
changes to its own tables, this count does not. So it may overstate, never understate, and it
is used only for backlogs of :data:`QUICK_FROM` changes or more, where the engine's count is
slow and a few more make no difference; below that the engine counts (exactly, in a few ms).
Anything unexpected (no file, no key, a failed query) gives ``None``: the engine counts.
"""

from __future__ import annotations

import json
from typing import Any

#: backlogs (row changes) from which the count is taken here, not by the engine
QUICK_FROM = 20_000
#: the engine's unpushed row changes after a given change id
_COUNT_SQL = "SELECT count(*) FROM turso_cdc WHERE change_id > ? AND change_type != 2"


def engine_meta(path: str) -> dict[str, Any] | None:
    """The engine's metadata for the replica at ``path``, or ``None`` if it cannot be read."""
    try:
        with open(path + "-info", "rb") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def count_unpushed(path: str, conn: Any) -> int | None:
    """Row changes the engine has not confirmed pushed, counted on ``conn`` (an app
    connection with no transaction open); ``None`` below :data:`QUICK_FROM` or when the
    internals are not as expected (then ask the engine).

    Read with a push running on another thread, it may use the change the engine confirmed
    before that push: an overstatement, never an understatement.
    """
    meta = engine_meta(path)
    pushed = _whole(meta.get("last_pushed_change_id_hint")) if meta is not None else None
    if pushed is None:
        return None
    try:
        row = conn.execute(_COUNT_SQL, (pushed,)).fetchone()
    except Exception:
        return None
    count = _whole(row[0]) if row else None
    return count if count is not None and count >= QUICK_FROM else None


def last_pull(path: str) -> tuple[bool, float | None]:
    """``(known, unix time s)`` of the engine's last successful pull (``None``: never pulled);
    ``known`` is false when the metadata cannot be read (ask the engine)."""
    meta = engine_meta(path)
    if meta is None or "last_pull_unix_time" not in meta:
        return False, None
    value = meta["last_pull_unix_time"]
    if value is None:
        return True, None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return True, float(value)
    return False, None
