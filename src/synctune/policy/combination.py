"""A strategy made of other strategies that decide from one shared record."""

from __future__ import annotations

from synctune.policy.decision import FailureKind, SyncReport
from synctune.policy.strategy import SyncStrategy
from synctune.policy.sync_state import SyncState


class Combination(SyncStrategy):
    """Base of strategies built from inner ones (:class:`~synctune.policy.any_of.AnyOf`'s
    parts, :class:`~synctune.policy.announced.Announced`'s fallback).

    The inner strategies share this one's :class:`SyncState`: the record is updated once per
    event, then each inner strategy observes it through its hooks, in order. An inner strategy
    that re-decides (:meth:`_redecide`) makes this one re-decide too.
    """

    _inner: tuple[SyncStrategy, ...] = ()

    def _adopt(self, *inner: SyncStrategy) -> None:
        """Make ``inner`` decide from this strategy's record."""
        self._inner = inner
        for s in inner:
            s._owner = self
            s.bind(self._state)

    def bind(self, state: SyncState) -> None:
        super().bind(state)
        for s in self._inner:
            s.bind(state)

    @property
    def pooled(self) -> bool:
        return any(s.pooled for s in self._inner)

    def _after_start(self, now: float) -> None:
        for s in self._inner:
            s._decision = None
            s._after_start(now)

    def _after_write(self, now: float, count: int, pushed: bool) -> None:
        for s in self._inner:
            s._after_write(now, count, pushed)
            s._decision = None

    def _after_read(self, now: float, count: int) -> None:
        for s in self._inner:
            s._after_read(now, count)

    def _after_request(self, now: float) -> None:
        for s in self._inner:
            s._after_request(now)
            s._decision = None

    def _after_sync_started(self, now: float) -> None:
        for s in self._inner:
            s._after_sync_started(now)
            s._decision = None

    def _after_success(self, now: float, started: float, report: SyncReport) -> None:
        for s in self._inner:
            s._succeeded(now, started, report)

    def _after_failure(self, now: float, kind: FailureKind, duration: float) -> None:
        for s in self._inner:
            s._failed(now, kind, duration)

    def _after_pull_observed(self, now: float, pulled: int, as_of: float | None) -> None:
        for s in self._inner:
            s._after_pull_observed(now, pulled, as_of)
            s._decision = None

    def _after_announcement(self, now: float, commit_time: float | None) -> None:
        for s in self._inner:
            s._after_announcement(now, commit_time)

    def _after_channel(self, now: float, up: bool) -> None:
        for s in self._inner:
            s._after_channel(now, up)
