"""The trace format shared by the simulator (which replays traces) and the live recorder (which
writes them); neither imports the other, so the names live here.

Columns: ``t`` (seconds from the start, non-decreasing), ``node``, ``op``, optionally ``bytes``
(size of a write) and ``changes`` (remote changes a ``pull`` applied).
"""

from __future__ import annotations

#: required columns
COLUMNS = ("t", "node", "op")
#: every column a recorder writes
RECORD_COLUMNS = ("t", "node", "op", "bytes", "changes")
#: ``read`` and ``write`` by the app, ``sync`` an app's manual sync point, ``pull`` a pull seen
#: live with the count of changes it applied (replayed as the primary's writes)
OPS = ("read", "write", "sync", "pull")
