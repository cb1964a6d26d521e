"""One open replica per database file in a process.

pyturso's file lock works across processes only: two engines on one file in one process both
open, then corrupt each other's state (a Rust panic aborts the process, and rows pushed by both
end up doubled on the primary). So every open claims the file's resolved real path here first,
and a second claim in the same process is refused until the first replica is closed.

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
#: real path -> fork generation of the claim
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


class Claim:
    """This process's claim on one database file; :meth:`release` is idempotent.

    A file whose replica was closed while a sync was still on the network is waited for, up
    to ``wait`` seconds (that sync ends by its own deadline); a file whose replica is open is
    refused at once.
    """

    def __init__(self, path: str, wait: float = 0.0) -> None:
        self.key = key(path)
        self._generation = fork_guard.generation
        with _lock:
            _lock.wait_for(lambda: not self._taken() or self.key not in _closing, wait)
            if self._taken():
                raise OpenRefused("in-use", (
                    f"{path} is already open as a replica in this process (or was closed "
                    f"while a sync was on the network, until that sync's deadline); use that "
                    f"replica or close it first: two engines on one file corrupt it"))
            _claims[self.key] = self._generation
        self._held = True

    def _taken(self) -> bool:
        return _claims.get(self.key) == fork_guard.generation

    def closing(self) -> None:
        """The replica is closed but its engine still runs a sync: a new claim may wait."""
        with _lock:
            if self._held:
                _closing.add(self.key)

    def release(self) -> None:
        with _lock:
            if self._held and _claims.get(self.key) == self._generation:
                del _claims[self.key]
                _closing.discard(self.key)
                _lock.notify_all()
            self._held = False


def held(path: str) -> bool:
    """True while a replica of this process has ``path`` open."""
    with _lock:
        return _claims.get(key(path)) == fork_guard.generation
