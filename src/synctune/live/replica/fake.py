"""A scriptable replica beside the real ones: latency, failures, hangs and partial pushes on demand.

Built like a mock transport: every ``push`` and ``pull`` is a :class:`FakeCall` answered by a
:class:`Step` - the next one scripted for that operation with :meth:`FakeReplica.script`, else
what ``handler(call)`` returns, else a plain success. It keeps the bookkeeping of a real sync
engine, so tests can check the controller's accounting against it:

* the app commits with :meth:`FakeReplica.commit` (each commit is one local change);
* :meth:`FakeReplica.pending_changes` is the engine's backlog: changes after the last
  *confirmed* push, including changes made before the controller started;
* the primary applies each change at most once: it remembers the last change it took from this
  replica, as the tursodb protocol does, so a push that reached it but timed out
  (:attr:`Step.partial`) is not applied twice by the next push;
* :meth:`FakeReplica.remote_commit` adds changes on the primary for pulls to fetch.

Time goes through a :class:`~synctune.live.timing.Timer`, the same one given to the controller:
with a :class:`~synctune.live.timing.ManualTimer`, latencies and timeouts cost no real time.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from synctune.live.replica.base import Capabilities, PullResult, PushResult, Replica
from synctune.live.replica.errors import SyncError
from synctune.live.timing import REAL_TIME, Timer
from synctune.policy import FailureKind, _check


@dataclass(frozen=True, slots=True)
class Step:
    """How one call behaves.

    Attributes:
        latency: seconds the call takes (on the timer). A call whose latency exceeds its
            timeout waits the timeout and fails with ``timeout``, as a bounded network call does.
        fail: fail with this kind after ``latency`` (``None``: succeed).
        hang: block for real until :meth:`FakeReplica.release` (ignoring the timeout: an
            operation that does not honour its deadline), then behave as the rest says.
        partial: for a push: the primary applies the changes, but the reply is lost and the
            call fails with ``timeout``; the engine's backlog keeps them.
    """

    latency: float = 0.0
    fail: FailureKind | None = None
    hang: bool = False
    partial: bool = False

    def __post_init__(self) -> None:
        _check.real("latency", self.latency, minimum=0.0)
        if self.fail is not None:
            object.__setattr__(self, "fail", FailureKind(self.fail))


@dataclass(frozen=True, slots=True)
class FakeCall:
    """One call as the fake saw it: ``op`` (``"push"``/``"pull"``), its ``timeout`` (s), when
    it began on the timer, and how it ended (``"ok"`` or a failure kind's value)."""

    op: str
    timeout: float
    began: float
    outcome: str = ""


class FakeReplica(Replica):
    """A replica whose pushes and pulls are scripted (see the module docstring).

    Args:
        handler: ``handler(call) -> Step | None`` for calls with no scripted step left.
        timer: the time latencies and timeouts are measured on (share the controller's).
        held: local changes the engine already holds unpushed (from before the controller).
        local_size: bytes :meth:`local_db_size` reports.
    """

    kind = "fake"

    def __init__(self, handler: Callable[[FakeCall], Step | None] | None = None, *,
                 timer: Timer = REAL_TIME, held: int = 0, local_size: int = 0) -> None:
        self.handler = handler
        self.timer = timer
        self._lock = threading.Lock()
        self._steps: dict[str, deque[Step]] = {"push": deque(), "pull": deque()}
        self._release = threading.Event()
        self._local = _check.count("held", held)  # local changes, ids 1.._local
        self._confirmed = 0  # the engine's last confirmed pushed change id
        #: change ids the primary applied, in order (each at most once)
        self.primary: list[int] = []
        self._remote = 0  # changes on the primary from others, not yet pulled
        self.local_size = _check.count("local_size", local_size)
        #: every call, in order
        self.calls: list[FakeCall] = []
        self.closed = False
        self.hanging = threading.Event()  # set while a call hangs

    # ----------------------------------------------------------- scripting
    def script(self, op: str, *steps: Step) -> FakeReplica:
        """Queue ``steps`` for the next calls of ``op`` (``"push"`` or ``"pull"``)."""
        if op not in self._steps:
            raise ValueError(f"op must be 'push' or 'pull', got {op!r}")
        with self._lock:
            self._steps[op].extend(steps)
        return self

    def release(self) -> None:
        """End every hang, now and later."""
        self._release.set()

    def commit(self, count: int = 1) -> None:
        """The app committed ``count`` local changes (tell the controller separately)."""
        with self._lock:
            self._local += _check.count("count", count)

    def remote_commit(self, count: int = 1) -> None:
        """Someone else committed ``count`` changes on the primary."""
        with self._lock:
            self._remote += _check.count("count", count)

    @property
    def local_changes(self) -> int:
        """Local changes committed so far (including those held at creation)."""
        return self._local

    # ----------------------------------------------------------- the seam
    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(counts_unpushed=True)

    def pending_changes(self) -> int:
        with self._lock:
            return self._local - self._confirmed

    def push(self, timeout: float) -> PushResult:
        step, index = self._begin("push", timeout)
        with self._lock:
            upto = self._local
            # the engine sends everything after its last confirmed push; the primary skips
            # what it already has from this replica
            sent = self._apply(self._confirmed, upto)
            if not step.partial:
                self._confirmed = upto
        if step.partial:
            self._end(index, SyncError(FailureKind.TIMEOUT, "push reply lost (timed out)"))
        self._end(index, None)
        return PushResult(changes=len(sent), nbytes=64 * len(sent))

    def pull(self, timeout: float) -> PullResult:
        _, index = self._begin("pull", timeout)
        with self._lock:
            got, self._remote = self._remote, 0
        self._end(index, None)
        return PullResult(changes=1 if got else 0, nbytes=64 * got)

    def local_db_size(self) -> int:
        return self.local_size

    def connect(self) -> Any:
        return sqlite3.connect(":memory:", check_same_thread=False)

    def close(self) -> None:
        self.closed = True
        self._release.set()

    # ------------------------------------------------------------- helpers
    def _apply(self, after: int, upto: int) -> list[int]:
        """The primary applies changes ``after+1..upto`` it does not have yet (lock held)."""
        last = self.primary[-1] if self.primary else 0
        new = list(range(max(after, last) + 1, upto + 1))
        self.primary.extend(new)
        return new

    def _begin(self, op: str, timeout: float) -> tuple[Step, int]:
        call = FakeCall(op, timeout, self.timer.now())
        with self._lock:
            queued = self._steps[op]
            step = queued.popleft() if queued else None
        if step is None and self.handler is not None:
            step = self.handler(call)
        step = step or Step()
        with self._lock:
            self.calls.append(call)
            index = len(self.calls) - 1
        if step.hang:
            self.hanging.set()
            self._release.wait()
            self.hanging.clear()
        if step.latency > timeout:
            self.timer.sleep(timeout)
            self._end(index, SyncError(FailureKind.TIMEOUT, f"{op} timed out after {timeout:g} s"))
        self.timer.sleep(step.latency)
        if step.fail is not None:
            self._end(index, SyncError(step.fail, f"scripted {step.fail.value} failure"))
        return step, index

    def _end(self, index: int, error: SyncError | None) -> None:
        with self._lock:
            call = self.calls[index]
            self.calls[index] = FakeCall(call.op, call.timeout, call.began,
                                         "ok" if error is None else error.kind.value)
        if error is not None:
            raise error

    def __repr__(self) -> str:
        return f"FakeReplica(pending={self.pending_changes()}, primary={len(self.primary)})"
