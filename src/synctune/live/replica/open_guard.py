"""One open replica per database file in a process.

pyturso's file lock works across processes only: two engines on one file in one process both
open, then corrupt each other's state (a Rust panic aborts the process, and rows pushed by both
end up doubled on the primary). So every open claims the file here first, and a second claim in
the same process is refused until the first replica is closed.

A file has many spellings: symlinks and ``..`` resolve to one real path, but a second mount of
its folder (a bind mount, a volume mounted twice) does not, and a hard link is another name
for the same inode. So a claim names the file by its folder's device and inode plus its name,
and also by its own device and inode when it exists; a claim is refused when any of these is
taken.

After ``fork()`` the child's copy of the registry names the parent's files; those claims belong
to the parent (whose file lock then keeps the child out), so a claim counts only in the fork
generation that made it (:mod:`synctune.live.app.fork_guard`).
"""

from __future__ import annotations

import os
import threading

from synctune.live.app import fork_guard
from synctune.live.replica.errors import OpenRefused

_lock = threading.Condition()
#: each key of a claim (see :func:`keys`) -> fork generation of the claim
_claims: dict[str, int] = {}
#: claims whose replica was closed while a sync was still on the network (freed when it ends)
_closing: set[str] = set()


def _after_fork_in_child() -> None:
    # a parent thread may have held the lock at the fork: the child starts with a free one
    global _lock
    _lock = threading.Condition()


os.register_at_fork(after_in_child=_after_fork_in_child)


def key(path: str) -> str:
    """The file a path names, symlinks and ``..`` resolved (the file need not exist)."""
    return os.path.realpath(os.path.abspath(path))


def keys(path: str) -> tuple[str, ...]:
    """Every name this process files a claim on ``path`` under: its folder's ``device:inode``
    and its name (the real path when the folder cannot be read), and the file's own
    ``device:inode`` when it exists. Two spellings of one file share at least one."""
    real = key(path)
    folder, name = os.path.split(real)
    try:
        st = os.stat(folder)
    except OSError:
        return (real,)
    found = [f"dir {st.st_dev}:{st.st_ino}/{name}"]
    try:
        st = os.stat(real)
        found.append(f"file {st.st_dev}:{st.st_ino}")
    except OSError:
        pass  # not made yet: the folder's key alone
    return tuple(found)


class Claim:
    """This process's claim on one database file; :meth:`release` is idempotent.

    A file whose replica was closed while a sync was still on the network is waited for, up
    to ``wait`` seconds (that sync ends by its own deadline); a file whose replica is open is
    refused at once.
    """

    def __init__(self, path: str, wait: float = 0.0) -> None:
        self.keys = keys(path)
        self._generation = fork_guard.generation
        with _lock:
            _lock.wait_for(lambda: not self._taken() or not self._closing_only(), wait)
            if self._taken():
                raise OpenRefused("in-use", (
                    f"{path} is already open as a replica in this process (or was closed "
                    f"while a sync was on the network, until that sync's deadline); use that "
                    f"replica or close it first: two engines on one file corrupt it"))
            for k in self.keys:
                _claims[k] = self._generation
        self._held = True

    def _taken(self) -> bool:
        return any(_claims.get(k) == fork_guard.generation for k in self.keys)

    def _closing_only(self) -> bool:
        """Every key taken here belongs to a replica closed mid-sync."""
        return all(k in _closing for k in self.keys
                   if _claims.get(k) == fork_guard.generation)

    def closing(self) -> None:
        """The replica is closed but its engine still runs a sync: a new claim may wait."""
        with _lock:
            if self._held:
                _closing.update(self.keys)

    def release(self) -> None:
        with _lock:
            if self._held:
                for k in self.keys:
                    if _claims.get(k) == self._generation:
                        del _claims[k]
                        _closing.discard(k)
                _lock.notify_all()
            self._held = False


def held(path: str) -> bool:
    """True while a replica of this process has ``path`` open (under any of its spellings)."""
    with _lock:
        return any(_claims.get(k) == fork_guard.generation for k in keys(path))
