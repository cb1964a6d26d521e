"""The driver's step, written once: the simulator and the live sync thread both drive a
strategy through a :class:`SyncDriver`; only the clock and the I/O differ.

The four-step contract of :mod:`synctune.policy.strategy` as code:

1. :meth:`SyncDriver.start` once;
2. the app's events (:meth:`~SyncDriver.write`, :meth:`~SyncDriver.read`,
   :meth:`~SyncDriver.before_read`, :meth:`~SyncDriver.request`,
   :meth:`~SyncDriver.pull_observed`, :meth:`~SyncDriver.announcement`,
   :meth:`~SyncDriver.channel`) as they happen;
3. :meth:`~SyncDriver.decide` / :meth:`~SyncDriver.next_due` ("this happened at ``now``:
   what next?") give the decision; when it is due (at or before the clock) and no sync is in
   flight, :meth:`SyncDriver.begin` starts one and gives its timeout, and
   :meth:`SyncDriver.finished` or :meth:`SyncDriver.failed` reports its outcome;
4. the driver asks again after every event: any event may move the due time.

The driver owns the replica's :class:`~synctune.policy.sync_state.SyncState` (what is
unpushed, in flight, requested, failing) and hands it to the strategy, which only reads it.
"""

from __future__ import annotations

from synctune.policy import _check
from synctune.policy.decision import FailureKind, SyncReport
from synctune.policy.strategy import SyncStrategy
from synctune.policy.sync_state import SyncState


def freshness_target(strategy: SyncStrategy, freshness: float | None) -> float | None:
    """The freshness target D (s) a driver counts reads against: the strategy's own, else
    ``freshness``; raises ``ValueError`` when both are given and differ."""
    own = strategy.freshness_target
    if freshness is None or own is None:
        return own if own is not None else freshness
    if freshness != own:
        raise ValueError(f"freshness must equal the strategy's freshness_target ({own!r}) "
                         f"when given, got {freshness!r}")
    return own


class SyncDriver:
    """Drives one strategy for one replica.

    The app's events go straight to the strategy's methods (they are the hot path: the
    simulator makes millions of them), so they cost what a direct call costs.

    Args:
        strategy: the strategy to drive (not yet started); it decides from this driver's
            :attr:`state` from now on.
        default_timeout: deadline (s) of a sync when the strategy offers none.
    """

    def __init__(self, strategy: SyncStrategy, default_timeout: float) -> None:
        if not isinstance(strategy, SyncStrategy):
            raise TypeError(f"strategy must be a SyncStrategy, got {type(strategy).__name__}")
        self.strategy = strategy
        self.default_timeout = _check.real("default_timeout", default_timeout, minimum=0.0,
                                           strict=True)
        #: the replica's record, owned here; the strategy reads it
        self.state = SyncState()
        strategy.bind(self.state)
        # the app's events: the strategy's own methods, no call in between
        self.write = strategy.on_local_write
        self.read = strategy.on_read
        self.before_read = strategy.before_read
        self.request = strategy.on_sync_requested
        self.pull_observed = strategy.on_pull_observed
        self.announcement = strategy.on_announcement
        self.channel = strategy.on_channel
        self.decide = strategy.decide
        self.next_due = strategy.next_sync_due

    def start(self, now: float) -> None:
        """Begin at ``now`` (s)."""
        self.strategy.start(now)

    def begin(self, now: float) -> float:
        """A sync starts at ``now`` (s): returns its timeout (s), the strategy's or the
        default."""
        self.strategy.on_sync_started(now)
        timeout = self.strategy.sync_timeout()
        return self.default_timeout if timeout is None else timeout

    def finished(self, now: float, report: SyncReport) -> None:
        """The sync in flight succeeded at ``now`` (s)."""
        self.strategy.on_sync_finished(now, report)

    def failed(self, now: float, kind: FailureKind, duration: float) -> None:
        """The sync in flight failed at ``now`` (s) after ``duration`` s."""
        self.strategy.on_sync_failed(now, kind, duration)

    def interval_in_force(self) -> float | None:
        """The strategy's periodic interval in force (s), or ``None``."""
        return self.strategy.interval_in_force

    def __repr__(self) -> str:
        return f"SyncDriver({self.strategy!r}, {self.state!r})"
