"""Calls into the strategy that may raise: a bug in a policy object never ends the sync thread
nor fails an app call.

A strategy is user-extensible code run inside the sync thread and the app's calls. When one of
its calls raises, the caller gets a safe fallback value, the error is counted
(``sync_failures{kind="strategy"}``) and logged once per distinct call and type (the type only:
its message may hold anything), and the sync thread syncs on :data:`FALLBACK` until the
strategy handles a whole sync without raising (its state may be inconsistent until then).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from synctune.live.telemetry import SyncTelemetry
from synctune.policy import Backoff

log = logging.getLogger("synctune.live")

T = TypeVar("T")

#: retry pauses (s) while the strategy raises: bounded, and without jitter (a local bug, not a
#: herd of replicas against one primary)
FALLBACK = Backoff(base=1.0, cap=60.0, jitter=False)


class StrategyGuard:
    """Runs strategy calls, turning an exception into a fallback value and a recorded error.

    Thread-safe on its own lock; it never logs (a log handler may block): the sync thread calls
    :meth:`log_new` holding no lock.
    """

    def __init__(self, telemetry: SyncTelemetry) -> None:
        self._telemetry = telemetry
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._unlogged: list[str] = []
        #: strategy calls that raised since start
        self.errors = 0
        #: the first error ("ValueError in on_sync_finished") since the strategy was last
        #: trusted, else ``None``
        self.error: str | None = None

    def call(self, what: str, fn: Callable[[], T], fallback: T) -> T:
        """``fn()``, or ``fallback`` when it raises (``what``: the strategy call, for logs)."""
        try:
            return fn()
        except Exception as exc:
            self.failed(what, exc)
            return fallback

    def read(self, strategy: object, name: str, fallback: T) -> T:
        """The strategy's property ``name``, or ``fallback`` when computing it raises."""
        return self.call(name, lambda: getattr(strategy, name), fallback)

    def failed(self, what: str, exc: Exception) -> None:
        error = f"{type(exc).__name__} in {what}"
        with self._lock:
            self.errors += 1
            if self.error is None:  # the first is the cause; the strategy's state may be off since
                self.error = error
            if error not in self._seen:
                self._seen.add(error)
                self._unlogged.append(error)
        self._telemetry.on_strategy_error()

    def trust(self) -> None:
        """The strategy handled a whole sync without raising: its schedule is back in force."""
        with self._lock:
            self.error = None

    def log_new(self) -> None:
        """Log the errors not logged yet (call holding no lock)."""
        with self._lock:
            new, self._unlogged = self._unlogged, []
        for error in new:
            log.error("strategy raised %s; syncing on a fallback backoff (%g-%g s) until it "
                      "handles a sync without raising", error, FALLBACK.base, FALLBACK.cap)
