"""Every use of pyturso's private internals, in one place, checked when a replica opens.

pyturso 0.8.3 (``turso.sync``) gives one connection with ``pull``/``push``; what synctune needs
is finer, and only reachable through internals:

- **No network wait for the app.** The engine runs one operation at a time, so opening a
  connection or reading stats while a pull hangs waits for it. App connections are therefore
  opened only while no operation is in flight (:meth:`Engine.open_connection`), and stats are
  cached. App connections get no ``extra_io`` hook: pyturso's hook drains the engine's shared
  I/O queue, so an app statement could otherwise pick up the sync thread's HTTP request and run
  it itself, without a deadline.
- **Pull in two steps.** ``wait_changes`` (network, no local lock) then ``apply_changes``
  (local only, and refused while an app write transaction is open), so the replica can hold the
  app's write lock for the local step alone.
- **Deadlines.** pyturso calls ``urllib.request.urlopen(request)`` with no timeout. The name
  ``urllib`` inside ``turso.lib_sync`` (and nowhere else) is rebound to a stand-in whose
  ``urlopen`` bounds every connect and read by a per-thread deadline (:func:`deadline`); a
  thread without one gets pyturso's own behaviour. No ``socket.setdefaulttimeout``.
- **Pushes in batches.** The engine is opened with ``push_operations_threshold``
  (:data:`PUSH_BATCH_OPERATIONS`), so a push goes as HTTP batches of whole transactions, each
  acknowledged on its own (see :mod:`synctune.live.replica.turso.push_meter`); the same
  stand-in counts them and holds back a batch that could not finish by the deadline.
- **Closing frees the file.** pyturso's ``Connection.close`` keeps the native connection (and
  the file lock) alive; closing an engine swaps each app connection's native ``_conn`` for a
  stand-in that refuses, so the lock goes at once (:meth:`Engine.close`).

:func:`check` verifies the shape of all of this and fails with one clear message when an
installed pyturso differs.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import inspect
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from synctune.live.app.busy import retry_busy
from synctune.live.app.connection_pool import ReplicaClosed
from synctune.live.replica.turso._pyturso_http import deadline, install, metering
from synctune.live.replica.turso.push_meter import PushMeter, TimedOp

log = logging.getLogger("synctune.live")

#: the pyturso release these internals were read from and tested against
TESTED_VERSION = "0.8.3"
#: row changes per push batch (pyturso's ``push_operations_threshold``): a batch is sealed at
#: the first commit after this many. Building one held the interpreter lock ~27 ms here
#: (``benchmarks/bench_backlog.py``); one unbatched push of 100k rows held it 2.8 s
PUSH_BATCH_OPERATIONS = 1000


class EngineShapeError(RuntimeError):
    """The installed pyturso does not have the internals synctune drives."""


_checked: bool = False
_check_lock = threading.Lock()


def check() -> None:
    """Verify pyturso's internals once per process; raise :class:`EngineShapeError` if changed."""
    global _checked
    if _checked:
        return
    with _check_lock:
        if _checked:
            return
        import turso.lib as lib
        import turso.lib_sync as lib_sync

        missing = [name for name in ("_run_op", "ConnectionSync", "urllib", "connect_sync")
                   if not hasattr(lib_sync, name)]
        missing += [f"PyTursoSyncDatabase.{m}" for m in (
            "connect", "wait_changes", "apply_changes", "push_changes", "checkpoint", "stats",
            "take_io_item") if not hasattr(lib_sync.PyTursoSyncDatabase, m)]
        if "push_operations_threshold" not in inspect.signature(lib_sync.connect_sync).parameters:
            missing.append("connect_sync(push_operations_threshold=...)")
        if "extra_io" not in inspect.signature(lib.Connection).parameters:
            missing.append("Connection(extra_io=...)")
        try:
            if "self._conn" not in inspect.getsource(lib.Connection.__init__):
                missing.append("Connection._conn")
        except (AttributeError, OSError, TypeError):
            missing.append("Connection.__init__")
        try:
            if "urllib.request.urlopen(" not in inspect.getsource(lib_sync._process_http_item):
                missing.append("_process_http_item calling urllib.request.urlopen")
        except (AttributeError, OSError, TypeError):
            missing.append("_process_http_item")
        version = _version()
        if missing:
            raise EngineShapeError(
                f"pyturso {version} lacks what synctune drives ({', '.join(missing)}); "
                f"install pyturso=={TESTED_VERSION}")
        if version != TESTED_VERSION:
            log.warning("pyturso %s: synctune was tested with %s; the internals it uses look "
                        "the same", version, TESTED_VERSION)
        _checked = True


