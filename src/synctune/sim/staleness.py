"""Staleness and visibility, vectorised over a node's replica timeline.

A node's *replica timeline* is the list of moments ``vis_t[k]`` at which a pull made visible
every primary commit with time ``<= reach[k]`` (``reach`` is the time the pull reached the
primary; kept non-decreasing). Read staleness (Cho & Garcia-Molina's *age*) at time ``r`` is
``r`` minus the primary commit time of the oldest commit not yet visible at the node, or 0.
"""

from __future__ import annotations

import numpy as np


def reach_at(times: np.ndarray, vis_t: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """The reach (s) in force at each of ``times`` (sorted or not); ``-inf`` before any pull."""
    k = np.searchsorted(vis_t, times, side="right") - 1
    out = np.where(k >= 0, reach[np.maximum(k, 0)], -np.inf)
    return out


def staleness(times: np.ndarray, vis_t: np.ndarray, reach: np.ndarray,
              commits: np.ndarray) -> np.ndarray:
    """Staleness (s) at each of ``times`` given the node's timeline and the sorted primary
    commit times ``commits`` that the node must see (its own local-first writes excluded)."""
    times = np.asarray(times, dtype=np.float64)
    if commits.size == 0 or times.size == 0:
        return np.zeros(times.shape)
    # look commits up once per pull, not once per read: reads far outnumber pulls
    first_unseen = np.concatenate([[0], np.searchsorted(commits, reach, side="right")])
    j = first_unseen[np.searchsorted(vis_t, times, side="right")]
    oldest = commits[np.minimum(j, commits.size - 1)]
    unseen = (j < commits.size) & (oldest <= times)
    return np.where(unseen, times - oldest, 0.0)


def visible_at(commits: np.ndarray, vis_t: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """When each commit (primary commit time) became visible at the node; NaN if never."""
    k = np.searchsorted(reach, commits, side="left")
    ok = k < reach.size
    return np.where(ok, vis_t[np.minimum(k, max(reach.size - 1, 0))], np.nan)
