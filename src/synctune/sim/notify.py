"""``notify``: a reference for primaries that announce their commits (long-poll pulls)."""

from __future__ import annotations

import bisect

import numpy as np

from synctune.policy import _check
from synctune.policy.strategy import Decision, FailureKind, SyncReport, SyncStrategy

_IDLE = Decision(None, "no reads here, or no commit left to pull")


class Notify(SyncStrategy):
    """What server support for change notification would buy: the replica learns of each
    commit when it lands (a long-poll pull returning), not when it next polls.

    It pulls as late as the freshness target allows: when the oldest commit it has not pulled
    turns ``freshness`` old, less ``lead`` seconds for the pull itself, so one pull covers every
    commit of a burst. A replica that serves no reads never pulls. Unlike the oracle it does not
    know when reads come. Failed pulls are retried at once; app requests are not needed.

    Args:
        commits: commit times (s) the replica must see, sorted (the announcements).
        freshness: target D (s, > 0).
        lead: seconds a pull needs before what it brings is visible (>= 0).
        reads: whether the replica serves reads at all.
    """

    name = "notify"
    honours_requests = False

    def __init__(self, commits: np.ndarray, freshness: float, lead: float = 0.0,
                 reads: bool = True) -> None:
        super().__init__()
        d = _check.real("freshness", freshness, minimum=0.0, strict=True)
        self._wait = max(0.0, d - _check.real("lead", lead, minimum=0.0))
        self._commits = np.asarray(commits, dtype=np.float64).tolist()
        self._reads = _check.flag("reads", reads)
        self._seen = 0  # commits before this index are pulled
        self._pulling = 0
        self._retry = False

    def on_sync_started(self, now: float) -> None:
        super().on_sync_started(now)
        self._pulling = bisect.bisect_right(self._commits, now)

    def _after_success(self, now: float, started: float, report: SyncReport) -> None:
        self._seen = max(self._seen, self._pulling)
        self._retry = False

    def _after_failure(self, now: float, kind: FailureKind, duration: float) -> None:
        self._retry = True

    def _decide(self, now: float) -> Decision:
        if not self._reads or self._seen >= len(self._commits):
            return _IDLE
        if self._retry:
            return Decision(now, "retry the pull")
        return Decision(self._commits[self._seen] + self._wait,
                        "a commit was announced: pull before it is D old")

    def __repr__(self) -> str:
        return f"Notify(commits={len(self._commits)}, wait={self._wait:g})"