def _version() -> str:
    try:
        return importlib.metadata.version("pyturso")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class Engine:
    """One pyturso sync database: its operations, run one at a time.

    Operations that may need I/O (pull, push, checkpoint) run under :attr:`lock`; the app side
    only ever *tries* that lock (:meth:`open_connection`, :meth:`try_stats`) so it never waits
    behind the network.
    """

    def __init__(self, path: str, url: str, token: str | None, open_timeout: float,
                 long_poll_timeout_ms: int | None = None,
                 push_batch: int | None = PUSH_BATCH_OPERATIONS) -> None:
        check()
        install()
        import turso.sync

        self.lock = threading.Lock()
        self._base: Any
        with deadline(open_timeout):
            self._base = turso.sync.connect(path, url, auth_token=token, client_name="synctune",
                                            long_poll_timeout_ms=long_poll_timeout_ms,
                                            push_operations_threshold=push_batch)
        self._sync: Any = self._base._sync
        self._ctx: Any = self._base._http_ctx
        self._path = path
        #: every app connection made, so that close() can cut them off the engine
        self._made: weakref.WeakSet[Any] = weakref.WeakSet()
        # once nothing holds this engine (its replica dropped unclosed), its connections are
        # cut off, so nothing keeps the file, then the calls given to when_gone() run
        self._gone_hook: list[Callable[[], None]] = []
        weakref.finalize(self, _orphaned, self._made, path, self._gone_hook)

    def _run(self, op: Any) -> Any:
        import turso.lib_sync as lib_sync

        return lib_sync._run_op(self._sync, op, self._ctx)

    # ---- sync-thread operations (caller holds ``lock`` and a :func:`deadline`)
    def wait_changes(self) -> Any:
        """Fetch remote changes (network; no local lock); ``None`` when there are none."""
        changes = self._run(self._sync.wait_changes())
        if changes is None or changes.empty():
            return None
        return changes

    def apply_changes(self, changes: Any) -> None:
        """Apply fetched changes locally (refused while an app write transaction is open)."""
        self._run(self._sync.apply_changes(changes))

    def push(self, meter: PushMeter | None = None) -> None:
        """Send local changes in batches; the primary records how far it got with each batch,
        so a retry never doubles and never resends an acknowledged batch. ``meter`` gets the
        batches and the time each engine step held the interpreter lock."""
        op = self._sync.push_changes()
        if meter is None:
            self._run(op)
            return
        with metering(meter):
            self._run(TimedOp(op, meter))

    def checkpoint(self) -> None:
        """Fold the local write-ahead log back into the database file."""
        self._run(self._sync.checkpoint())

    def stats(self) -> Any:
        return self._local(self._sync.stats)

    def _local(self, make_op: Callable[[], Any], patience: float = 2.0) -> Any:
        """Run a read-only local operation, again while the database is busy (a concurrent
        app commit): it changes nothing, so running it again is safe."""
        return retry_busy(lambda: self._run(make_op()), time.monotonic() + patience)

    # ---- app-side, never waiting on the network
    def try_stats(self) -> Any | None:
        """Engine stats now, or ``None`` if an operation is in flight."""
        if not self.lock.acquire(blocking=False):
            return None
        try:
            return self._local(self._sync.stats, patience=0.0)
        except Exception:
            return None
        finally:
            self.lock.release()

    def open_connection(self, wait: bool, gate: threading.Lock,
                        gate_timeout: float) -> Any | None:
        """A new app connection (``turso.lib.Connection``, no ``extra_io``).

        Opening one writes (the engine sets the connection up), which makes a concurrent app
        write fail with "database is locked"; so it also takes the app's write ``gate``
        (waiting at most ``gate_timeout`` seconds, after the engine lock, so the gate is never
        held while an operation is on the network). Returns ``None`` when an operation is in
        flight and ``wait`` is false, or the gate stays taken; with ``wait`` it waits for that
        operation (bounded by its own deadline).
        """
        import turso.lib as lib

        if not self.lock.acquire(blocking=wait):
            return None
        try:
            if not gate.acquire(timeout=gate_timeout):
                return None
            try:
                raw = self._local(self._sync.connect)
            finally:
                gate.release()
        finally:
            self.lock.release()
        conn = lib.Connection(raw, isolation_level="DEFERRED", extra_io=None)
        self._made.add(conn)
        return conn

    def close(self, wait: float = 0.1) -> bool:
        """Close the engine's connection unless an operation is still in flight after ``wait``
        seconds; that one is left to end at its own deadline (the engine is crash-safe, so a
        process that exits meanwhile loses nothing committed). True when closed."""
        if not self.lock.acquire(timeout=wait):
            return False
        try:
            with contextlib.suppress(Exception):
                self._base.close()
            self._sever()
        finally:
            self.lock.release()
        return True

    def when_gone(self, call: Callable[[], None]) -> None:
        """Run ``call()`` once this engine is garbage (never holding a reference to it)."""
        self._gone_hook.append(call)

    def _sever(self) -> None:
        """Drop every reference this process holds to the engine's native objects, so pyturso
        releases its file lock now (not when the garbage collector finds the last one), and
        make every app connection made here refuse statements (:class:`ReplicaClosed`).

        pyturso's own ``Connection.close`` keeps the native connection (and with it the
        database and its lock) and goes on running statements; so the native object inside
        each connection is swapped for a stand-in that refuses.
        """
        closed = _Severed(self._path)
        _cut_off(self._made, closed)
        self._base = closed
        self._sync = closed
        self._ctx = None


def _cut_off(made: weakref.WeakSet[Any], closed: _Severed) -> None:
    for conn in list(made):
        conn._conn = closed
    made.clear()


def _orphaned(made: weakref.WeakSet[Any], path: str, hook: list[Callable[[], None]]) -> None:
    _cut_off(made, _Severed(path))
    for call in hook:
        call()


class _Severed:
    """Stands in for a closed replica's native objects: every call refuses, ``close`` is a
    no-op (closing twice is fine)."""

    def __init__(self, path: str) -> None:
        self._path = path

    def close(self) -> None:
        return None

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise ReplicaClosed(f"the replica at {self._path!r} is closed: this connection "
                                f"can no longer run statements (nothing was run)")
        return refuse
