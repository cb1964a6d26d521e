"""A node's replica timeline after its run: when each pull became visible and what it showed.

Syncs and read-your-writes pulls together, in the order they became visible (reduce stage).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synctune.sim.elaborate.commit_record import CommitRecord
from synctune.sim.run.node import ReplicaNode


@dataclass(frozen=True, slots=True)
class Timeline:
    """A node's replica timeline, syncs and read-your-writes pulls together (times in s).

    Attributes:
        vis_t: when each pull's data became visible, ascending.
        seen: the latest commit time visible from then on.
        seen_upto: how many commits of the log (a prefix) are visible from then on.
        ryw_bytes: bytes each read-your-writes pull moved (what it brought beyond what the
            replica had), in the node's order of those pulls.
    """

    vis_t: np.ndarray
    seen: np.ndarray
    seen_upto: np.ndarray
    ryw_bytes: np.ndarray


def replica_timeline(node: ReplicaNode, commits: CommitRecord,
                     overhead_bytes: int) -> Timeline:
    """The node's replica timeline and the bytes of its read-your-writes pulls."""
    n_sync = len(node.vis_t)
    vis_t = np.concatenate([node.vis_t, node.ryw_t])
    reach = np.concatenate([node.vis_reach, node.ryw_reach])
    order = np.argsort(vis_t, kind="stable")
    vis_t, reach = vis_t[order], reach[order]
    seen = np.maximum.accumulate(reach)
    # the log is looked up once per pull: searchsorted is monotone, so the prefix seen after
    # each pull is the running maximum of what each pull reached
    upto = np.searchsorted(commits.times, reach, side="right")
    seen_upto = np.maximum.accumulate(upto)
    before = np.concatenate([[0], seen_upto[:-1]])
    is_ryw = order >= n_sync
    # what each read-your-writes pull brought beyond what the replica had
    cum = commits.cum_bytes
    gained = cum[upto[is_ryw]] - cum[before[is_ryw]]
    ryw_bytes = np.empty(len(node.ryw_t), dtype=np.int64)
    ryw_bytes[order[is_ryw] - n_sync] = np.maximum(gained, 0) + overhead_bytes
    return Timeline(vis_t, seen, seen_upto, ryw_bytes)
