"""Run several strategies as one: sync when any of them says so."""

from __future__ import annotations

from synctune.policy.errors import InvalidInput, InvalidType
from synctune.policy.strategy import Decision, FailureKind, SyncReport, SyncStrategy


class AnyOf(SyncStrategy):
    """Combine strategies; the earliest due time wins.

    ``Periodic(60) | OnWrite()`` is the guide's production set-up. Every event reaches every
    part, so each keeps its own state; the interval in force is the shortest one.
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
        self.name = "+".join(p.name for p in self.parts)
        # only parts that can make a read wait are asked before each read
        self._waiters = tuple(p for p in self.parts if p.max_read_wait > 0.0)
        self._max_read_wait = max((p.max_read_wait for p in self._waiters), default=0.0)

    def start(self, now: float) -> None:
        super().start(now)
        for p in self.parts:
            p.start(now)

    def on_local_write(self, now: float, count: int = 1, pushed: bool = False) -> None:
        super().on_local_write(now, count, pushed)
        for p in self.parts:
            p.on_local_write(now, count, pushed)

    def on_read(self, now: float, count: int = 1) -> None:
        for p in self.parts:
            p.on_read(now, count)
        super().on_read(now, count)  # after the parts: its hook looks at their decisions

    def _after_read(self, now: float, count: int) -> None:
        # a part that re-decides on reads makes the whole re-decide
        if any(p._decision is None for p in self.parts):
            self._decision = None

    def before_read(self, now: float) -> float:
        """The longest wait any part asks for (0.0 when none does)."""
        wait = 0.0
        for p in self._waiters:
            w = p.before_read(now)
            if w > wait:
                wait = w
            if p._decision is None:
                self._decision = None
        return wait

    @property
    def max_read_wait(self) -> float:
        return self._max_read_wait

    def on_pull_observed(self, now: float, pulled: int = 0, as_of: float | None = None) -> None:
        super().on_pull_observed(now, pulled, as_of)
        for p in self.parts:
            p.on_pull_observed(now, pulled, as_of)

    def on_sync_requested(self, now: float) -> None:
        super().on_sync_requested(now)
        for p in self.parts:
            p.on_sync_requested(now)

    def on_announcement(self, now: float, commit_time: float | None = None) -> None:
        super().on_announcement(now, commit_time)
        for p in self.parts:
            p.on_announcement(now, commit_time)
        self._decision = None

    def on_channel(self, now: float, up: bool) -> None:
        super().on_channel(now, up)
        for p in self.parts:
            p.on_channel(now, up)
        self._decision = None

    def on_sync_started(self, now: float) -> None:
        super().on_sync_started(now)
        for p in self.parts:
            p.on_sync_started(now)

    def on_sync_finished(self, now: float, report: SyncReport) -> None:
        super().on_sync_finished(now, report)
        for p in self.parts:
            p.on_sync_finished(now, report)

    def on_sync_failed(self, now: float, kind: FailureKind | str, duration: float) -> None:
        super().on_sync_failed(now, kind, duration)
        for p in self.parts:
            p.on_sync_failed(now, kind, duration)

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

    def sync_timeout(self) -> float | None:
        timeouts = [t for t in (p.sync_timeout() for p in self.parts) if t is not None]
        return min(timeouts) if timeouts else None

    @property
    def interval_in_force(self) -> float | None:
        intervals = [i for i in (p.interval_in_force for p in self.parts) if i is not None]
        return min(intervals) if intervals else None

    def __repr__(self) -> str:
        return " | ".join(repr(p) for p in self.parts)
