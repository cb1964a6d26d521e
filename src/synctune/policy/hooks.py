"""The events a strategy may observe, as no-op hooks a subclass extends.

The driver's record (:class:`~synctune.policy.sync_state.SyncState`) is updated before each
hook runs; a hook updates the strategy's own estimates and, when its decision may move, calls
``_redecide()``.
"""

from __future__ import annotations

from synctune.policy.decision import FailureKind, SyncReport


class StrategyHooks:
    """No-op observation hooks (the base of :class:`~synctune.policy.strategy.SyncStrategy`)."""

    def _after_start(self, now: float) -> None:
        """Hook: the driver started at ``now``."""

    def _after_write(self, now: float, count: int, pushed: bool) -> None:
        """Hook: ``count`` local writes at ``now`` (already in the record)."""

    def _after_request(self, now: float) -> None:
        """Hook: the app asked for a sync at ``now`` (already in the record)."""

    def _after_sync_started(self, now: float) -> None:
        """Hook: a sync started at ``now`` (already in the record)."""

    def _after_success(self, now: float, started: float, report: SyncReport) -> None:
        """Hook: a sync that started at ``started`` succeeded at ``now``."""

    def _after_failure(self, now: float, kind: FailureKind, duration: float) -> None:
        """Hook: a sync failed at ``now``."""

    def _after_pull_observed(self, now: float, pulled: int,
                             as_of: float | None) -> None:
        """Hook: the replica caught up outside a scheduled sync (as of ``as_of``, or ``now``)."""

    def _after_announcement(self, now: float, commit_time: float | None) -> None:
        """Hook: a commit announcement arrived; call :meth:`_redecide` to re-decide."""

    def _after_channel(self, now: float, up: bool) -> None:
        """Hook: the announcement channel went up or down."""

    def _after_read(self, now: float, count: int) -> None:
        """Hook: ``count`` reads up to ``now``; call :meth:`_redecide` to re-decide."""
