"""Replica adapter for pyturso (``turso.sync``): the tursodb sync protocol.

How each call is bounded: pulls and pushes run on the controller's sync thread under a per-thread
HTTP deadline (:func:`synctune.live.replica.turso._pyturso_http.deadline`), so every connect and
read pyturso makes ends by the timeout. A timed-out request fails pyturso's operation cleanly (the
engine is told the I/O failed and rolls the operation back), so the next attempt starts from a
consistent state.

How the app is kept off the network: a pull is two steps, fetching (network, no local lock) and
applying (local, milliseconds, under the app's write lock so it never meets an open app
transaction). App connections come from a pool topped up before every network operation, and
engine stats are cached, because the engine runs one operation at a time and would otherwise
make an app call wait for a hung pull. See :mod:`synctune.live.app.connection` for the
app-side rules.

How changes are counted: ``push`` reports the drop in the engine's pending CDC operations (one per
row change); a backlog of 20k changes or more is counted without the engine, whose count holds every
Python thread ~0.6-1 us per unpushed row (:mod:`synctune.live.replica.turso._pyturso_backlog`).
``pull`` reports 1 when it applied anything, else 0. The pull protocol exposes a revision that
advances per page frame, not per remote commit, so it cannot count commits; one per non-empty pull
is exact while pulls are more frequent than remote commits (the regime a freshness target puts us
in) and a lower bound otherwise. Bytes are the deltas of the engine's ``network_sent_bytes +
network_received_bytes``.

How a big backlog is pushed: in batches of whole transactions of about
``push_batch_operations`` row changes, each acknowledged by the primary on its own, so a push
cut off by its deadline keeps the batches that made it and the next push starts after them; and
each batch holds the interpreter lock briefly (:mod:`synctune.live.replica.turso.push_meter`),
so the app's threads and event loop keep running during a long push.

How the local file stays bounded: the engine never checkpoints its write-ahead log by itself.
:meth:`TursoReplica.maintain` (called by the controller between syncs) checkpoints it once it
exceeds ``checkpoint_bytes``, holding the app's write lock, so never inside an app transaction.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from synctune.live.app import fork_guard
from synctune.live.app.busy import retry_busy
from synctune.live.app.connection import SyncedConnection
from synctune.live.app.connection_pool import ConnectionPool
from synctune.live.replica.base import Capabilities, PullResult, PushResult, Replica
from synctune.live.replica.errors import SyncError, classify, local_cause
from synctune.live.replica.turso import (
    _pyturso,
    _pyturso_backlog,
    _pyturso_http,
    checkpoint,
    opening,
)
from synctune.live.replica.turso.opening import DEFAULT_OPEN_TIMEOUT
from synctune.live.replica.turso.push_meter import PushMeter, batch_size, log_long_stall
from synctune.live.replica.urls import redact, safe_url
from synctune.policy import FailureKind
from synctune.policy.watcher import HELD_SHARE

log = logging.getLogger("synctune.live")

#: write-ahead log size (bytes) above which :meth:`TursoReplica.maintain` checkpoints
DEFAULT_CHECKPOINT_BYTES = 8 * 1024 * 1024
#: the engine's files beside the database: its WAL, the log of local changes to revert before
#: applying remote ones, and fetched changes awaiting their apply
_ENGINE_FILES = ("", "-wal", "-wal-revert", "-changes")
_CAPABILITIES = Capabilities(counts_unpushed=True, reports_pull_time=True, cuts_short=True,
                             pushes_in_batches=True)


class TursoReplica(Replica):
    """An embedded replica kept in sync through pyturso.

    Args:
        path: local database file. pyturso locks it for this process alone; for several
            worker processes give each its own file (:func:`synctune.live.claim_worker_slot`).
        url: sync server URL (``http://``, ``https://``; ``libsql://`` becomes ``https://``).
        auth_token: bearer token, never logged or shown.
        open_timeout: seconds allowed for opening (bootstraps from the primary when empty).
        spare_connections: idle app connections kept ready so that opening one does not wait
            for a sync on the network (doubled after an open that had to wait, up to 32).
        checkpoint_bytes: write-ahead log size (bytes) that triggers a checkpoint.
        long_poll_timeout_ms: ask the server to hold an empty pull up to this long until a
            change arrives (pyturso's ``long_poll_timeout_ms``; pull timeouts must exceed it).
            A server that answers empty pulls at once anyway is detected
            (:attr:`long_poll_ignored`), so a caller can stop relying on it instead of spinning.
        push_batch_operations: row changes per push batch (a batch ends at the first commit
            after this many; a transaction is never split); ``None`` pushes everything as one
            batch, which holds every Python thread for the whole build (seconds per 100k rows)
            and restarts from nothing when cut off.
        existing: what to do with a file at ``path`` that is not a sound replica of this
            primary (a plain SQLite database, another primary's replica, a damaged replica):
            ``"refuse"`` (default: :class:`~synctune.live.replica.errors.OpenRefused`, the file
            untouched) or ``"move-aside"`` (renamed with its side files to
            ``PATH.aside-<UTC time>``, never deleted; :attr:`moved_aside` says where; a fresh
            replica is bootstrapped) or ``"new-url"`` (a replica recorded under another URL
            is this primary's; needed only when the primary at the new URL does not hold this
            replica's pushes). A second open of one file in one process is refused.
    """

    kind = "turso"

    def __init__(self, path: str | os.PathLike[str], url: str, *, auth_token: str | None = None,
                 open_timeout: float = DEFAULT_OPEN_TIMEOUT, spare_connections: int = 4,
                 checkpoint_bytes: int = DEFAULT_CHECKPOINT_BYTES,
                 long_poll_timeout_ms: int | None = None,
                 push_batch_operations: int | None = _pyturso.PUSH_BATCH_OPERATIONS,
                 existing: str = "refuse") -> None:
        self.long_poll_timeout_ms = opening.check_long_poll(long_poll_timeout_ms)
        self.push_batch_operations = batch_size(push_batch_operations)
        #: the last push that had something to send: its batches and stalls
        self.last_push: PushMeter | None = None
        self._stall_logged = False
        self._cutoff = _pyturso_http.Cutoff()
        self._unconfirmed = 0  # batches acknowledged in failed pushes since the last success
        self._pushing: PushMeter | None = None
        #: None until an empty pull tells; True when the server answered it well before the
        #: long-poll timeout (it does not hold pulls: tursodb 0.6.0 answers at once)
        self.long_poll_ignored: bool | None = None
        self.path = os.fspath(path)
        self.url = url
        self._token = auth_token or None
        self.checkpoint_bytes = int(checkpoint_bytes)
        self._gate = threading.Lock()
        self._stats: Any = None
        #: checkpoints done, and those that found readers in the way and were put off
        self.checkpoints = 0
        self.checkpoints_deferred = 0
        self._closed = False
        self._born = fork_guard.generation
        #: where a file that was not a replica of this primary went (``None``: nothing moved)
        self.moved_aside: str | None = None
        self._claim, self._engine, self.moved_aside = opening.claim_and_open(
            self.path, url, self._token, open_timeout=open_timeout, existing=existing,
            long_poll_timeout_ms=long_poll_timeout_ms, push_batch=self.push_batch_operations,
            error=self._error)
        # the opener must not hold the replica (a cycle would keep the file locked after
        # close() until the garbage collector ran)
        self._pool = ConnectionPool(
            functools.partial(opening.open_connection, self._engine, self._gate),
            spare=spare_connections)
        try:
            self._pool.fill()
            self._stats = self._engine.stats()
        except BaseException:  # nothing of a failed open may keep the file
            self.close()
            raise

    # ---------------------------------------------------------------- plumbing
    def _error(self, exc: BaseException) -> SyncError:
        message = redact(f"{type(exc).__name__}: {exc}", self._token)
        cause = local_cause(message)
        return SyncError(classify(exc, message), message if cause is None
                         else f"{cause} ({message})")

    def _op(self, end: float, what: str, step: Callable[[], Any]) -> Any:
        """Run one engine step by ``end`` (monotonic s), or by a stop's cut-off if one is
        ahead, again while the local engine is busy (a refused push or apply changed
        nothing)."""
        def bounded() -> Any:
            left = self._cutoff.bound(end) - time.monotonic()
            if left <= 0:
                raise SyncError(FailureKind.TIMEOUT, f"{what} timed out")
            with self._cutoff.running(left):
                return step()

        try:
            return retry_busy(bounded, end, longest=0.05)
        except SyncError:
            raise
        except Exception as exc:
            raise self._error(exc) from None

    def _refresh_stats(self) -> Any:
        self._stats = self._engine.stats()
        return self._stats

    @staticmethod
    def _bytes(before: Any, after: Any) -> int:
        sent = (after.network_sent_bytes or 0) - (before.network_sent_bytes or 0)
        received = (after.network_received_bytes or 0) - (before.network_received_bytes or 0)
        return max(0, sent) + max(0, received)

    # ------------------------------------------------------------- interface
    def pull(self, timeout: float) -> PullResult:
        result: PullResult = self._guarded(self._pull, timeout)
        return result

    def push(self, timeout: float) -> PushResult:
        result: PushResult = self._guarded(self._push, timeout)
        return result

    def _guarded(self, step: Callable[[float], Any], timeout: float) -> Any:
        """Every failure of a sync step as a :class:`SyncError` (the token removed)."""
        try:
            return step(timeout)
        except SyncError:
            raise
        except Exception as exc:
            raise self._error(exc) from None

    def _pull(self, timeout: float) -> PullResult:
        end = time.monotonic() + timeout
        self._pool.fill()
        with self._engine.lock:
            before = self._refresh_stats()
            changes = self._op(end, f"pull (fetch) within {timeout:g} s",
                               self._engine.wait_changes)
            if changes is not None:
                left = end - time.monotonic()
                # the app's write lock, for the local apply only: waits for app transactions
                if left <= 0 or not self._gate.acquire(timeout=left):
                    raise SyncError(FailureKind.TIMEOUT,
                                    f"pull (apply) waited for app transactions past {timeout:g} s")
                try:
                    self._op(end, f"pull (apply) within {timeout:g} s",
                             lambda: self._engine.apply_changes(changes))
                finally:
                    self._gate.release()
            after = self._refresh_stats()
        if self.long_poll_timeout_ms is not None and changes is None:
            # an empty pull answered quicker than the watcher's rule for a held one was not
            elapsed = time.monotonic() - (end - timeout)
            self.long_poll_ignored = elapsed < HELD_SHARE * self.long_poll_timeout_ms / 1000.0
        return PullResult(changes=1 if changes is not None else 0,
                          nbytes=self._bytes(before, after))

    def _push(self, timeout: float) -> PushResult:
        end = time.monotonic() + timeout
        self._pool.fill()
        pending = self._fast_count()  # before the engine lock, which a lease may take
        with self._engine.lock:
            before = self._stats if pending is not None else self._refresh_stats()
            if pending is None:
                pending = int(before.cdc_operations or 0)
            if not pending:  # nothing committed locally: no round trip
                return PushResult()
            meter = self.last_push = self._pushing = PushMeter(self.push_batch_operations)
            try:
                self._op(end, f"push within {timeout:g} s", lambda: self._engine.push(meter))
            except SyncError as exc:
                # the engine confirms nothing of a failed push, but the primary kept the
                # batches it acknowledged: say so, so a timeout is not read as "no progress"
                self._pushing = None  # before the sum: a reader never counts them twice
                self._unconfirmed += meter.batches_acked
                said = str(exc).removeprefix(f"{exc.kind.value}: ")
                raise SyncError(exc.kind, f"{said}; {meter.progress()}") from None
            finally:
                self._pushing = None
                self._stall_logged |= log_long_stall(meter, self._stall_logged)
            self._unconfirmed = 0
            after = self._refresh_stats()
        sent = max(0, pending - (after.cdc_operations or 0))
        return PushResult(changes=sent, nbytes=self._bytes(before, after))

    @property
    def capabilities(self) -> Capabilities:
        return _CAPABILITIES

    def cut_short(self, seconds: float) -> None:
        """End the sync step running now, and any started in the next ``seconds``, within
        ``seconds`` (a stop's deadline). A push stops between batches: those the primary
        acknowledged stay there, the rest stays unpushed. Any thread may call it."""
        self._cutoff.cut(seconds)

    @property
    def unconfirmed_batches(self) -> int:
        """Push batches the primary acknowledged that the engine has not confirmed (pushes
        that failed or still run since its last confirmed push): their rows are on the
        primary and are not sent again, though :meth:`count_unpushed` still counts them."""
        done = self._unconfirmed  # read first: the push thread clears _pushing before adding
        running = self._pushing
        return done + (running.batches_acked if running is not None else 0)

    def maintain(self) -> None:
        """Checkpoint the write-ahead log once it exceeds ``checkpoint_bytes`` (between syncs,
        on the sync thread; see :func:`~synctune.live.replica.turso.checkpoint.when_big`)."""
        done, failure = checkpoint.when_big(self._engine, self._gate, self.path,
                                            self.checkpoint_bytes, self._refresh_stats)
        if done is None:
            return
        if done:
            self.checkpoints += 1
        else:
            self.checkpoints_deferred += 1
        if failure is not None:  # logged holding no lock: a slow handler never holds app writes
            log.debug("checkpoint put off: %s", redact(str(failure), self._token))

    def _current_stats(self) -> Any:
        """Engine stats, fresh when the engine is free, else as of its last operation."""
        fresh = self._engine.try_stats()
        if fresh is not None:
            self._stats = fresh
        return self._stats

    def _fast_count(self) -> int | None:
        """A big backlog counted on an idle pooled app connection, without the engine's long
        hold of the interpreter lock (:mod:`synctune.live.replica.turso._pyturso_backlog`);
        ``None`` when it is small, the internals differ, or no connection is idle (none is
        opened for it: that would take the app's write lock)."""
        if not self._pool.idle:
            return None
        try:
            conn = self._pool.lease()
        except Exception:
            return None
        try:
            return _pyturso_backlog.count_unpushed(self.path, conn)
        finally:
            self._pool.give_back(conn)

    def count_unpushed(self) -> int:
        """The engine's CDC backlog counted now (sync thread, between syncs: the engine is
        free; a busy database is retried briefly, then raises)."""
        fast = self._fast_count()
        if fast is not None:
            return fast
        with self._engine.lock:
            return int(self._refresh_stats().cdc_operations or 0)

    def pending_changes(self) -> int:
        """Local row changes not yet pushed (the engine's CDC backlog; never waits)."""
        fast = self._fast_count()
        if fast is not None:
            return fast
        stats = self._current_stats()
        return int(stats.cdc_operations or 0) if stats is not None else 0

    def last_pull_unix_time(self) -> float | None:
        """Unix time (s) of the last successful pull recorded by the engine, if any."""
        known, recorded = _pyturso_backlog.last_pull(self.path)
        if known:
            return recorded
        stats = self._current_stats()
        t = stats.last_pull_unix_time if stats is not None else None
        return float(t) if t is not None else None

    def local_db_size(self) -> int:
        total = 0
        for suffix in _ENGINE_FILES:
            with contextlib.suppress(OSError):
                total += os.path.getsize(self.path + suffix)
        return total

    @property
    def write_gate(self) -> threading.Lock:
        """The local write lock app transactions and local applies take in turn."""
        return self._gate

    def connect(self) -> Any:
        """A raw pooled pyturso connection (no write lock: prefer :meth:`connection`); it
        refuses use in a forked child (:class:`~synctune.live.app.fork_guard.Guarded`)."""
        return fork_guard.guarded(self._pool.lease())

    def hand_back(self, conn: Any) -> None:
        self._pool.give_back(conn)

    def connection(self, **kwargs: Any) -> SyncedConnection:
        """A thread-safe app connection (see
        :class:`~synctune.live.app.connection.SyncedConnection`; keyword arguments go to it)."""
        # as Replica.connection, but the hand-back goes to the pool, not through the replica,
        # so an app connection never keeps a closed replica (and pyturso's file lock) alive
        return SyncedConnection(self._pool.lease(), gate=self._gate, release=self._pool.give_back,
                                **kwargs)

    def close(self) -> None:
        """Close the replica: pyturso's file lock is released at once (another process can open the
        file), and statements on its connections raise
        :class:`~synctune.live.app.connection_pool.ReplicaClosed`. A sync still on the network is
        left to end at its own deadline; the file is released then. Idempotent; in a forked child it
        leaves the parent's engine alone."""
        if self._closed or self._born != fork_guard.generation:
            self._closed = True
            return
        self._closed = True
        self._pool.close()
        if self._engine.close():
            self._claim.release()
        else:
            self._claim.closing()
            threading.Thread(target=self._close_later, name="synctune-close",
                             daemon=True).start()

    def _close_later(self) -> None:
        # the operation in flight ends by its own deadline; bounded however it behaves
        for _ in range(600):
            if self._engine.close(wait=1.0):
                self._claim.release()
                return

    def __repr__(self) -> str:
        token = "set" if self._token else "none"
        return f"TursoReplica(path={self.path!r}, url={safe_url(self.url)!r}, token={token})"
