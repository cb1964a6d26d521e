"""``notify``: a reference for primaries that announce their commits (long-poll pulls)."""

from __future__ import annotations

import math

from synctune.policy import _check
from synctune.policy.strategy import Decision, FailureKind, SyncReport, SyncStrategy

_INF = math.inf
_IDLE = Decision(None, "no reads here, or no commit left to pull")


class Notify(SyncStrategy):
    """What server support for change notification would buy: the replica learns of each
    commit when it lands on the primary (a perfect channel: no delay, no loss), not when it
    next polls.

    Commits arrive as :meth:`on_announcement` events at their commit times. It pulls as late
    as the freshness target allows: when the oldest commit it has not pulled turns
    ``freshness`` old, less ``lead`` seconds for the pull itself, so one pull covers every
    commit of a burst. A pull covers the commits announced before it started. Local-first
    writes are pushed within ``freshness`` of the first unpushed one (so that the others can
    hear of them). Like a real
    replica it learns whether it serves reads as it runs: until its first read it never pulls.
    Unlike the oracle it does not know when reads come. Failed pulls are retried at once; app
    requests are not needed.

    Args:
        freshness: target D (s, > 0).
        lead: seconds a pull needs before what it brings is visible (>= 0).
    """

    name = "notify"
    honours_requests = False

    def __init__(self, freshness: float, lead: float = 0.0) -> None:
        super().__init__()
        d = _check.real("freshness", freshness, minimum=0.0, strict=True)
        self._d = d
        self._wait = max(0.0, d - _check.real("lead", lead, minimum=0.0))
        # oldest commit announced and not pulled: before the pull in flight, and during it
        self._pend = _INF
        self._pend_flight = _INF
        self._retry = False

    def _after_announcement(self, now: float, commit_time: float | None) -> None:
        c = now if commit_time is None or commit_time > now else commit_time
        if self._state.in_flight_since is None:
            if c < self._pend:
                self._pend = c
                self._redecide()
        elif c < self._pend_flight:
            self._pend_flight = c

    def _after_read(self, now: float, count: int) -> None:
        if self._state.reads == count:
            self._redecide()  # the first reads: commits now matter here

    def _after_pull_observed(self, now: float, pulled: int, as_of: float | None) -> None:
        # caught up as of now (read-your-writes): every commit announced so far is here
        self._pend = self._pend_flight = _INF

    def _after_success(self, now: float, started: float, report: SyncReport) -> None:
        self._pend, self._pend_flight = self._pend_flight, _INF
        self._retry = False

    def _after_failure(self, now: float, kind: FailureKind, duration: float) -> None:
        self._pend = min(self._pend, self._pend_flight)
        self._pend_flight = _INF
        self._retry = True

    def _decide(self, now: float) -> Decision:
        pull = self._pend + self._wait if self._state.reads and self._pend < _INF else _INF
        st = self._state  # the oldest unpushed write, from the record
        oldest = st.first_unpushed
        if oldest is None:
            oldest = st.first_since_start
        push = oldest + self._d if oldest is not None else _INF
        if pull == _INF and push == _INF:
            return _IDLE
        if self._retry:
            return Decision(now, "retry the sync")
        if push < pull:
            return Decision(push, "push local writes within D")
        return Decision(pull, "a commit was announced: pull before it is D old")

    def __repr__(self) -> str:
        return f"Notify(wait={self._wait:g})"
