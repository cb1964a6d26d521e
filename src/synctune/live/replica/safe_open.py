"""Open a pyturso engine only on a path that is safe to hand it (see
:mod:`synctune.live.replica.replica_file`), and name the failures an open can meet."""

from __future__ import annotations

import functools
import logging
import os
import threading
import urllib.parse
from collections.abc import Callable

from synctune.live.replica import replica_file
from synctune.live.replica.errors import OpenRefused, SyncError
from synctune.live.replica.turso import _pyturso, stale_copy
from synctune.live.replica.urls import check_url, safe_url
from synctune.policy.errors import InvalidInput

log = logging.getLogger("synctune.live")


def open_engine(path: str, url: str, token: str | None, *, open_timeout: float,
                existing: str, long_poll_timeout_ms: int | None, push_batch: int | None,
                error: Callable[[BaseException], SyncError]) -> tuple[_pyturso.Engine, str | None]:
    """The engine for ``path`` synced with ``url``, and where a file that was not a replica
    of this primary, or was behind its own pushes (a copy, an older backup put back), was
    moved (``None``: nothing moved). Raises :class:`OpenRefused` for a file that is not safe
    to open, ``error(exc)`` for any other failure of the open.

    The caller holds this process's claim on the file (:mod:`synctune.live.replica.open_guard`).
    """
    check_url(url)
    if urllib.parse.urlsplit(url).query:  # pyturso appends its paths after it: a bare 404
        raise InvalidInput(f"url must not carry a query (?...) for the turso adapter; got "
                           f"{safe_url(url)!r}")
    ask = min(open_timeout, 5.0)
    knows = functools.partial(stale_copy.holds_pushes, url, token, path, timeout=ask)
    moved = replica_file.prepare(path, url, existing, knows=knows)
    opened = functools.partial(_engine, path, url, token, open_timeout, long_poll_timeout_ms,
                               push_batch, error)
    had_replica = os.path.exists(path + "-info")
    engine = opened()
    try:
        found = (_behind(engine, path, url, token, min(ask, stale_copy.ASK_TIMEOUT))
                 if had_replica else None)
        if found is not None:
            engine.close()
            moved = _set_aside(path, existing, *found)
            engine = opened()  # bootstraps anew where the stale file was
        replica_file.record_primary(path, url)
    except BaseException:
        engine.close()
        raise
    return engine, moved


def _engine(path: str, url: str, token: str | None, open_timeout: float,
            long_poll_timeout_ms: int | None, push_batch: int | None,
            error: Callable[[BaseException], SyncError]) -> _pyturso.Engine:
    try:
        return _pyturso.Engine(path, url, token, open_timeout, long_poll_timeout_ms, push_batch)
    except _pyturso.EngineShapeError:
        raise
    except Exception as exc:
        if "file is locked by another process" in str(exc).lower():
            raise OpenRefused("in-use", (
                f"{path} is locked by another process that has it open (a replica file serves "
                f"one process: give each worker its own with claim_worker_slot)")) from None
        raise error(exc) from None


def _behind(engine: _pyturso.Engine, path: str, url: str, token: str | None,
            timeout: float) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The file's and the primary's marks when the file is behind its own pushes
    (:mod:`synctune.live.replica.turso.stale_copy`), read before any sync can drop a row."""
    conn = engine.open_connection(True, threading.Lock(), timeout)
    if conn is None:
        return None
    try:
        return stale_copy.behind(path, conn, url, token, timeout)
    finally:
        conn.close()


def _set_aside(path: str, existing: str, mine: tuple[int, int],
               theirs: tuple[int, int]) -> str:
    what = (f"behind its own pushes: the primary holds this replica's changes up to "
            f"generation {theirs[0]} change {theirs[1]}, the file made them only up to "
            f"generation {mine[0]} change {mine[1]} (a copy of a replica, or an older backup "
            f"of one put back); rows committed in it would be dropped as already pushed")
    if existing != "move-aside":
        raise OpenRefused("behind", (
            f"{path} is {what}. Open the replica it was copied from, or pass "
            f"existing='move-aside' (--existing move-aside) to keep it aside and bootstrap "
            f"anew (rows only it holds must then be copied over by hand)"))
    moved = replica_file.move_aside(path)
    log.warning("%s was %s: moved it and its side files aside to %s (nothing deleted); "
                "bootstrapping a fresh replica", path, what, moved)
    return moved
