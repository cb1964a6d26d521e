"""Run several strategies as one: sync when any of them says so."""

from __future__ import annotations

from synctune.policy.combination import Combination
from synctune.policy.decision import Decision
from synctune.policy.errors import InvalidInput, InvalidType
from synctune.policy.strategy import SyncStrategy


class AnyOf(Combination):
    """Combine strategies; the earliest due time wins.

    ``Periodic(60) | OnWrite()`` is the guide's production set-up. The parts decide from one
    shared record (:class:`~synctune.policy.sync_state.SyncState`) and each observes the
    events it cares about; the decision is the earliest of theirs, and the interval in force
    is the shortest one.
    """

    def __init__(self, *parts: SyncStrategy) -> None:
        super().__init__()
        if not parts:
            raise InvalidInput("parts must name at least one strategy, got none")
        flat: list[SyncStrategy] = []
        for part in parts:
            if not isinstance(part, SyncStrategy):
                raise InvalidType(f"parts must be SyncStrategy objects, got {part!r}")
            flat.extend(part.parts if isinstance(part, AnyOf) else (part,))
        self.parts: tuple[SyncStrategy, ...] = tuple(flat)
        self._adopt(*self.parts)
        self.name = "+".join(p.name for p in self.parts)
        # only parts that can make a read wait are asked before each read
        self._waiters = tuple(p for p in self.parts if p.max_read_wait > 0.0)
        self._max_read_wait = max((p.max_read_wait for p in self._waiters), default=0.0)

    def before_read(self, now: float) -> float:
        """The longest wait any part asks for (0.0 when none does)."""
        wait = 0.0
        for p in self._waiters:
            w = p.before_read(now)
            if w > wait:
                wait = w
        return wait

    @property
    def max_read_wait(self) -> float:
        return self._max_read_wait

    def _after_announcement(self, now: float, commit_time: float | None) -> None:
        super()._after_announcement(now, commit_time)
        self._decision = None

    def _after_channel(self, now: float, up: bool) -> None:
        super()._after_channel(now, up)
        self._decision = None

    def _decide(self, now: float) -> Decision:
        # runs after every write: one pass, no intermediate lists
        first: Decision | None = None
        interval: float | None = None
        for part in self.parts:
            d = part.decide(now)
            if d.due is not None and (first is None or d.due < first.due):  # type: ignore[operator]
                first = d
            if d.interval is not None and (interval is None or d.interval < interval):
                interval = d.interval
        if first is None:
            return Decision(None, "; ".join(p.decide(now).reason for p in self.parts), interval)
        if first.interval == interval:
            return first
        return Decision(first.due, first.reason, interval)

    @property
    def freshness_target(self) -> float | None:
        """The parts' freshness target D (s): the smallest one any part plans for."""
        targets = [d for d in (p.freshness_target for p in self.parts) if d is not None]
        return min(targets) if targets else None

    def sync_timeout(self) -> float | None:
        timeouts = [t for t in (p.sync_timeout() for p in self.parts) if t is not None]
        return min(timeouts) if timeouts else None

    @property
    def interval_in_force(self) -> float | None:
        intervals = [i for i in (p.interval_in_force for p in self.parts) if i is not None]
        return min(intervals) if intervals else None

    def __repr__(self) -> str:
        return " | ".join(repr(p) for p in self.parts)
