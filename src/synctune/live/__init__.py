"""Live controller: drive sync strategies against real Turso/libSQL replicas.

The same strategy objects as the simulator, on the real clock: :class:`SyncController` runs one
against a :class:`Replica` (pyturso, libsql, a local file, a remote client; built by
:func:`open_replica`), keeps the six shared metrics and evaluates the three alerts.
"""

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

__all__ = ["AsyncSyncController", "AsyncSyncedConnection", "ControllerStatus",
           "ForkedProcessError", "LocalWriteTimeout", "ManualTimer", "NoFreeSlot",
           "OwnWriteLockHeld", "PullResult", "PushResult", "Replica", "StopReport",
           "SyncAttempt", "SyncController", "SyncError", "SyncedConnection", "Timer",
           "WorkerSlot", "claim_worker_slot"]
