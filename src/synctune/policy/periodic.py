"""Sync every ``interval`` seconds (the guide's ``syncInterval``)."""

from __future__ import annotations

from synctune.policy import _check
from synctune.policy.errors import InvalidInput
from synctune.policy.strategy import Decision, SyncStrategy

#: shortest interval (s) accepted: one sync takes longer (about 10 ms on loopback), so anything
#: shorter only asks for syncs back to back; ``periodic:1e-300`` is a typo, not a schedule
MIN_INTERVAL = 0.001


def _interval(value: float) -> float:
    interval = _check.real("interval", value, minimum=0.0, strict=True)
    if interval < MIN_INTERVAL:
        raise InvalidInput(f"interval must be >= {MIN_INTERVAL:g} s (one sync takes longer), "
                           f"got {value!r}")
    return interval


class Periodic(SyncStrategy):
    """Sync ``interval`` seconds after the previous attempt ended.

    Counting from the end of the last attempt (not its start) matches a client that loops
    "sync, then sleep": syncs never pile up when one is slow. A failed attempt is simply retried
    one interval later, as such clients do. App requests (``on_sync_requested``) are honoured.
    """

    name = "periodic"

    def __init__(self, interval: float) -> None:
        super().__init__()
        self._interval = _interval(interval)
        self._reason = f"every {self._interval:g} s"
        self._last: Decision | None = None

    @property
    def interval(self) -> float:
        """Seconds between the end of one attempt and the start of the next."""
        return self._interval

    @property
    def interval_in_force(self) -> float | None:
        return self._interval

    def _decide(self, now: float) -> Decision:
        due = self._anchor() + self._interval
        # writes re-ask after every commit: reuse the decision while the schedule stands
        last = self._last
        if last is None or last.due != due:
            self._last = last = Decision(due, self._reason, self._interval)
        return last

    def retune(self, interval: float) -> None:
        """Change the interval (s) from now on; the next sync counts from the last attempt."""
        self._interval = _interval(interval)
        self._reason = f"every {self._interval:g} s"
        self._decision = None

    def __repr__(self) -> str:
        return f"Periodic(interval={self._interval:g})"
