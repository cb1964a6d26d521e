"""Keeping the local file bounded: the engine never checkpoints its write-ahead log by itself.

:meth:`~synctune.live.replica.turso.adapter.TursoReplica.maintain`, called by the controller
between syncs, checkpoints it once it exceeds ``checkpoint_bytes``. Open app reads can make a
checkpoint incomplete; it is then put off to a later call.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from typing import Any

from synctune.live.replica.turso import _pyturso, _pyturso_http
from synctune.live.replica.turso.opening import DEFAULT_OPEN_TIMEOUT


def when_big(engine: _pyturso.Engine, gate: threading.Lock, path: str, limit: int,
             refresh: Callable[[], Any]) -> tuple[bool | None, Exception | None]:
    """Checkpoint the write-ahead log of ``path`` once it exceeds ``limit`` bytes.

    Holds the app's write lock ``gate`` for the checkpoint (local, milliseconds), so it never
    runs inside an app transaction; ``refresh`` re-reads the engine's stats after it. Returns
    ``(None, None)`` when the log is small, ``(True, None)`` when done, and ``(False, failure)``
    when put off: open app reads made it incomplete (``failure``) or the lock was busy
    (``None``).
    """
    try:
        wal = os.path.getsize(path + "-wal")
    except OSError:
        return None, None
    if wal <= limit:
        return None, None
    # the engine first, then the write lock: the order an app open takes them in
    with engine.lock:
        if not gate.acquire(timeout=1.0):
            return False, None
        try:
            with _pyturso_http.deadline(DEFAULT_OPEN_TIMEOUT):
                engine.checkpoint()
            done, failure = True, None
        except Exception as exc:
            done, failure = False, exc
        finally:
            gate.release()
        with contextlib.suppress(Exception):
            refresh()
    return done, failure
