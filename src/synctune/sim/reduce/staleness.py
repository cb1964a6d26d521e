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
              commits: np.ndarray, seen_upto: np.ndarray | None = None) -> np.ndarray:
    """Staleness (s) at each of ``times`` given the node's timeline and the sorted primary
    commit times ``commits`` that the node must see (its own local-first writes excluded).
    ``seen_upto``, when known: ``searchsorted(commits, reach, side="right")``."""
    times = np.asarray(times, dtype=np.float64)
    reach = np.asarray(reach, dtype=np.float64)
    if commits.size == 0 or times.size == 0:
        return np.zeros(times.shape)
    k = np.searchsorted(vis_t, times, side="right")  # pulls visible by each time
    if seen_upto is None and times.size < reach.size:
        # few times (a metric grid) and a long log: look up only the reach in force at each
        j = np.searchsorted(commits, np.where(k > 0, reach[np.maximum(k - 1, 0)], -np.inf),
                            side="right")
    else:
        # look commits up once per pull, not once per read: reads far outnumber pulls
        if seen_upto is None:
            seen_upto = np.searchsorted(commits, reach, side="right")
        j = np.concatenate([[0], seen_upto])[k]
    oldest = commits[np.minimum(j, commits.size - 1)]
    unseen = (j < commits.size) & (oldest <= times)
    return np.where(unseen, times - oldest, 0.0)


def visible_at(commits: np.ndarray, vis_t: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """When each commit (sorted primary commit times) became visible at the node; NaN if
    never."""
    # the commits up to each pull's reach, counted once per pull (pulls are few, commits
    # many): each run of commits between two reaches becomes visible at the later pull
    upto = np.searchsorted(commits, reach, side="right")
    out = np.full(commits.size, np.nan)
    seen = int(upto[-1]) if upto.size else 0
    out[:seen] = np.repeat(vis_t, np.diff(np.concatenate([[0], upto])))
    return out
