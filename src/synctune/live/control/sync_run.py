"""One sync attempt: push, then pull with the time left, all within one deadline.

No locks, no strategy: the sync thread calls :func:`run_sync` and turns the
:class:`SyncOutcome` into strategy events, metrics and history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from synctune.live.replica.base import PullResult, PushResult, Replica
from synctune.live.replica.errors import SyncError, classify
from synctune.live.timing import Timer
from synctune.policy import FailureKind

#: shortest deadline (s) a sync is given, so a nearly spent stop deadline still tries once
MIN_TIMEOUT = 0.05


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """What one attempt did.

    Attributes:
        pushed: the push's result (``None`` when the push failed).
        pulled: the pull's result (``None`` when it failed or never ran).
        pull_started: controller clock (s) when the pull began, ``None`` if it never did.
        kind: why it failed, ``None`` on success.
        message: the failure's message (tokens already removed), ``None`` on success.
    """

    pushed: PushResult | None
    pulled: PullResult | None
    pull_started: float | None
    kind: FailureKind | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        """True when both the push and the pull succeeded."""
        return self.kind is None

    @property
    def nbytes(self) -> int:
        """Bytes moved by the parts that succeeded."""
        return sum(r.nbytes for r in (self.pushed, self.pulled) if r is not None)


def run_sync(replica: Replica, timeout: float, *, timer: Timer, clock: Callable[[], float],
             phase: Callable[[str | None], None] = lambda _: None) -> SyncOutcome:
    """Push, then pull, ending by ``timeout`` seconds (``timer`` time) from now.

    ``phase`` is told ``"push"``, ``"pull"`` and finally ``None`` as the attempt moves on, so
    a stop that gives up on it can say what it abandoned. Never raises for a failed sync.
    """
    timeout = max(timeout, MIN_TIMEOUT)
    end = timer.now() + timeout
    pushed: PushResult | None = None
    pull_started: float | None = None
    try:
        phase("push")
        pushed = replica.push(timeout)
        left = end - timer.now()
        if left <= 0:
            raise SyncError(FailureKind.TIMEOUT, f"no time left to pull within {timeout:g} s")
        phase("pull")
        pull_started = clock()
        pulled = replica.pull(left)
    except Exception as exc:
        if isinstance(exc, SyncError):
            kind, message = exc.kind, str(exc)
        else:  # an adapter bug: keep the type only, never a message that may hold secrets
            kind, message = classify(exc, ""), f"{type(exc).__name__} in the replica adapter"
        return SyncOutcome(pushed, None, pull_started, kind, message)
    finally:
        phase(None)
    return SyncOutcome(pushed, pulled, pull_started)
