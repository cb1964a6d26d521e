"""The primary's commit log as a frozen record: every commit sorted by commit time, with its
origin, the write it came from, and the bytes before it.

With delegated writes it is built before the run, from the write plan; with local-first
writes after it, once the pushes are known. A fleet's log holds tens of millions of commits,
so it is kept in as few bytes as possible (int32 origins and refs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from synctune.sim.elaborate.workload import Workload
from synctune.sim.elaborate.write_plan import PlannedCommits
from synctune.sim.reduce.visibility import CommitLog


@dataclass(frozen=True, slots=True)
class CommitRecord:
    """Every primary commit, sorted by commit time (times in s).

    Attributes:
        times: commit times at the primary, sorted.
        origin: the node each came from (-1 = the primary's own), int32.
        ref: the index of the write at its origin, int32.
        cum_bytes: prefix sums of the commits' bytes (``C + 1`` values).
        origin_t: when each was committed at its origin (``times`` itself unless local-first).
        visibility: the log as visibility reads it.
        by_origin: commit indices grouped by origin: node ``i``'s are
            ``by_origin[origin_bounds[i + 1]:origin_bounds[i + 2]]`` (the primary's first).
        origin_bounds: see ``by_origin``.
    """

    times: np.ndarray
    origin: np.ndarray
    ref: np.ndarray
    cum_bytes: np.ndarray
    origin_t: np.ndarray
    visibility: CommitLog
    by_origin: np.ndarray
    origin_bounds: np.ndarray

    def own(self, i: int) -> np.ndarray:
        """Indices of node ``i``'s own commits, ascending."""
        return np.sort(self.by_origin[self.origin_bounds[i + 1]:self.origin_bounds[i + 2]])

    def must_see(self, i: int, local_first: bool) -> np.ndarray:
        """Commit times node ``i``'s reads must see: all of them, or with local-first writes
        all but its own (which it has from the start)."""
        return self.times[self.origin != i] if local_first else self.times


def record_commits(planned: PlannedCommits, pushed: Sequence[np.ndarray], wl: Workload, *,
                   local_first: bool) -> CommitRecord:
    """The commit log: the planned commits plus each node's pushes (``pushed[i]``: the commit
    time at the primary of each of node ``i``'s writes, NaN if never pushed)."""
    times, nbytes = [planned.times], [planned.nbytes]
    origin, ref = [planned.origin], [planned.ref]
    loads = list(wl.nodes.values())
    for i, commit in enumerate(pushed):
        ok = ~np.isnan(commit)
        times.append(commit[ok])
        nbytes.append(loads[i].write_bytes[ok])
        origin.append(np.full(int(ok.sum()), i, dtype=np.int32))
        ref.append(np.flatnonzero(ok).astype(np.int32))
    unsorted = np.concatenate(times)
    order = np.argsort(unsorted, kind="stable")
    ct = unsorted[order]
    del unsorted
    co = np.concatenate(origin)[order]
    cr = np.concatenate(ref)[order]
    cum_bytes = np.concatenate([[0], np.cumsum(np.concatenate(nbytes)[order])])
    del order
    # when each write was committed at its origin: the primary's own writes and delegated
    # writes at the primary, local-first writes locally
    origin_t = ct
    if local_first:
        origin_t = ct.copy()
        for i, ld in enumerate(loads):
            mine = co == i
            origin_t[mine] = ld.writes[cr[mine]]
    by_origin = np.argsort(co, kind="stable").astype(np.int32)
    bounds = np.searchsorted(co[by_origin], np.arange(-1, len(loads) + 1))
    return CommitRecord(ct, co, cr, cum_bytes, origin_t, CommitLog.of(ct, origin_t),
                        by_origin, bounds)
