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
from typing import ParamSpec, TypeVar, cast

from synctune.live.control.telemetry import SyncTelemetry
from synctune.policy import Announced, Backoff, Decision, Watcher
from synctune.policy.decision import FailureKind, SyncReport
from synctune.policy.driver import SyncDriver
from synctune.policy.strategy import SyncStrategy

log = logging.getLogger("synctune.live")

T = TypeVar("T")
P = ParamSpec("P")

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


class StrategyGuard:
    """Records the strategy's errors: counted, logged once each, the first kept as the cause.

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


def _positive(value: object) -> str | None:
    return seconds_or_none(value, positive=True)


def _any(value: object) -> str | None:
    return None


class GuardedDriver:
    """The :class:`~synctune.policy.driver.SyncDriver` of the live sync thread and the app's
    calls, with every strategy call guarded: a call that raises, or returns a value of the
    wrong type or range, gives the fallback declared in its method here and is recorded in
    :attr:`guard`. Not thread-safe: the controller calls it holding its state lock.

    What the driver knows itself (what is unpushed, failures in a row) is read from its
    record, which no strategy code computes.
    """

    def __init__(self, strategy: SyncStrategy, default_timeout: float,
                 guard: StrategyGuard) -> None:
        self.driver = SyncDriver(strategy, default_timeout)
        self.strategy = strategy
        self.state = self.driver.state
        self.guard = guard

    def _call(self, fn: Callable[P, T], fallback: T, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args)``, or ``fallback`` when it raises (recorded under ``fn``'s name)."""
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            self.guard.failed(getattr(fn, "__name__", "strategy"), exc)
            return fallback

    def _ask(self, fn: Callable[P, object], fallback: T, check: Callable[[object], str | None],
             *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args)``, or ``fallback`` when it raises or ``check`` names a problem with
        what it returned (recorded under ``fn``'s name)."""
        what = getattr(fn, "__name__", "strategy")
        try:
            value = fn(*args, **kwargs)
            problem = check(value)
        except Exception as exc:
            self.guard.failed(what, exc)
            return fallback
        if problem is not None:
            self.guard.returned(what, value, problem)
            return fallback
        return cast(T, value)

    # ------------------------------------------------------------ the app's events
    def start(self, now: float) -> None:
        """Begin at ``now`` (unguarded: a strategy that cannot start fails the start)."""
        self.driver.start(now)

    def write(self, now: float, count: int, pushed: bool = False) -> None:
        self._call(self.strategy.on_local_write, None, now, count, pushed)

    def read(self, now: float, count: int) -> None:
        self._call(self.strategy.on_read, None, now, count)

    def before_read(self, now: float) -> float:
        """How long (s) a read waits; 0.0 when the strategy cannot say."""
        return self._ask(self.strategy.before_read, 0.0, seconds_or_none, now) or 0.0

    def request(self, now: float) -> None:
        self._call(self.strategy.on_sync_requested, None, now)

    def announcement(self, now: float, commit_time: float | None) -> None:
        self._call(self.strategy.on_announcement, None, now, commit_time)

    def channel(self, now: float, up: bool) -> None:
        self._call(self.strategy.on_channel, None, now, up)

    # ------------------------------------------------------------------ the step
    def decide(self, now: float) -> Decision | None:
        """The strategy's decision; ``None`` when it cannot give a usable one."""
        return self._ask(self.strategy.decide, None, decision_problem, now)

    def next_due(self, now: float) -> float | None:
        """The next sync's due time (s); ``None`` when the strategy cannot say."""
        due: float | None = self._ask(self.strategy.next_sync_due, None, due_or_none, now)
        return due

    def begin(self, now: float) -> float:
        """A sync starts at ``now``: its timeout (s), the default when the strategy has none
        or cannot say."""
        self._call(self.strategy.on_sync_started, None, now)
        timeout: float | None = self._ask(self.strategy.sync_timeout, None, _positive)
        return self.driver.default_timeout if timeout is None else float(timeout)

    def finished(self, now: float, report: SyncReport) -> None:
        self._call(self.strategy.on_sync_finished, None, now, report)

    def failed(self, now: float, kind: FailureKind, duration: float) -> None:
        self._call(self.strategy.on_sync_failed, None, now, kind, duration)

    # ----------------------------------------------------------------- views
    def interval_in_force(self) -> float | None:
        """The strategy's periodic interval (s), ``None`` when it has none or cannot say."""
        def interval_in_force() -> float | None:
            return self.strategy.interval_in_force

        result: float | None = self._ask(interval_in_force, None, _positive)
        return result

    def commit_floor(self) -> float | None:
        """A watcher's earliest commit time of its latest pull (s); ``None`` when unknown."""
        strategy = self.strategy
        if not isinstance(strategy, Watcher):
            return None
        def commit_floor() -> float | None:
            return strategy.commit_floor

        floor: float | None = self._ask(commit_floor, None, due_or_none)
        return floor

    def fallback_active(self) -> bool | None:
        """Whether an announced strategy is on its fallback; ``None`` for other strategies or
        when it cannot say."""
        strategy = self.strategy
        if not isinstance(strategy, Announced):
            return None
        def fallback_active() -> bool:
            return bool(strategy.fallback_active)

        active: bool | None = self._ask(fallback_active, None, _any)
        return active
