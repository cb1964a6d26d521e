"""A replica's engine, connections and sync thread belong to the process that opened them.

After ``fork()`` the child holds copies of the parent's engine and connections but not its
sync thread: a commit through them is acknowledged, never pushed, and lost from the shared
file (pyturso keeps its WAL state in the process that opened it). So a connection, a pool or
a sync loop notes the fork generation it was made in, and in a forked child refuses to run
anything (:class:`ForkedProcessError`) before it touches the engine or takes a lock a parent
thread may have held at the fork. Each worker process opens its own replica
(:func:`synctune.live.claim_worker_slot`).
"""

from __future__ import annotations

import os

#: how many forks lie between the first process and this one (0 in the first process)
generation = 0


def _forked() -> None:
    global generation
    generation += 1


os.register_at_fork(after_in_child=_forked)


class ForkedProcessError(RuntimeError):
    """A replica, connection or controller opened before a ``fork()`` was used in the child.

    Nothing was run. Open the replica (and its controller) in each worker process after it
    forks; :func:`synctune.live.claim_worker_slot` gives each worker a file of its own.
    """


def refuse(what: str) -> ForkedProcessError:
    """The error for ``what`` (e.g. "this connection") used in a forked child."""
    return ForkedProcessError(
        f"{what} was opened in a parent process before fork(); nothing was run. Open the "
        f"replica in each worker process after it forks (claim_worker_slot)")
