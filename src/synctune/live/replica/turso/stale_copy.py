"""Is this replica file behind its own pushes? A copy of a replica, or an older backup of one
put back, keeps the replica's identity on the primary, and every row it then commits is lost.

pyturso 0.8.3 numbers local changes within a *pull generation*: each pull starts a new one
(recorded locally in ``turso_sync_last_change_id``, change ids in ``turso_cdc`` restarting at
1), and the primary records, per replica (``client_unique_id``), the generation and change id
of the last change it applied from it. It skips every incoming change at or below that mark as
already applied, and a pull drops every local change at or below it as already on the primary.
So a file whose own mark is below the primary's, a copy or backup taken before the replica
pushed more, has its next commits (numbered from its own, lower mark) silently dropped, yet
reported pushed (``tests/live/test_copied_replica_server.py``).

The other way round, a primary whose mark is below a push the file saw confirmed does not hold
that push: at a new URL it is a copy of the replica's primary (a branch, a restored backup)
made before, not its primary at a new address (:func:`holds_pushes`).

A healthy replica's mark is never below the primary's: the primary's mark is the last change
of a push the replica made (one whose answer was lost included, whose changes the file still
holds). Reading both costs one local query and one read-only query to the primary, bounded by
:data:`ASK_TIMEOUT` (every open of an existing replica asks, so a hung primary must not hold an
offline start long); a primary that cannot be asked tells nothing, and the open goes on.
"""

from __future__ import annotations

import logging
from typing import Any

from synctune.live.replica import primary_check
from synctune.live.replica.turso import _pyturso_backlog

log = logging.getLogger("synctune.live")

#: longest an open waits for the primary's mark (s)
ASK_TIMEOUT = 2.0

#: the file's generation (0 before its first pull) and the last change id it made in it
_LOCAL_SQL = ("SELECT (SELECT pull_gen FROM turso_sync_last_change_id WHERE client_id = ?), "
              "(SELECT max(change_id) FROM turso_cdc)")


def _whole(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def local_mark(path: str, conn: Any) -> tuple[str, tuple[int, int]] | None:
    """``(client id, (generation, change id))``: the last change the file at ``path`` made,
    read on ``conn`` (an app connection); ``None`` when the internals are not as expected."""
    meta = _pyturso_backlog.engine_meta(path)
    if meta is None:
        return None
    client = meta.get("client_unique_id")
    if not isinstance(client, str) or not client:
        return None
    try:
        row = conn.execute(_LOCAL_SQL, (client,)).fetchone()
    except Exception:
        try:  # never pulled since its bootstrap: no table of marks yet, generation 0
            row = (0, conn.execute("SELECT max(change_id) FROM turso_cdc").fetchone()[0])
        except Exception:
            return None
    generation, made = _whole(row[0]), _whole(row[1])
    if _whole(meta.get("last_pushed_pull_gen_hint")) == generation:
        made = max(made, _whole(meta.get("last_pushed_change_id_hint")))
    return client, (generation, made)


def behind(path: str, conn: Any, url: str, token: str | None,
           timeout: float) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """``(file's mark, primary's mark)`` when the primary holds changes from this replica's
    identity past the last the file made (a copy, or an older backup put back), else ``None``
    (also when either side cannot tell). ``timeout`` bounds the query to the primary (s)."""
    local = local_mark(path, conn)
    if local is None:
        return None
    client, mine = local
    theirs = primary_check.last_change(url, token, client, timeout)
    if theirs is None:
        log.info("%s: the primary did not say within %g s how far it holds this replica's "
                 "pushes; opened without checking the file is not a copy or an older backup",
                 path, timeout)
    return (mine, theirs) if theirs is not None and theirs > mine else None


def confirmed_mark(path: str) -> tuple[int, int] | None:
    """``(generation, change id)`` of the last push the engine confirmed since its last pull
    (pyturso's hints in ``-info``), ``None`` when none is recorded."""
    meta = _pyturso_backlog.engine_meta(path)
    if meta is None:
        return None
    made = _whole(meta.get("last_pushed_change_id_hint"))
    return (_whole(meta.get("last_pushed_pull_gen_hint")), made) if made > 0 else None


def holds_pushes(url: str, token: str | None, path: str, client_id: str,
                 timeout: float) -> bool | None:
    """True when the primary at ``url`` holds this replica's pushes up to the last the file
    at ``path`` saw confirmed; False when it holds none, or only older ones (a copy of the
    replica's primary); ``None`` when it could not tell within ``timeout`` s."""
    theirs = primary_check.last_change(url, token, client_id, timeout)
    if theirs is None:
        return None
    confirmed = confirmed_mark(path)
    return theirs != (0, 0) and (confirmed is None or theirs >= confirmed)
