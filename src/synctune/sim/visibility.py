"""Write visibility at one node: how long other origins' commits took to become visible there.

Pull ``k`` of a node's replica timeline makes the commits in ``(seen[k-1], seen[k]]`` visible at
``vis_t[k]``, all at once. With the commits sorted by commit time these are one contiguous run
of the log (a *segment*), and with delegated writes (a commit's origin time is its commit time)
their delays ``vis_t[k] - ct[j]`` fall as ``j`` rises. So per pull:

* the count, the sum (from prefix sums of the commit times), the largest delay (the segment's
  first commit) and the commits never seen follow exactly, in ``O(log C)``;
* the histogram of the delays, in the slots of :class:`~synctune.sim.sketch.QuantileSketch`,
  follows from one ``searchsorted`` per slot boundary the segment spans: the commits whose
  delay is at least ``x`` are those with ``ct[j] <= c``, for the largest float ``c`` with
  ``vis_t[k] - c >= x``. That histogram is the very one binning every delay would give, so the
  quantiles carry the sketch's stated error (:data:`~synctune.sim.sketch.RELATIVE_ERROR`,
  0.2 %) and no other.

A segment with fewer commits than about :data:`THRESHOLD_COST` times its slot boundaries is
cheaper to list pair by pair, which gives the same histogram; while the run's tally can still
hold every delay (the sketch's exact form), the delays are listed and kept, so small runs keep
exact quantiles. A node's own commits are counted like the others' and then taken out again
(they are few). Local-first writes commit locally before they reach the primary, so their
delays do not fall along a segment; those runs (never fleet-sized: they are not sharded) list
every pair.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from synctune.sim.sketch import SLOTS, QuantileSketch, slot_floor, slot_of

#: one slot-boundary lookup costs about this many listed pairs (measured in bench_fleet.py)
THRESHOLD_COST = 6
#: commits listed together at one node (8 bytes each per temporary array)
SLICE = 1 << 22


@dataclass(frozen=True, slots=True)
class CommitLog:
    """The primary's commits as visibility needs them (times in s).

    Attributes:
        ct: commit times at the primary, sorted.
        origin_t: when each was committed at its origin (``ct`` itself for delegated writes).
        cum: prefix sums of ``ct`` (``C + 1`` values), when ``origin_t`` is ``ct``.
    """

    ct: np.ndarray
    origin_t: np.ndarray
    cum: np.ndarray | None

    @classmethod
    def of(cls, ct: np.ndarray, origin_t: np.ndarray) -> CommitLog:
        cum = np.concatenate([[0.0], np.cumsum(ct)]) if origin_t is ct else None
        return cls(ct, origin_t, cum)


@dataclass(frozen=True, slots=True)
class _Segments:
    """Non-empty segments: commits ``[a, b)`` became visible at ``v``."""

    a: np.ndarray
    b: np.ndarray
    v: np.ndarray

    @classmethod
    def of(cls, ct: np.ndarray, vis_t: np.ndarray, seen: np.ndarray) -> _Segments:
        bounds = np.concatenate([[0], np.searchsorted(ct, seen, side="right")])
        keep = np.flatnonzero(bounds[1:] > bounds[:-1])
        return cls(bounds[keep], bounds[keep + 1], np.asarray(vis_t, dtype=np.float64)[keep])

    @property
    def seen(self) -> int:
        """Commits visible by the end (segments cover ``[0, seen)``)."""
        return int(self.b[-1]) if self.b.size else 0


def node_visibility(log: CommitLog, own: np.ndarray, vis_t: np.ndarray, seen: np.ndarray,
                    room: int) -> tuple[QuantileSketch, int]:
    """Delays (s) until other origins' commits became visible at one node, and how many never
    did.

    Args:
        log: the run's commits.
        own: indices (into ``log.ct``, sorted) of the node's own commits, left out.
        vis_t: the node's replica timeline: when each pull became visible (sorted) ...
        seen: ... and the commit time up to which the replica holds the log then
            (non-decreasing).
        room: how many delays the run's tally can still keep exactly; a node with at most that
            many lists them (exact quantiles), otherwise it hands over a histogram.
    """
    seg = _Segments.of(log.ct, vis_t, seen)
    own_seg = np.searchsorted(seg.b, own, side="right")  # the segment showing each own commit
    own_seen = own_seg < seg.b.size
    never = (log.ct.size - seg.seen) - int(own.size - own_seen.sum())
    pairs = seg.seen - int(own_seen.sum())
    sketch = QuantileSketch()
    if log.cum is None or pairs <= room:
        _listed(log, seg, own, sketch, values=pairs <= room)
        return sketch, never
    own_delay = seg.v[own_seg[own_seen]] - log.ct[own[own_seen]]
    lengths = seg.b - seg.a
    lo, hi = slot_of(seg.v - log.ct[seg.b - 1]), slot_of(seg.v - log.ct[seg.a])
    counts = np.zeros(SLOTS, dtype=np.int64)
    if int(lengths.sum()) <= THRESHOLD_COST * int((hi - lo).sum() + lo.size):
        _listed_counts(log.ct, seg, counts)
    else:
        _counted(log.ct, seg, lo, hi, counts)
    counts -= np.bincount(slot_of(own_delay), minlength=SLOTS)
    total = float(np.sum(lengths * seg.v - (log.cum[seg.b] - log.cum[seg.a])))
    total -= float(own_delay.sum())
    sketch.add_counts(counts, max(total, 0.0), _largest(log.ct, seg, own))
    return sketch, never


def _largest(ct: np.ndarray, seg: _Segments, own: np.ndarray) -> float:
    """The largest delay of another origin's commit: per segment, its first commit that is not
    the node's own (delays fall along a segment)."""
    first = seg.a.copy()
    if own.size:
        # runs of consecutive own indices: a segment starting inside one starts after its end
        run_last = np.flatnonzero(np.concatenate([np.diff(own) != 1, [True]]))
        p = np.searchsorted(own, first)
        inside = (p < own.size) & (own[np.minimum(p, own.size - 1)] == first)
        last = own[run_last[np.searchsorted(run_last, p[inside])]]
        first[inside] = last + 1
    ok = first < seg.b
    return float(np.max(seg.v[ok] - ct[first[ok]])) if ok.any() else 0.0


