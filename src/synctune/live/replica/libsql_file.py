"""What lies at a libsql replica's path, told before libsql gets the file.

libsql keeps an embedded replica's replication state beside the database, in
``PATH-client_wal_index`` (frame replication) or ``PATH-info`` (its newer sync protocol).
Neither names the primary, and on a mismatch libsql re-replicates over what it holds (or, with
local-first writes, may send them to whatever URL it was given). So which primary a replica
belongs to is known only from synctune's record (``PATH-synctune``, as for pyturso replicas),
written when synctune opens it; libsql's protocol has no read-only way to ask a primary about a
replica. A path is handed to libsql when it holds nothing, or a replica recorded as this
primary's; anything else is refused in one line naming the file, unless the caller says it is
this primary's (``existing="new-url"``) or asks to move it aside.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from synctune.live.replica import replica_file
from synctune.live.replica.replica_file import FileState, byte_size, header_fault, wal_fault

#: libsql's replication state beside the database: either marks a replica
MARKERS = ("-client_wal_index", "-info")


def inspect(path: str) -> FileState:
    """What is at ``path`` for libsql, reading only (see :class:`FileState`; ``unrecorded``: a
    replica synctune has no record of)."""
    if os.path.isdir(path):
        return FileState("directory", "a directory")
    if os.path.exists(path) and not os.path.isfile(path):
        return FileState("not-database", "not a regular file (a device, pipe or socket)")
    size = byte_size(path) or 0
    wal = byte_size(path + "-wal") or 0
    if size == 0 and wal == 0:
        return FileState("none")  # nothing held: a first open that never finished, or nothing
    if not any(os.path.exists(path + m) for m in MARKERS):
        if size == 0:
            return FileState("leftover", f"an empty database beside a write-ahead log left by "
                                         f"another tool ({path}-wal, {wal} bytes)")
        return replica_file.not_a_replica(path, size)
    # a replica's pages may all be in its WAL until a checkpoint: an empty main file is sound
    fault = (header_fault(path, size) if size else None) or wal_fault(path)
    if fault is not None:
        return FileState("corrupt", f"a damaged libsql replica: {fault}")
    primary = replica_file.recorded_by_synctune(path)
    if primary is None:
        return FileState("unrecorded", "a libsql replica")
    return FileState("replica", "a libsql replica", primary)


def prepare(path: str, url: str, existing: str = "refuse",
            now: Callable[[], float] = time.time) -> str | None:
    """Make ``path`` safe to hand to libsql for primary ``url`` (see
    :func:`synctune.live.replica.replica_file.prepare`); returns where a file that was not
    this primary's replica went (``None`` when nothing moved)."""
    return replica_file.prepare(path, url, existing, now, inspect_path=inspect)
