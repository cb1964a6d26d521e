"""The one seam between the controller and a database: a replica that can pull and push.

Adapters (pyturso, libsql, a local file, a remote client) implement :class:`Replica`; the
controller only ever calls these few methods, each bounded by a timeout in seconds. Every failure
surfaces as :class:`SyncError` carrying a :class:`~synctune.policy.FailureKind`, with any auth
token already removed from its message.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from synctune.policy import FailureKind, _check

T = TypeVar("T")

if TYPE_CHECKING:
    from synctune.live.connection import SyncedConnection


@dataclass(frozen=True, slots=True)
class _Transfer:
    """One direction of a sync: how many changes moved and the bytes it cost."""

    changes: int = 0
    nbytes: int = 0

    def __post_init__(self) -> None:
        _check.count("changes", self.changes)
        _check.count("nbytes", self.nbytes)


@dataclass(frozen=True, slots=True)
class PullResult(_Transfer):
    """What one pull applied.

    Attributes:
        changes: remote changes applied locally, as counted by the adapter (0 when the pull was
            empty, at least 1 when anything was applied; see each adapter for how it counts).
        nbytes: bytes over the network, both directions.
    """


@dataclass(frozen=True, slots=True)
class PushResult(_Transfer):
    """What one push sent.

    Attributes:
        changes: local changes confirmed by the primary.
        nbytes: bytes over the network, both directions.
    """


class SyncError(Exception):
    """A pull or push failed; ``kind`` says why, as far as the adapter can tell."""

    def __init__(self, kind: FailureKind | str, message: str) -> None:
        self.kind = FailureKind(kind)
        super().__init__(f"{self.kind.value}: {message}")


class OpenRefused(SyncError):
    """Opening a replica was refused before anything touched the file: it is not a healthy
    replica of this primary (``reason``: ``plain``, ``not-database``, ``other-primary``,
    ``corrupt``, ``leftover``, ``directory``, ``read-only``) or it is in use (``in-use``).

    The message is one line naming the file and what it is; the file is left as it was.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(FailureKind.OTHER, message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return self.message


class ReplicaClosed(RuntimeError):
    """A statement on a connection of a replica that was closed: nothing was run."""


#: local causes worth naming in a failure's message (lower-case fragment -> what it means)
_LOCAL_CAUSES = (
    (("no space left", "disk is full", "database or disk is full", "enospc"),
     "local disk full: free space beside the replica file (unpushed changes are kept)"),
    (("read-only file system", "readonly database", "attempt to write a readonly"),
     "the replica file or its folder is read-only"),
    (("file is locked by another process",),
     "the replica file is open in another process (one process per replica file: give each "
     "worker its own with claim_worker_slot)"),
)


def local_cause(text: str) -> str | None:
    """What a local failure means in plain words (disk full, read-only, file locked), or
    ``None`` when ``text`` names none of them."""
    low = text.lower()
    for fragments, meaning in _LOCAL_CAUSES:
        if any(f in low for f in fragments):
            return meaning
    return None


def safe_url(url: str | None) -> str | None:
    """``url`` fit to show: no ``user:password@`` and no query string (tokens travel there)."""
    if url is None:
        return None
    head, sep, rest = url.partition("://")
    if not sep:
        head, rest = "", url
    host = rest.split("?", 1)[0].split("#", 1)[0]
    authority, slash, path = host.partition("/")
    authority = authority.rpartition("@")[2]
    return f"{head}{sep}{authority}{slash}{path}"


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every non-empty secret replaced by ``***`` (and bearer headers masked)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return re.sub(r"(?i)(bearer\s+|authToken=|auth_token=|token=)[^\s&'\"]+", r"\1***", text)


def is_busy(exc: BaseException) -> bool:
    """True when a local database refused a statement for a concurrent one ("database is
    locked"/"busy"): the statement did not run."""
    text = str(exc).lower()
    return "busy" in text or "locked" in text


def retry_busy(step: Callable[[], T], end: float, *, longest: float = 0.02) -> T:
    """``step()``, run again while the local database answers busy, until ``end`` (monotonic
    s); then its last error. Only for steps that change nothing when refused that way: reads,
    and engine operations that are transactional (a refused push or apply applied nothing).
    """
    pause = longest / 40
    while True:
        try:
            return step()
        except Exception as exc:
            left = end - time.monotonic()
            if not is_busy(exc) or left <= 0:
                raise
            time.sleep(min(pause, left))
            pause = min(pause * 2, longest)


def classify(exc: BaseException, message: str | None = None) -> FailureKind:
    """Best-effort :class:`FailureKind` from an exception raised by a client library."""
    text = (message if message is not None else f"{type(exc).__name__} {exc}").lower()
    if isinstance(exc, TimeoutError) or "timed out" in text or "timeout" in text:
        return FailureKind.TIMEOUT
    if re.search(r"\b(401|403)\b", text) or "unauthori" in text or "forbidden" in text \
            or ("auth" in text and ("token" in text or "fail" in text)):
        return FailureKind.AUTH
    if local_cause(text) is not None:  # a local file problem, however the library wraps it
        return FailureKind.OTHER
    if re.search(r"\b5\d\d\b", text) or "server error" in text or "internal error" in text:
        return FailureKind.SERVER
    if isinstance(exc, ConnectionError | OSError) or any(
            w in text for w in ("network", "connection", "refused", "reset", "unreachable",
                                "name or service", "broken pipe", "eof", "urlopen")):
        return FailureKind.NETWORK
    return FailureKind.OTHER


class Replica(ABC):
    """A local database kept in sync with a primary.

    Methods other than :meth:`connect` are called from the controller's sync thread only, one at
    a time; the app reads and writes through its own connection from :meth:`connect`.
    """

    #: short kind name for status lines and the doctor
    kind: str = "replica"
    #: local write-ahead log checkpoints done, and put off (see :meth:`maintain`)
    checkpoints: int = 0
    checkpoints_deferred: int = 0

    @property
    def syncs(self) -> bool:
        """False for adapters with nothing to sync (a plain local file, a remote-only client)."""
        return True

    @property
    def writes_delegated(self) -> bool:
        """True when the app's writes go straight to the primary (libsql embedded replicas):
        they are seen by strategies but are not data at risk awaiting a push."""
        return False

    @abstractmethod
    def pull(self, timeout: float) -> PullResult:
        """Fetch and apply remote changes within ``timeout`` seconds or raise :class:`SyncError`."""

    @abstractmethod
    def push(self, timeout: float) -> PushResult:
        """Send local changes within ``timeout`` seconds or raise :class:`SyncError`."""

    def pending_changes(self) -> int | None:
        """Local changes the engine holds not yet confirmed pushed (its own backlog, including
        changes from before this process started), or ``None`` when the adapter cannot count
        them. Never waits on the network (it may answer from its last count)."""
        return None

    def count_unpushed(self) -> int | None:
        """A fresh :meth:`pending_changes`, for the sync thread between syncs: raises rather
        than answer from an old count, so what is at risk is never understated."""
        return self.pending_changes()

    @abstractmethod
    def local_db_size(self) -> int:
        """Bytes of the local database file(s) (0 when there is none)."""

    @abstractmethod
    def connect(self) -> Any:
        """A raw DB-API connection, separate from the one the sync thread uses (the app should
        use :meth:`connection`)."""

    @property
    def write_gate(self) -> threading.Lock | None:
        """The local write lock app transactions must hold, or ``None`` when the database
        coordinates writers itself."""
        return None

    def hand_back(self, conn: Any) -> None:
        """Take back a raw connection from :meth:`connect` (default: close it)."""
        conn.close()

    def connection(self, **kwargs: Any) -> SyncedConnection:
        """A thread-safe app connection with sqlite3 transaction semantics (keyword arguments
        go to :class:`~synctune.live.connection.SyncedConnection`)."""
        from synctune.live.connection import SyncedConnection

        return SyncedConnection(self.connect(), gate=self.write_gate, release=self.hand_back,
                                **kwargs)

    def maintain(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Local housekeeping between syncs (e.g. a checkpoint); called on the sync thread."""

    def cut_short(self, seconds: float) -> None:  # noqa: B027 - optional hook
        """End the sync step running now, and any started in the next ``seconds``, within
        ``seconds`` (a stop's deadline); any thread may call it. By default nothing: the stop
        abandons a step still running at its deadline."""

    @property
    def unconfirmed_batches(self) -> int:
        """Push batches the primary acknowledged that the adapter has not confirmed yet (their
        rows are on the primary but still counted unpushed); 0 for adapters that push whole."""
        return 0

    @abstractmethod
    def close(self) -> None:
        """Release connections and threads; idempotent."""

    def integrity_check(self) -> str:
        """Result of ``PRAGMA integrity_check`` on the local database (``"ok"`` when sound)."""
        conn = self.connection()
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
        return "; ".join(str(r[0]) for r in rows) or "ok"

    def __enter__(self) -> Replica:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NoSyncReplica(Replica):
    """Base for adapters with nothing to sync: pulls and pushes are empty and always succeed."""

    @property
    def syncs(self) -> bool:
        return False

    def pull(self, timeout: float) -> PullResult:
        return PullResult()

    def push(self, timeout: float) -> PushResult:
        return PushResult()


def file_size(path: str) -> int:
    """Bytes of a database file and its write-ahead log (missing files count 0)."""
    total = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(OSError):
            total += os.path.getsize(path + suffix)
    return total
