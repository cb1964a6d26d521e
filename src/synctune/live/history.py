"""The record of sync attempts, and waiting for the next one (``sync_now``)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from synctune.policy import FailureKind


@dataclass(frozen=True, slots=True)
class SyncAttempt:
    """One sync as the controller ran it (controller clock, seconds).

    Attributes:
        started: when it started.
        ended: when it succeeded or failed.
        ok: True when it succeeded.
        kind: the failure kind, or ``None`` on success.
        reason: the strategy's reason for running it.
    """

    started: float
    ended: float
    ok: bool
    kind: FailureKind | None
    reason: str


class SyncHistory:
    """The most recent attempts (oldest first) and a condition to wait for new ones on.

    Args:
        maxlen: attempts kept.
    """

    def __init__(self, maxlen: int = 1000) -> None:
        #: the most recent sync attempts, oldest first
        self.attempts: deque[SyncAttempt] = deque(maxlen=maxlen)
        self._last: SyncAttempt | None = None
        self._changed = threading.Condition()

    def record(self, attempt: SyncAttempt) -> None:
        """Add ``attempt`` and wake everyone waiting for one."""
        with self._changed:
            self.attempts.append(attempt)
            self._last = attempt
            self._changed.notify_all()

    def wake(self) -> None:
        """Wake the waiters without a new attempt (the sync thread ended)."""
        with self._changed:
            self._changed.notify_all()

    def wait_after(self, asked: float, timeout: float | None,
                   alive: Callable[[], bool]) -> bool:
        """Wait (at most ``timeout`` real seconds) for an attempt started at or after ``asked``.

        Returns that attempt's ``ok``; False on timeout or once ``alive()`` says no attempt
        can come any more.
        """
        limit = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while self._last is None or self._last.started < asked:
                left = None if limit is None else limit - time.monotonic()
                if (left is not None and left <= 0) or not alive():
                    return False
                self._changed.wait(0.5 if left is None else min(left, 0.5))
            return self._last.ok
