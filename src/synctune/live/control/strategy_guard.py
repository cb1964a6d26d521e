"""Calls into the strategy that may raise: a bug in a policy object never ends the sync thread
nor fails an app call.

A strategy is user-extensible code run inside the sync thread and the app's calls. When one of
its calls raises, the caller gets a safe fallback value, the error is counted
(``sync_failures{kind="strategy"}``) and logged once per distinct call and type (the type only:
its message may hold anything), and the sync thread syncs on :data:`FALLBACK` until the
strategy handles a whole sync without raising (its state may be inconsistent until then).

A result of the wrong type or range (a ``sync_timeout()`` of NaN or ``"3"``, a ``Decision``
whose ``due`` is ``"soon"`` or NaN) is treated the same way: the caller gets the fallback, and
the value itself goes into the one log line (a short repr: results are numbers and reasons).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from synctune.live.control.telemetry import SyncTelemetry
from synctune.policy import Backoff, Decision

log = logging.getLogger("synctune.live")

T = TypeVar("T")

#: retry pauses (s) while the strategy raises: bounded, and without jitter (a local bug, not a
#: herd of replicas against one primary)
FALLBACK = Backoff(base=1.0, cap=60.0, jitter=False)


def _number(value: object) -> bool:
    return value.__class__ in (int, float) or (
        isinstance(value, int | float) and not isinstance(value, bool))


def seconds_or_none(value: object, *, positive: bool = False) -> str | None:
    """Why ``value`` is not ``None`` or a finite number of seconds (``> 0`` when ``positive``,
    else ``>= 0``); ``None`` when it is fine."""
    if value is None:
        return None
    if not _number(value) or not math.isfinite(value):  # type: ignore[arg-type]
        return "not None or a finite number of seconds"
    if value < 0 or (positive and value == 0):  # type: ignore[operator]
        return "must be > 0" if positive else "must be >= 0"
    return None


def due_or_none(value: object) -> str | None:
    """Why ``value`` is not a due time (``None`` or a finite number); ``None`` when fine."""
    if value is None or (_number(value) and math.isfinite(value)):  # type: ignore[arg-type]
        return None
    return "due must be None or a finite time in seconds"


def decision_problem(value: object) -> str | None:
    """Why ``value`` is not a usable :class:`~synctune.policy.Decision`; ``None`` when fine."""
    if not isinstance(value, Decision):
        return "not a Decision"
    problem = due_or_none(value.due) or seconds_or_none(value.interval, positive=True)
    if problem is None and not isinstance(value.reason, str):  # a callable reason is read here
        return "reason is not a string"
    return problem


def count_problem(value: object) -> str | None:
    """Why ``value`` is not a count (an int >= 0); ``None`` when fine."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return None
    return "not an integer >= 0"


#: the checks on the strategy's properties the controller reads
PROPERTY_CHECKS: dict[str, Callable[[object], str | None]] = {
    "unpushed_writes": count_problem, "consecutive_failures": count_problem,
    "interval_in_force": lambda v: seconds_or_none(v, positive=True)}


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
        #: the first error ("raised ValueError in on_sync_finished", "returned nan from
        #: sync_timeout (...)") since the strategy was last trusted, else ``None``
        self.error: str | None = None

    def call(self, what: str, fn: Callable[[], T], fallback: T,
             check: Callable[[Any], str | None] | None = None) -> T:
        """``fn()``, or ``fallback`` when it raises or ``check(result)`` names a problem
        (``what``: the strategy call, for logs)."""
        try:
            result = fn()
            problem = None if check is None else check(result)
        except Exception as exc:
            self.failed(what, exc)
            return fallback
        if problem is not None:
            self.returned(what, result, problem)
            return fallback
        return result

    def read(self, strategy: object, name: str, fallback: T) -> T:
        """The strategy's property ``name``, or ``fallback`` when computing it raises or gives
        a value of the wrong type or range."""
        return self.call(name, lambda: getattr(strategy, name), fallback,
                         PROPERTY_CHECKS.get(name))

    def failed(self, what: str, exc: Exception) -> None:
        """Record that the strategy call ``what`` raised ``exc`` (its type only is kept)."""
        error = f"raised {type(exc).__name__} in {what}"
        self._record(error, error)

    def returned(self, what: str, value: object, problem: str) -> None:
        """Record that the strategy call ``what`` returned ``value``, unusable for ``problem``."""
        try:
            shown = repr(value).replace("\n", " ")
        except Exception:
            shown = f"a {type(value).__name__}"
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        # logged once per call and problem, whatever the values
        self._record(f"returned {shown} from {what} ({problem})", f"{what}: {problem}")

    def _record(self, error: str, key: str) -> None:
        with self._lock:
            self.errors += 1
            if self.error is None:  # the first is the cause; the strategy's state may be off since
                self.error = error
            if key not in self._seen:
                self._seen.add(key)
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
            log.error("strategy %s; syncing on a fallback backoff (%g-%g s) until it "
                      "handles a sync cleanly", error, FALLBACK.base, FALLBACK.cap)
