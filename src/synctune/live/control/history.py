"""The record of sync attempts, and waiting for the next one (``sync_now``)."""

from __future__ import annotations

import asyncio
import contextlib
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
        # coroutines waiting (wait_after_async): the attempt start each waits for, its loop
        # and future
        self._awaiting: list[tuple[float, asyncio.AbstractEventLoop, asyncio.Future[bool]]] = []

    def record(self, attempt: SyncAttempt) -> None:
        """Add ``attempt`` and wake everyone waiting for one."""
        with self._changed:
            self.attempts.append(attempt)
            self._last = attempt
            self._changed.notify_all()
            answered = [w for w in self._awaiting if w[0] <= attempt.started]
            self._awaiting = [w for w in self._awaiting if w[0] > attempt.started]
        for _, loop, future in answered:
            _settle(loop, future, attempt.ok)

    def wake(self) -> None:
        """Wake the waiters without a new attempt (the sync thread ended)."""
        with self._changed:
            self._changed.notify_all()
            awaiting, self._awaiting = self._awaiting, []
        for _, loop, future in awaiting:
            _settle(loop, future, False)

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

    async def wait_after_async(self, asked: float, timeout: float | None,
                               alive: Callable[[], bool]) -> bool:
        """:meth:`wait_after` for a coroutine: the event loop and its worker threads stay free
        while it waits (at most ``timeout`` real seconds)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        entry = (asked, loop, future)
        with self._changed:
            if self._last is not None and self._last.started >= asked:
                return self._last.ok
            if not alive():  # checked under the lock the ending thread's wake() takes
                return False
            self._awaiting.append(entry)
        try:
            await asyncio.wait((future,), timeout=timeout)
        finally:
            with self._changed, contextlib.suppress(ValueError):
                self._awaiting.remove(entry)
        return future.done() and not future.cancelled() and future.result()


def _settle(loop: asyncio.AbstractEventLoop, future: asyncio.Future[bool], ok: bool) -> None:
    """Answer a waiting coroutine from the sync thread (its loop may have closed meanwhile)."""
    def answer() -> None:
        if not future.done():
            future.set_result(ok)

    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(answer)
