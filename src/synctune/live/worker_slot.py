"""One replica file per worker process, claimed with a lock the kernel frees on exit.

pyturso locks a replica file for one process: a second process (pyturso or sqlite3) cannot open
it. An app served by several worker processes (gunicorn, uvicorn ``--workers``) therefore gives
each worker a replica of its own. Workers come and go, so a worker does not pick its file by pid
(a restarted worker would leave its predecessor's unpushed writes behind): it claims the first
free *slot*, ``app.db`` -> ``app.slot-0.db``, ``app.slot-1.db``, ..., by taking an exclusive
``flock`` on ``app.slot-N.db.lock``. The lock lives as long as the process, so a worker that
dies frees its slot, and the next worker to claim it opens that file and pushes whatever its
predecessor committed but did not push.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass, field
from typing import IO

from synctune.live import fork_guard

DEFAULT_MAX_SLOTS = 64


class NoFreeSlot(RuntimeError):
    """Every slot is held by a live process."""


@dataclass
class WorkerSlot:
    """A claimed slot: ``path`` is this process's replica file while the slot is held.

    Attributes:
        index: slot number (0-based).
        path: the replica file for this slot.
    """

    index: int
    path: str
    _lock_file: IO[bytes] | None = field(default=None, repr=False)
    _born: int = field(default_factory=lambda: fork_guard.generation, repr=False)

    def release(self) -> None:
        """Free the slot (also freed when the process exits); idempotent. In a child forked
        after the claim it only closes the child's copy: the slot stays the parent's."""
        lock, self._lock_file = self._lock_file, None
        if lock is not None:
            # the flock belongs to the open file parent and child share: unlocking it here
            # would free the parent's slot for a second process on the same replica file
            if self._born == fork_guard.generation:
                with contextlib.suppress(OSError):
                    fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()

    def __enter__(self) -> WorkerSlot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def slot_path(path: str | os.PathLike[str], index: int) -> str:
    """The replica file of slot ``index`` for the app database ``path``."""
    root, ext = os.path.splitext(os.fspath(path))
    return f"{root}.slot-{index}{ext or '.db'}"


def claim_worker_slot(path: str | os.PathLike[str], *,
                      max_slots: int = DEFAULT_MAX_SLOTS) -> WorkerSlot:
    """Claim the lowest free slot for this process (no waiting).

    Keep the returned slot for as long as the replica is open: the lock is its open file, so
    a slot that is garbage-collected is free for the next process.

    Args:
        path: the app's database path; slot files are made beside it.
        max_slots: how many slots may exist.

    Raises:
        NoFreeSlot: all ``max_slots`` are held by live processes.
    """
    if isinstance(max_slots, bool) or not isinstance(max_slots, int) or max_slots < 1:
        raise ValueError(f"max_slots must be an integer >= 1, got {max_slots!r}")
    for index in range(max_slots):
        target = slot_path(path, index)
        lock = open(target + ".lock", "ab")  # noqa: SIM115 - held for the slot's lifetime
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        except BaseException:
            lock.close()
            raise
        return WorkerSlot(index, target, lock)
    raise NoFreeSlot(f"all {max_slots} replica slots for {os.fspath(path)!r} are held by "
                     f"live processes; raise max_slots")


def slot_files(path: str | os.PathLike[str], *, max_slots: int = DEFAULT_MAX_SLOTS) -> list[str]:
    """Replica files of the slots that exist on disk (for a final push or inspection)."""
    return [p for p in (slot_path(path, i) for i in range(max_slots)) if os.path.exists(p)]