def _slices(seg: _Segments) -> list[tuple[int, int, np.ndarray]]:
    """``[s, e)`` slices of the visible commits, each with the visibility time of each."""
    out = []
    for s in range(0, seg.seen, SLICE):
        e = min(s + SLICE, seg.seen)
        n = np.clip(seg.b, s, e) - np.clip(seg.a, s, e)
        out.append((s, e, np.repeat(seg.v, n)))
    return out


def _listed(log: CommitLog, seg: _Segments, own: np.ndarray, sketch: QuantileSketch, *,
            values: bool) -> None:
    """Every (commit, node) delay listed: kept (``values``) or binned into ``sketch``."""
    counts = np.zeros(SLOTS, dtype=np.int64)
    total, largest = 0.0, 0.0
    for s, e, v in _slices(seg):
        delay = v - log.origin_t[s:e]
        np.maximum(delay, 0.0, out=delay)  # local-first origin times precede the commit
        mine = own[np.searchsorted(own, s):np.searchsorted(own, e)] - s
        if mine.size:
            delay = np.delete(delay, mine)
        if values:
            sketch.add(delay)
        elif delay.size:
            counts += np.bincount(slot_of(delay), minlength=SLOTS)
            total += float(delay.sum())
            largest = max(largest, float(delay.max()))
    if not values:
        sketch.add_counts(counts, total, largest)


def _listed_counts(ct: np.ndarray, seg: _Segments, counts: np.ndarray) -> None:
    """The histogram of every visible commit's delay, pair by pair (own commits included)."""
    for s, e, v in _slices(seg):
        v -= ct[s:e]
        counts += np.bincount(slot_of(v), minlength=SLOTS)


def _counted(ct: np.ndarray, seg: _Segments, lo: np.ndarray, hi: np.ndarray,
             counts: np.ndarray) -> None:
    """The histogram of every visible commit's delay (own included), one ``searchsorted`` per
    slot boundary inside each segment: ``G(x)``, the segment's delays ``>= x``, is ``b - a``
    at its lowest slot and 0 past its highest; slot ``s`` holds ``G(s) - G(s + 1)``."""
    hist = np.bincount(lo, weights=(seg.b - seg.a).astype(np.float64), minlength=SLOTS)
    inner = hi - lo  # boundaries strictly inside each segment's slot range
    ends = np.cumsum(inner)
    # groups of segments with at most SLICE boundaries (a segment's own may exceed it)
    cuts = np.unique(np.concatenate([[0], np.searchsorted(ends, np.arange(
        SLICE, int(ends[-1]) if ends.size else 0, SLICE), side="right"), [lo.size]]))
    for p, q in itertools.pairwise(cuts.tolist()):
        k = p + np.repeat(np.arange(q - p), inner[p:q])
        start = ends[k] - inner[k]
        slot = lo[k] + 1 + (np.arange(k.size) + (ends[p] - inner[p]) - start)
        c = _threshold(seg.v[k], slot_floor(slot))
        a = seg.a[k]
        g = (np.clip(np.searchsorted(ct, c, side="right"), a, seg.b[k]) - a).astype(np.float64)
        hist += np.bincount(slot, weights=g, minlength=SLOTS)
        hist -= np.bincount(slot - 1, weights=g, minlength=SLOTS)
    counts += np.rint(hist).astype(np.int64)


def _threshold(v: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The largest float ``c`` with ``v - c >= x`` (as floats compute it), per element: then a
    commit's delay ``v - ct`` is at least ``x`` exactly when ``ct <= c``."""
    c = v - x
    for _ in range(8):  # v - x is within an ulp or two of the answer
        low = (v - c) < x
        if not low.any():
            break
        c[low] = np.nextafter(c[low], -np.inf)
    for _ in range(8):
        up = np.nextafter(c, np.inf)
        more = (v - up) >= x
        if not more.any():
            break
        c[more] = up[more]
    return c


def track_slowest(log: CommitLog, own: np.ndarray, vis_t: np.ndarray, seen: np.ndarray,
                  worst: np.ndarray, unseen: np.ndarray) -> None:
    """Fold one node into every commit's slowest visibility so far (``worst``, s, other
    nodes only) and whether some node never saw it (``unseen``): the per-write detail table,
    listed pair by pair (detail runs are not fleet-sized)."""
    seg = _Segments.of(log.ct, vis_t, seen)
    mine = np.zeros(log.ct.size, dtype=bool)
    mine[own] = True
    unseen[seg.seen:] |= ~mine[seg.seen:]
    for s, e, v in _slices(seg):
        delay = np.maximum(v - log.origin_t[s:e], 0.0)
        delay[mine[s:e]] = np.nan
        np.fmax(worst[s:e], delay, out=worst[s:e])
