"""Opening a pyturso replica: this process's claim on the file, the engine on a path safe to
hand it, and the app connections opened from it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from synctune.live.app.write_lock import (
    DEFAULT_BUSY_TIMEOUT,
    LocalWriteTimeout,
    OwnWriteLockHeld,
    held_by_this_thread,
)
from synctune.live.replica import open_guard, safe_open
from synctune.live.replica.errors import SyncError
from synctune.live.replica.turso import _pyturso
from synctune.policy.errors import InvalidInput

#: seconds allowed for opening (a bootstrap from the primary when the file is empty)
DEFAULT_OPEN_TIMEOUT = 10.0


def check_long_poll(value: int | None) -> int | None:
    """``value`` if it is a long-poll timeout (a positive integer of ms) or ``None``, else
    :class:`InvalidInput` naming it."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value <= 0):
        raise InvalidInput(f"long_poll_timeout_ms must be a positive integer or None, "
                           f"got {value!r}")
    return value


def claim_and_open(path: str, url: str, token: str | None, *, open_timeout: float,
                   existing: str, long_poll_timeout_ms: int | None, push_batch: int | None,
                   error: Callable[[BaseException], SyncError],
                   ) -> tuple[open_guard.Claim, _pyturso.Engine, str | None]:
    """This process's claim on ``path``, the engine opened on it (see
    :func:`~synctune.live.replica.safe_open.open_engine`) and where a file that was not a
    replica of this primary was moved. A failed open releases the claim."""
    claim = open_guard.Claim(path, wait=open_timeout)
    try:
        engine, moved = safe_open.open_engine(
            path, url, token, open_timeout=open_timeout, existing=existing,
            long_poll_timeout_ms=long_poll_timeout_ms, push_batch=push_batch, error=error)
    except BaseException:
        claim.release()
        raise
    # a replica dropped unclosed frees its file for a new open once its engine is garbage
    engine.when_gone(claim.release)
    return claim, engine, moved


def open_connection(engine: _pyturso.Engine, gate: threading.Lock, wait: bool) -> Any | None:
    """A new app connection on ``engine``, or ``None`` when ``wait`` is false and it would
    have to wait for the write lock."""
    if held_by_this_thread(gate):  # the engine refuses an open while a write is open
        raise OwnWriteLockHeld(
            "opening a connection needs the write lock, which this thread's open write "
            "transaction holds; commit or roll it back first, or use its connection; nothing "
            "was run")
    # the app's opens (wait) take their turn with its writers; the sync thread's top-ups
    # (no wait) give up quickly and try again before the next sync
    conn = engine.open_connection(wait, gate, DEFAULT_BUSY_TIMEOUT if wait else 0.05)
    if conn is None and wait:
        raise LocalWriteTimeout(
            f"opening a connection waited for the local write lock for more than "
            f"{DEFAULT_BUSY_TIMEOUT:g} s (a write transaction held it); nothing was run")
    return conn
