"""Live controller: drive sync strategies against real Turso/libSQL replicas.

The same strategy objects as the simulator, on the real clock: :class:`SyncController` runs one
against a :class:`Replica` (pyturso, libsql, a local file, a remote client; built by
:func:`open_replica`; :class:`FakeReplica` stands in for one in tests), keeps the six shared
metrics and evaluates the three alerts.

Inside, five layers, each importing only from itself and those below it: ``app`` (connections
the app holds), ``replica`` (the seam and its adapters), ``announce`` (hints between replicas),
``control`` (the controller) and ``ops`` (doctor, Prometheus); :mod:`~synctune.live.timing` is
the clock they share (``tests/test_architecture.py`` checks the layers).

The names below load on first use (PEP 562): the CLI's ``--help`` reads constants from
:mod:`synctune.live.replica.urls` without loading the controllers, asyncio and the HTTP stack.
"""

from typing import TYPE_CHECKING

from synctune._lazy_names import lazy_names

if TYPE_CHECKING:
    # what the lazy names below are, for type checkers and IDEs (never imported at run time)
    from synctune.live.app.async_connection import AsyncSyncedConnection
    from synctune.live.app.connection import SyncedConnection
    from synctune.live.app.fork_guard import ForkedProcessError
    from synctune.live.app.worker_slot import NoFreeSlot, WorkerSlot, claim_worker_slot
    from synctune.live.app.write_lock import LocalWriteTimeout, OwnWriteLockHeld
    from synctune.live.control.async_controller import AsyncSyncController
    from synctune.live.control.controller import SyncController
    from synctune.live.control.history import SyncAttempt
    from synctune.live.control.shutdown import StopReport
    from synctune.live.control.status import ControllerStatus
    from synctune.live.replica.base import PullResult, PushResult, Replica
    from synctune.live.replica.errors import SyncError
    from synctune.live.replica.factory import open_replica
    from synctune.live.replica.fake import FakeReplica
    from synctune.live.timing import ManualTimer, Timer

# module -> the public names it defines, imported on first access
_SOURCES = {
    "app.async_connection": ("AsyncSyncedConnection",),
    "app.connection": ("SyncedConnection",),
    "app.fork_guard": ("ForkedProcessError",),
    "app.write_lock": ("LocalWriteTimeout", "OwnWriteLockHeld"),
    "app.worker_slot": ("NoFreeSlot", "WorkerSlot", "claim_worker_slot"),
    "control.async_controller": ("AsyncSyncController",),
    "control.controller": ("SyncController",),
    "control.history": ("SyncAttempt",),
    "control.shutdown": ("StopReport",),
    "control.status": ("ControllerStatus",),
    "replica.base": ("PullResult", "PushResult", "Replica"),
    "replica.errors": ("SyncError",),
    "replica.fake": ("FakeReplica",),
    "replica.factory": ("open_replica",),
    "timing": ("ManualTimer", "Timer"),
}


__all__ = ["AsyncSyncController", "AsyncSyncedConnection", "ControllerStatus", "FakeReplica",
           "ForkedProcessError", "LocalWriteTimeout", "ManualTimer", "NoFreeSlot",
           "OwnWriteLockHeld", "PullResult", "PushResult", "Replica", "StopReport",
           "SyncAttempt", "SyncController", "SyncError", "SyncedConnection", "Timer",
           "WorkerSlot", "claim_worker_slot", "open_replica"]

__getattr__, __dir__ = lazy_names(__name__, _SOURCES, globals(), __all__)
