"""The one seam between the controller and a database: a replica that can pull and push.

Adapters (pyturso, libsql, a local file, a remote client, the in-memory fake) implement
:class:`Replica`. Its core is four calls: :meth:`~Replica.pull` and :meth:`~Replica.push`, each
bounded by a timeout in seconds, :meth:`~Replica.connect` and :meth:`~Replica.close`. The rest are
optional with a default, and :class:`Capabilities` says which of them an adapter really answers.
Every failure surfaces as :class:`~synctune.live.replica.errors.SyncError` carrying a
:class:`~synctune.policy.FailureKind`, with any auth token already removed from its message.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synctune.policy import _check

if TYPE_CHECKING:
    from synctune.live.app.connection import SyncedConnection


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


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an adapter can do beyond pulling, pushing, connecting and closing.

    Attributes:
        syncs: it has something to sync (False: a plain local file, a remote-only client).
        writes_delegated: the app's writes go straight to the primary (libsql embedded
            replicas): strategies see them, but they are not data at risk awaiting a push.
        counts_unpushed: :meth:`Replica.pending_changes` and :meth:`Replica.count_unpushed`
            count the engine's own backlog (else they answer ``None``).
        reports_pull_time: :meth:`Replica.last_pull_unix_time` reads the engine's record of
            its last pull (else it answers ``None``).
        cuts_short: :meth:`Replica.cut_short` ends a running pull or push early (else a stop
            abandons a step still running at its deadline).
        pushes_in_batches: a push goes as batches the primary acknowledges one by one, so
            :attr:`Replica.unconfirmed_batches` may be above 0.
    """

    syncs: bool = True
    writes_delegated: bool = False
    counts_unpushed: bool = False
    reports_pull_time: bool = False
    cuts_short: bool = False
    pushes_in_batches: bool = False


class Replica(ABC):
    """A local database kept in sync with a primary.

    An adapter implements the core (:meth:`pull`, :meth:`push`, :meth:`connect`, :meth:`close`,
    :meth:`local_db_size`) and overrides the optional calls its :attr:`capabilities` declare.
    Methods other than :meth:`connect` are called from the controller's sync thread only, one at
    a time; the app reads and writes through its own connection from :meth:`connect`.
    """

    #: short kind name for status lines and the doctor
    kind: str = "replica"
    #: local write-ahead log checkpoints done, and put off (see :meth:`maintain`)
    checkpoints: int = 0
    checkpoints_deferred: int = 0

    # ---- the core: every adapter pulls, pushes, connects and closes
    @abstractmethod
    def pull(self, timeout: float) -> PullResult:
        """Fetch and apply remote changes within ``timeout`` seconds or raise :class:`SyncError`."""

    @abstractmethod
    def push(self, timeout: float) -> PushResult:
        """Send local changes within ``timeout`` seconds or raise :class:`SyncError`."""

    @abstractmethod
    def connect(self) -> Any:
        """A raw DB-API connection, separate from the one the sync thread uses (the app should
        use :meth:`connection`)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections and threads; idempotent."""

    @abstractmethod
    def local_db_size(self) -> int:
        """Bytes of the local database file(s) (0 when there is none)."""

    # ---- what it can do beyond the core (the optional calls below answer by it)
    @property
    def capabilities(self) -> Capabilities:
        """What this adapter can do beyond the core calls (default: it syncs, nothing
        more)."""
        return Capabilities()

    @property
    def syncs(self) -> bool:
        """False for adapters with nothing to sync (see :attr:`Capabilities.syncs`)."""
        return self.capabilities.syncs

    @property
    def writes_delegated(self) -> bool:
        """See :attr:`Capabilities.writes_delegated`."""
        return self.capabilities.writes_delegated

    # ---- optional calls, with defaults for adapters that cannot answer
    def pending_changes(self) -> int | None:
        """Local changes the engine holds not yet confirmed pushed (its own backlog, including
        changes from before this process started), or ``None`` when the adapter cannot count
        them. Never waits on the network (it may answer from its last count)."""
        return None

    def count_unpushed(self) -> int | None:
        """A fresh :meth:`pending_changes`, for the sync thread between syncs: raises rather
        than answer from an old count, so what is at risk is never understated."""
        return self.pending_changes()

    def last_pull_unix_time(self) -> float | None:
        """Unix time (s) of the last successful pull as the engine recorded it (it survives a
        restart), or ``None`` when the adapter keeps no such record or none was made."""
        return None

    def cut_short(self, seconds: float) -> None:  # noqa: B027 - optional hook
        """End the sync step running now, and any started in the next ``seconds``, within
        ``seconds`` (a stop's deadline); any thread may call it. By default nothing: the stop
        abandons a step still running at its deadline."""

    @property
    def unconfirmed_batches(self) -> int:
        """Push batches the primary acknowledged that the adapter has not confirmed yet (their
        rows are on the primary but still counted unpushed); 0 for adapters that push whole."""
        return 0

    def maintain(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Local housekeeping between syncs (e.g. a checkpoint); called on the sync thread."""

    # ---- the app's connections
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
        go to :class:`~synctune.live.app.connection.SyncedConnection`)."""
        from synctune.live.app.connection import SyncedConnection

        return SyncedConnection(self.connect(), gate=self.write_gate, release=self.hand_back,
                                **kwargs)

    # ---- conveniences
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
    def capabilities(self) -> Capabilities:
        return Capabilities(syncs=False)

    def pull(self, timeout: float) -> PullResult:
        return PullResult()

    def push(self, timeout: float) -> PushResult:
        return PushResult()
