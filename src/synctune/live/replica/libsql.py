"""Replica adapter for libsql (``libsql.connect(path, sync_url=...)`` and ``conn.sync()``).

Two facts about libsql 0.1.11 shape this adapter:

* Its network calls hold Python's GIL: a primary that accepts and never answers freezes *every*
  thread of the process, so no in-process timeout can bound them. Each sync therefore runs in a
  child process (spawned once, reused) that owns the replica connection; the parent waits on a
  pipe for at most the timeout and, past it, kills the child (SIGKILL) and starts a fresh one
  for the next sync. The app's process never blocks.
* After the first bootstrap, ``sync()`` swallows connection errors and returns as if nothing
  changed. Before each sync the parent therefore probes the sync URL with one HTTP request
  (bounded by the same timeout, bearer token attached): refused or unreachable -> ``network``,
  no answer -> ``timeout``, 401/403 -> ``auth``, 5xx -> ``server``. Any HTTP answer at all means
  the primary is up, and the sync proceeds. A failure between probe and sync can still go
  unnoticed until the next sync.

Counting: libsql reports nothing about what a sync moved, so ``pull`` counts 1 when the replica
file's size or modification time changed during the sync, else 0, and ``nbytes`` is 0
(unknown). Writes made through :meth:`LibsqlReplica.connect` are delegated to the primary by
libsql itself (the controller tells strategies so: ``pushed=True``), so ``push`` has nothing to
do, unless the replica is ``offline`` (local writes, sent by ``sync()``, which then does both
directions in the pull step).

The tursodb sync server used in the tests speaks pyturso's protocol, not libsql's replication
protocol, so this adapter is tested in local mode and on its error mapping only.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import weakref
from typing import Any

from synctune.live.app.connection_pool import ReplicaClosed
from synctune.live.replica import libsql_file, open_guard, replica_file
from synctune.live.replica.base import Capabilities, PullResult, PushResult, Replica
from synctune.live.replica.errors import SyncError, classify
from synctune.live.replica.local import file_size
from synctune.live.replica.probe import probe_primary
from synctune.live.replica.urls import check_url, redact, safe_url
from synctune.policy import FailureKind

_CTX = mp.get_context("spawn")


def _stop(box: list[Any], claim: open_guard.Claim) -> None:
    """A replica dropped unclosed: stop its sync child, then free its file."""
    proc = box[0]
    if proc is not None and proc.is_alive():
        proc.kill()
        proc.join(2)
    claim.release()


def _worker(pipe: Any, path: str, url: str, token: str | None, offline: bool) -> None:
    """Child process: own the libsql replica connection; answer ``sync`` requests."""
    try:
        import libsql

        conn = libsql.connect(path, sync_url=url, auth_token=token or "", offline=offline)
        pipe.send(("ready", ""))
    except Exception as exc:
        pipe.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    while True:
        try:
            msg = pipe.recv()
        except EOFError:
            return
        if msg != "sync":
            return
        try:
            conn.sync()
            pipe.send(("ok", ""))
        except Exception as exc:
            pipe.send(("error", f"{type(exc).__name__}: {exc}"))


class LibsqlReplica(Replica):
    """A libsql embedded replica, or (without ``url``) a plain libsql local file.

    Args:
        path: local database file.
        url: the primary's sync URL (``libsql://``, ``https://``, ``http://``), or ``None``
            for local mode (nothing to sync).
        auth_token: bearer token, never logged or shown.
        offline: libsql's offline mode: writes stay local until ``sync()`` sends them.
        existing: (with ``url``) what to do with a file at ``path`` that is not a replica
            recorded as this primary's (see :mod:`synctune.live.replica.libsql_file`):
            ``"refuse"`` (default; raises :class:`~synctune.live.replica.errors.OpenRefused`
            naming the file, and touches nothing), ``"move-aside"`` (renamed with its side
            files to ``PATH.aside-<UTC time>``, never deleted; :attr:`moved_aside` says where)
            or ``"new-url"`` (it is this primary's replica: opened, and recorded so).
    """

    kind = "libsql"

    def __init__(self, path: str | os.PathLike[str], url: str | None = None, *,
                 auth_token: str | None = None, offline: bool = False,
                 existing: str = "refuse") -> None:
        self.path = os.fspath(path)
        self.url = url or None
        self._token = auth_token or None
        self.offline = offline
        self._lock = threading.Lock()
        self._proc: Any = None
        self._pipe: Any = None
        #: where a file that was not this primary's replica went (``None``: nothing moved)
        self.moved_aside: str | None = None
        self._closed = False
        # the sync child, for the finalizer: a replica dropped unclosed stops syncing its file
        self._box: list[Any] = [None]
        if self.url is not None:
            check_url(self.url)
            # one syncing replica per file in this process: two sync children would inject
            # frames into one file
            self._claim = open_guard.Claim(self.path)
            try:
                # before libsql sees the file: it would replicate over a file that is not
                # this primary's replica (or push local-first writes to the wrong primary)
                self.moved_aside = libsql_file.prepare(self.path, self.url, existing)
                replica_file.record_primary(self.path, self.url)
            except BaseException:
                self._claim.release()
                raise
            weakref.finalize(self, _stop, self._box, self._claim)
        else:
            import libsql

            libsql.connect(self.path).close()  # create the file; fail early on a bad path

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(syncs=self.url is not None,
                            writes_delegated=self.url is not None and not self.offline)

    # ---------------------------------------------------------------- plumbing
    def _fail(self, kind: FailureKind, message: str) -> SyncError:
        return SyncError(kind, redact(message, self._token))

    def _probe(self, timeout: float) -> None:
        """One bounded HTTP request to the primary: is it there, and does it take the token?"""
        assert self.url is not None
        seen = probe_primary(self.url, self._token, timeout)
        if seen.kind is not None:  # any answer but 401/403/5xx: up; the sync will tell more
            raise self._fail(seen.kind, seen.message)

    def _ensure_worker(self, timeout: float) -> None:
        if self._proc is not None and self._proc.is_alive():
            return
        parent, child = _CTX.Pipe()
        proc = _CTX.Process(target=_worker, args=(child, self.path, self.url, self._token,
                                                  self.offline), daemon=True,
                            name="synctune-libsql-sync")
        proc.start()
        child.close()
        self._proc, self._pipe = proc, parent
        self._box[0] = proc
        self._expect(timeout, "open")

    def _expect(self, timeout: float, what: str) -> None:
        if not self._pipe.poll(timeout):
            self._kill()
            raise self._fail(FailureKind.TIMEOUT, f"libsql {what} took over {timeout:g} s")
        try:
            status, message = self._pipe.recv()
        except EOFError:
            self._kill()
            raise self._fail(FailureKind.OTHER, f"libsql {what}: worker exited") from None
        if status == "error":
            if what == "open":
                self._kill()
            raise self._fail(classify(RuntimeError(message), message.lower()), message)

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
        if proc is not None and proc.is_alive():
            proc.kill()
            proc.join(2)

    def _stamp(self) -> tuple[int, int]:
        try:
            st = os.stat(self.path)
        except OSError:
            return (0, 0)
        return (st.st_size, st.st_mtime_ns)

    # ------------------------------------------------------------- interface
    def pull(self, timeout: float) -> PullResult:
        if self.url is None:
            return PullResult()
        import time

        end = time.monotonic() + timeout
        with self._lock:
            if self._closed:
                raise ReplicaClosed(f"the replica at {self.path!r} is closed")
            self._probe(timeout)
            self._ensure_worker(max(0.01, end - time.monotonic()))
            before = self._stamp()
            self._pipe.send("sync")
            self._expect(max(0.01, end - time.monotonic()), "sync")
            return PullResult(changes=int(self._stamp() != before))

    def push(self, timeout: float) -> PushResult:
        return PushResult()

    def local_db_size(self) -> int:
        return file_size(self.path)

    def connect(self) -> Any:
        """libsql's own connection for the app: reads are local; writes go to the primary
        (delegated by libsql) or, offline, stay local until a sync. With a URL, opening it
        contacts the primary, as libsql clients always do; in local mode it is a plain file.

        libsql bounds neither that open nor a delegated write, and holds the GIL meanwhile: a
        primary that never answers freezes the process. A delegated write that raised may
        still have been applied by the primary; retry it only if it is idempotent."""
        import libsql

        if self.url is None:
            return libsql.connect(self.path)
        return libsql.connect(self.path, sync_url=self.url, auth_token=self._token or "",
                              offline=self.offline)

    def close(self) -> None:
        """Stop the sync child and free the file for another replica of this process."""
        with self._lock:
            self._closed = True
            self._kill()
            if self.url is not None:
                self._claim.release()

    def __repr__(self) -> str:
        token = "set" if self._token else "none"
        return f"LibsqlReplica(path={self.path!r}, url={safe_url(self.url)!r}, token={token})"
