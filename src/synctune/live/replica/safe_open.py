"""Open a pyturso engine only on a path that is safe to hand it (see
:mod:`synctune.live.replica.replica_file`), and name the failures an open can meet."""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Callable

from synctune.live.replica import primary_check, replica_file
from synctune.live.replica.errors import OpenRefused, SyncError
from synctune.live.replica.turso import _pyturso
from synctune.live.replica.urls import check_url, safe_url
from synctune.policy.errors import InvalidInput


def open_engine(path: str, url: str, token: str | None, *, open_timeout: float,
                existing: str, long_poll_timeout_ms: int | None, push_batch: int | None,
                error: Callable[[BaseException], SyncError]) -> tuple[_pyturso.Engine, str | None]:
    """The engine for ``path`` synced with ``url``, and where a file that was not a replica
    of this primary was moved (``None``: nothing moved). Raises :class:`OpenRefused` for a
    file that is not safe to open, ``error(exc)`` for any other failure of the open.

    The caller holds this process's claim on the file (:mod:`synctune.live.replica.open_guard`).
    """
    check_url(url)
    if urllib.parse.urlsplit(url).query:  # pyturso appends its paths after it: a bare 404
        raise InvalidInput(f"url must not carry a query (?...) for the turso adapter; got "
                           f"{safe_url(url)!r}")
    knows = functools.partial(primary_check.knows_replica, url, token,
                              timeout=min(open_timeout, 5.0))
    moved = replica_file.prepare(path, url, existing, knows=knows)
    try:
        engine = _pyturso.Engine(path, url, token, open_timeout, long_poll_timeout_ms,
                                 push_batch)
    except _pyturso.EngineShapeError:
        raise
    except Exception as exc:
        if "file is locked by another process" in str(exc).lower():
            raise OpenRefused("in-use", (
                f"{path} is locked by another process that has it open (a replica file serves "
                f"one process: give each worker its own with claim_worker_slot)")) from None
        raise error(exc) from None
    try:
        replica_file.record_primary(path, url)
    except BaseException:
        engine.close()
        raise
    return engine, moved
