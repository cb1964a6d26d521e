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
from collections.abc import Iterator
from typing import Any

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


class Guarded:
    """A raw DB-API connection or cursor that refuses use in a forked child.

    ``replica.connect()`` hands the app the engine's own connection; kept across a ``fork()``,
    its commits in the child would be acknowledged and never pushed. Every attribute, call and
    ``with`` block first checks the process (cursors and results it returns are wrapped the
    same way); in the child ``close()`` only lets go of it, leaving the parent's connection.
    """

    __slots__ = ("_born", "_raw")

    def __init__(self, raw: Any, born: int | None = None) -> None:
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "_born", generation if born is None else born)

    def _check(self) -> Any:
        if self._born != generation:
            raise refuse("this connection")
        return self._raw

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._check(), name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            self._check()  # again: a method fetched before a fork may be called after it
            result = value(*args, **kwargs)
            # a cursor (or the connection itself) handed back stays guarded
            if hasattr(result, "execute") and hasattr(result, "fetchone"):
                return Guarded(result, self._born)
            return result

        return call

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._check(), name, value)

    def close(self) -> None:
        """Close it; in a forked child only let go of it (the parent's stays open)."""
        if self._born == generation:
            self._raw.close()

    def __enter__(self) -> Guarded:
        self._check().__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._check().__exit__(*exc)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._check())

    def __repr__(self) -> str:
        return f"<fork-guarded {self._raw!r}>"


def guarded(raw: Any) -> Guarded:
    """``raw`` wrapped so that a forked child cannot use it (see :class:`Guarded`)."""
    return Guarded(raw)


def unwrap(conn: Any) -> Any:
    """The raw connection inside ``conn`` (``conn`` itself when it is not wrapped)."""
    return conn._raw if isinstance(conn, Guarded) else conn
