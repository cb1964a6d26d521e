"""Where the controller gets the time and how it waits: injectable, so tests need no real sleeps.

:class:`SyncController` never calls ``time.monotonic``, ``time.sleep`` or ``Event.wait``
directly for its schedule, deadlines and backoff: it asks a :class:`Timer`. :data:`REAL_TIME`
is the real one; :class:`ManualTimer` is virtual time that jumps forward instead of sleeping,
so a test runs hours of backoff, flushes and stop deadlines in milliseconds.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from synctune.policy import _check

#: the name of every controller's sync thread
SYNC_THREAD_NAME = "synctune-sync"


class Timer(Protocol):
    """A monotonic clock (seconds) with the two ways the controller waits."""

    def now(self) -> float:
        """Seconds on a monotonic scale."""
        ...

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Wait until ``event`` is set or ``seconds`` pass; True when it is set."""
        ...

    def sleep(self, seconds: float) -> None:
        """Pause for ``seconds``."""
        ...


class RealTimer:
    """Real time: ``time.monotonic``, ``Event.wait`` and ``time.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(max(0.0, seconds))

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "RealTimer()"


#: the timer controllers use unless given another
REAL_TIME = RealTimer()


class SteadyClock:
    """``clock`` made non-decreasing: a step back is absorbed into an offset, so time goes on
    from its last reading at the clock's own rate.

    Strategies refuse time going backwards; an app's wall clock stepped back (as NTP may) would
    otherwise end the sync thread and fail every report until the clock caught up. Thread-safe.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._offset = 0.0
        self._last = -math.inf

    def __call__(self) -> float:
        with self._lock:
            now = self._clock() + self._offset
            if now < self._last:
                self._offset += self._last - now
                now = self._last
            self._last = now
            return now

    def __repr__(self) -> str:
        return f"SteadyClock({self._clock!r})"


def checked_clocks(timer: Timer, clock: Callable[[], float] | None) -> Callable[[], float]:
    """The clock (s) a controller drives its strategy with: ``timer.now`` by default, else
    ``clock`` held steady (:class:`SteadyClock`); raises ``TypeError`` on a timer without
    ``now()``, ``wait()`` and ``sleep()`` or a clock that is not callable."""
    for name in ("now", "wait", "sleep"):
        if not callable(getattr(timer, name, None)):
            raise TypeError(f"timer must have now(), wait() and sleep(), got {timer!r}")
    if clock is None:
        return timer.now
    if not callable(clock):
        raise TypeError(f"clock must be callable, got {clock!r}")
    return SteadyClock(clock)


class ManualTimer:
    """Virtual time for tests: waiting and sleeping move the clock instead of blocking.

    ``wait(event, s)`` first gives other threads some real time to set ``event`` (work that
    takes no virtual time, such as a scripted sync, finishes within it); if it is still unset,
    the clock jumps ``s`` seconds ahead and the answer is whether it got set meanwhile. The sync
    thread's own waits allow ``grace`` (an app event may be on its way); waits in any other
    thread - a stop waiting for the sync thread - allow ``patience``, so a stop deadline passes
    only while the sync thread is really stuck, not merely slow to get the processor.
    ``sleep(s)`` moves the clock ``s`` ahead at once. The recent pauses are kept in
    :attr:`pauses` (seconds) so tests can check backoff and deadlines exactly. Thread-safe: the
    sync thread and the test thread share one clock, which never goes backwards.

    Args:
        start: the clock's first reading (s).
        grace: real seconds a wait in the sync thread lets others act before time jumps.
        patience: real seconds a wait in another thread lets the sync thread act.
    """

    def __init__(self, start: float = 0.0, grace: float = 0.05, patience: float = 0.5) -> None:
        self._now = _check.real("start", start)
        self.grace = _check.real("grace", grace, minimum=0.0)
        self.patience = _check.real("patience", patience, minimum=0.0)
        self._lock = threading.Lock()
        #: the last 10,000 waits and sleeps, in seconds, oldest first
        self.pauses: deque[float] = deque(maxlen=10_000)

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock ``seconds`` (>= 0) ahead; returns the new reading."""
        seconds = _check.real("seconds", seconds, minimum=0.0)
        with self._lock:
            self._now += seconds
            return self._now

    def wait(self, event: threading.Event, seconds: float) -> bool:
        mine = threading.current_thread().name == SYNC_THREAD_NAME
        if event.wait(self.grace if mine else self.patience):
            return True
        seconds = max(0.0, seconds)
        with self._lock:
            self.pauses.append(seconds)
            self._now += seconds
        return event.is_set()

    def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        with self._lock:
            self.pauses.append(seconds)
            self._now += seconds
        time.sleep(0)

    def __repr__(self) -> str:
        return f"ManualTimer(now={self.now():g})"
