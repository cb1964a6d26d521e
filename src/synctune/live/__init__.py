"""Live controller: drive sync strategies against real Turso/libSQL replicas.

The same strategy objects as the simulator, on the real clock: :class:`SyncController` runs one
against a :class:`Replica` (pyturso, libsql, a local file, a remote client; built by
:func:`open_replica`), keeps the six shared metrics and evaluates the three alerts.

The names below load on first use (PEP 562): the CLI's ``--help`` reads a constant from
:mod:`synctune.live.factory` without loading the controllers, asyncio and the HTTP stack.
"""

from typing import TYPE_CHECKING

from synctune._lazy_names import lazy_names

if TYPE_CHECKING:
    # what the lazy names below are, for type checkers and IDEs (never imported at run time)
    from synctune.live.async_connection import AsyncSyncedConnection
    from synctune.live.async_controller import AsyncSyncController
    from synctune.live.connection import LocalWriteTimeout, OwnWriteLockHeld, SyncedConnection
    from synctune.live.controller import SyncController
    from synctune.live.fork_guard import ForkedProcessError
    from synctune.live.history import SyncAttempt
    from synctune.live.replica import PullResult, PushResult, Replica, SyncError
    from synctune.live.shutdown import StopReport
    from synctune.live.status import ControllerStatus
    from synctune.live.timing import ManualTimer, Timer
    from synctune.live.worker_slot import NoFreeSlot, WorkerSlot, claim_worker_slot

# module -> the public names it defines, imported on first access
_SOURCES = {
    "async_connection": ("AsyncSyncedConnection",),
    "async_controller": ("AsyncSyncController",),
    "connection": ("LocalWriteTimeout", "OwnWriteLockHeld", "SyncedConnection"),
    "controller": ("SyncController",),
    "fork_guard": ("ForkedProcessError",),
    "history": ("SyncAttempt",),
    "replica": ("PullResult", "PushResult", "Replica", "SyncError"),
    "shutdown": ("StopReport",),
    "status": ("ControllerStatus",),
    "timing": ("ManualTimer", "Timer"),
    "worker_slot": ("NoFreeSlot", "WorkerSlot", "claim_worker_slot"),
}


__all__ = ["AsyncSyncController", "AsyncSyncedConnection", "ControllerStatus",
           "ForkedProcessError", "LocalWriteTimeout", "ManualTimer", "NoFreeSlot",
           "OwnWriteLockHeld", "PullResult", "PushResult", "Replica", "StopReport",
           "SyncAttempt", "SyncController", "SyncError", "SyncedConnection", "Timer",
           "WorkerSlot", "claim_worker_slot"]

__getattr__, __dir__ = lazy_names(__name__, _SOURCES, globals(), __all__)
