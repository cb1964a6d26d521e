"""One replica file per worker process, claimed with a lock the kernel frees on exit.

pyturso locks a replica file for one process: a second process (pyturso or sqlite3) cannot open
it. An app served by several worker processes (gunicorn, uvicorn ``--workers``) therefore gives
each worker a replica of its own. Workers come and go, so a worker does not pick its file by pid
(a restarted worker would leave its predecessor's unpushed writes behind): it claims the first
free *slot*, ``app.db`` -> ``app.slot-0.db``, ``app.slot-1.db``, ..., by taking an exclusive
POSIX record lock (``fcntl`` ``F_SETLK``) on ``app.slot-N.db.lock``. The lock lives as long as
the process, so a worker that dies frees its slot, and the next worker to claim it opens that
file and pushes whatever its predecessor committed but did not push.

Why a POSIX lock and not ``flock``: an ``flock`` belongs to the open file, which a forked child
shares; a helper process the worker forked (a ``multiprocessing`` pool, a subprocess not yet
exec'd) kept the dead worker's slot until the helper exited, and the dead worker's rows waited
unpushed. A POSIX lock belongs to the process: a child never holds it, and the kernel frees it
when the process that took it dies, however it dies. Such a lock is also freed when the process
closes *any* descriptor of that file, and never conflicts within one process, so this module
keeps the slots this process holds in a table and never opens a held lock file a second time.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import weakref
from dataclasses import dataclass, field

from synctune.live.app import fork_guard

DEFAULT_MAX_SLOTS = 64


class NoFreeSlot(RuntimeError):
    """Every slot is held by a live process."""


# the lock files this process holds, by (device, inode): a second descriptor on one of them,
# closed, would free its POSIX lock. A forked child holds none of its parent's locks.
_held: dict[tuple[int, int], int] = {}
_held_lock = threading.Lock()


def _forked() -> None:
    global _held_lock
    _held.clear()  # the child's copies of the descriptors stay open: closing one is harmless
    _held_lock = threading.Lock()  # a parent thread may have held it at the fork


os.register_at_fork(after_in_child=_forked)


def _free(key: tuple[int, int], fd: int, born: int) -> None:
    """Unlock and close a slot's lock file (in the process that took it; idempotent)."""
    if born != fork_guard.generation:
        return  # a child's copy: the lock is the parent's, and unlocking here does nothing
    with _held_lock:
        if _held.get(key) != fd:
            return
        del _held[key]
        with contextlib.suppress(OSError):
            os.close(fd)  # closing the descriptor frees the POSIX lock


@dataclass
class WorkerSlot:
    """A claimed slot: ``path`` is this process's replica file while the slot is held.

    Attributes:
        index: slot number (0-based).
        path: the replica file for this slot.
    """

    index: int
    path: str
    _release: weakref.finalize | None = field(default=None, repr=False)

    def release(self) -> None:
        """Free the slot (also freed when the process exits, or when the slot is garbage-
        collected); idempotent. In a child forked after the claim it does nothing: the slot
        stays the parent's."""
        if self._release is not None:
            self._release()

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
        with _held_lock:
            claimed = _try_lock(target + ".lock")
        if claimed is not None:
            slot = WorkerSlot(index, target)
            slot._release = weakref.finalize(slot, _free, *claimed, fork_guard.generation)
            return slot
    raise NoFreeSlot(f"all {max_slots} replica slots for {os.fspath(path)!r} are held by "
                     f"live processes; raise max_slots")


def _try_lock(lock_path: str) -> tuple[tuple[int, int], int] | None:
    """Lock ``lock_path`` for this process: its (device, inode) and descriptor, or ``None``
    when a process (this one included) holds it. Call holding ``_held_lock``."""
    with contextlib.suppress(FileNotFoundError):
        st = os.stat(lock_path)
        if (st.st_dev, st.st_ino) in _held:  # ours: opening it again would risk our lock
            return None
    # close-on-exec (os.open's default): an exec'd child never even has the descriptor
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        st = os.fstat(fd)
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):  # held by another process (EAGAIN, EACCES)
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    key = (st.st_dev, st.st_ino)
    _held[key] = fd
    return key, fd


def slot_files(path: str | os.PathLike[str], *, max_slots: int = DEFAULT_MAX_SLOTS) -> list[str]:
    """Replica files of the slots that exist on disk (for a final push or inspection)."""
    return [p for p in (slot_path(path, i) for i in range(max_slots)) if os.path.exists(p)]
