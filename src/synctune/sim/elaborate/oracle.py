"""The oracle: the fewest pulls that keep every read within the freshness target D.

Knowing every commit in advance, it pulls as late as possible: at the first read that would
otherwise see a commit older than D (earliest-deadline greedy over commit times). Pulls are
instant, so no real strategy can do with fewer: it is the physical limit strategies are compared
with. Exchange argument: any schedule must pull within ``[c, r]`` for the oldest unseen commit
``c`` and the first read ``r`` after ``c + D``; pulling at ``r`` sees a superset of what any
earlier choice sees.
"""

from __future__ import annotations

import bisect

import numpy as np

from synctune.policy import _check
from synctune.policy.strategy import Decision, FailureKind, SyncReport, SyncStrategy
from synctune.sim.reduce.staleness import staleness


def _late_reads(commits: np.ndarray, reads: np.ndarray, freshness: float, start_reach: float,
                free_t: np.ndarray | None, free_reach: np.ndarray | None) -> list[float]:
    """The sorted reads that the free pulls alone leave older than ``freshness``."""
    vis_t = np.concatenate([[-np.inf], np.asarray(free_t if free_t is not None else [],
                                                   dtype=np.float64)])
    reach = np.maximum.accumulate(np.concatenate(
        [[start_reach], np.asarray(free_reach if free_reach is not None else [],
                                   dtype=np.float64)]))
    late: list[float] = reads[staleness(reads, vis_t, reach, commits) > freshness].tolist()
    return late


def oracle_pulls(commits: np.ndarray, reads: np.ndarray, freshness: float, *,
                 start_reach: float = 0.0, free_t: np.ndarray | None = None,
                 free_reach: np.ndarray | None = None, lag: float = 0.0) -> np.ndarray:
    """Times (s) of the fewest pulls such that no read sees staleness above ``freshness``.

    With ``lag = 0`` pulls are instant (the physical limit); a pull visible at ``p`` then shows
    every commit up to ``p``. With ``lag > 0`` it shows commits up to ``p - lag`` only, the
    plan for a real pull that starts ``lag`` seconds before it must be visible.

    Args:
        commits: sorted primary commit times the node must see.
        reads: read times at the node, in any order (reads held for a pull run out of
            order: a held read can run after a later read that ran at once).
        freshness: the target D (s).
        start_reach: commits up to this time are visible at the start.
        free_t: times of pulls that happen anyway (read-your-writes pulls), sorted.
        free_reach: what each of them reaches (commits with time ``<=`` it become visible).
        lag: seconds between what a pull shows and when it becomes visible (>= 0).
    """
    d = _check.real("freshness", freshness, minimum=0.0)
    lag = _check.real("lag", lag, minimum=0.0)
    commits = np.asarray(commits, dtype=np.float64)
    reads = np.asarray(reads, dtype=np.float64)
    if commits.size == 0 or reads.size == 0:
        return np.empty(0)
    if reads.size > 1 and bool(np.any(reads[1:] < reads[:-1])):
        # the greedy walks reads in time order (bisect below)
        reads = np.sort(reads)
    # a paid pull at p caps a later read r's staleness at r - (first commit after p), so r
    # needs a paid pull after p only if both exceed D
    late = _late_reads(commits, reads, d, start_reach, free_t, free_reach)
    # commits can be millions (a fleet's log) and pulls few: search the array per pull
    # rather than converting it to a list
    n_commits = commits.size
    pulls: list[float] = []
    p, k = -np.inf, 0
    while k < len(late):
        j = int(np.searchsorted(commits, p - lag, side="right"))
        if j >= n_commits:
            break
        # late reads it covers: up to p, or within D of that commit as staleness measures it
        # (r - c, not c + D: the two round apart)
        c = float(commits[j])
        k = bisect.bisect_right(late, False, k, key=lambda r: r > p and r - c > d)
        if k >= len(late):
            break
        p = late[k]
        pulls.append(p)
    return np.asarray(pulls, dtype=np.float64)


class Oracle(SyncStrategy):
    """Runs the oracle's plan: starts each pull ``lead`` seconds before the planned instant
    (about one sync's duration), retries a failed pull at once, ignores app requests.

    Args:
        pulls: planned pull times (s), sorted, from :func:`oracle_pulls`.
        lead: seconds to start ahead of each planned pull.
    """

    name = "oracle"
    honours_requests = False

    def __init__(self, pulls: np.ndarray, lead: float = 0.0) -> None:
        super().__init__()
        lead = _check.real("lead", lead, minimum=0.0)
        self._starts = (np.asarray(pulls, dtype=np.float64) - lead).tolist()
        self._next = 0
        self._retry = False

    def on_sync_requested(self, now: float) -> None:
        """Ignored: the oracle pulls only when its plan says (app sync points and cold starts
        do not move it)."""

    def _after_sync_started(self, now: float) -> None:
        while self._next < len(self._starts) and self._starts[self._next] <= now:
            self._next += 1

    def _after_failure(self, now: float, kind: FailureKind, duration: float) -> None:
        self._retry = True

    def _after_success(self, now: float, started: float, report: SyncReport) -> None:
        self._retry = False

    def _decide(self, now: float) -> Decision:
        if self._retry:
            return Decision(now, "retry the planned pull")
        if self._next < len(self._starts):
            return Decision(self._starts[self._next], "planned pull (knows the future)")
        return Decision(None, "no more pulls needed")

    def __repr__(self) -> str:
        return f"Oracle(pulls={len(self._starts)})"
