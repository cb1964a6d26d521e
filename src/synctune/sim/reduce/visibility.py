"""Write visibility at one node: how long other origins' commits took to become visible there.

Pull ``k`` of a node's replica timeline makes the commits in ``(seen[k-1], seen[k]]`` visible at
``vis_t[k]``, all at once. With the commits sorted by commit time these are one contiguous run
of the log (a *segment*), and with delegated writes (a commit's origin time is its commit time)
their delays ``vis_t[k] - ct[j]`` fall as ``j`` rises. So per pull:

* the count, the sum (from prefix sums of the commit times), the largest delay (the segment's
  first commit) and the commits never seen follow exactly, in ``O(log C)`` (the sum, and so the
  mean, up to float rounding: another order of additions than listing every delay);
* the histogram of the delays, in the slots of :class:`~synctune.sim.reduce.sketch.QuantileSketch`,
  follows from one ``searchsorted`` per slot boundary the segment spans: the commits whose
  delay is at least ``x`` are those with ``ct[j] <= c``, for the largest float ``c`` with
  ``vis_t[k] - c >= x``. That histogram is the very one binning every delay would give, so the
  quantiles carry the sketch's stated error (:data:`~synctune.sim.reduce.sketch.RELATIVE_ERROR`,
  0.2 %) and no other.

A segment spans about 256 slot boundaries per power of two between its shortest and longest
delay (some 1,500 for a read-your-writes pull 30 ms to 2 s after the previous one). When a
node's segments hold fewer commits than about :data:`THRESHOLD_COST` times their boundaries,
its delays are listed instead, in slices that stay in cache and two in-place passes per delay;
that gives the same histogram. So the histogram costs
``O(min(C, THRESHOLD_COST x boundaries))`` per node: a fleet whose nodes pull often (every
commit batch is short) still pays a few nanoseconds per (commit, node) pair.

While the run's tally can still hold every delay (the sketch's exact form), the delays are
listed and kept, so small runs keep exact quantiles; the tally is exact exactly when it was
before (at most :data:`~synctune.sim.reduce.sketch.EXACT_LIMIT` pairs), sharded or not. A node's own
commits are counted like the others' and then taken out again (they are few). Local-first
writes commit locally before they reach the primary, so their delays do not fall along a
segment; those runs (not sharded) list every pair.

A fleet-sized log (more than :data:`SAMPLE_SIZE` commits) would still cost every node time in
proportion to the whole log: a fleet's commits grow with its nodes, so the run would grow with
the square of the fleet. There the histogram, and only the histogram, is that of a uniform
sample of :data:`SAMPLE_SIZE` commits, drawn with a fixed seed so that every shard draws the
same one; count, mean, maximum and never-seen stay exact over every commit. Each sampled commit
stands for the share of the nodes it reached that saw it within ``x``, a value in [0, 1] (and
every commit reaches about as many nodes), so the share of pairs at or below a reported
quantile ``q`` has a standard error of about ``sqrt(q (1 - q) / SAMPLE_SIZE)`` or less: at p99,
0.0004 (the reported p99 is the true p99 +- 0.12 at three standard errors), besides the
buckets' :data:`~synctune.sim.reduce.sketch.RELATIVE_ERROR`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from synctune.sim.reduce.sketch import SLOTS, QuantileSketch, slot_floor, slot_keys, slot_of

#: one slot-boundary lookup costs about this many listed pairs (5-20 measured on a shared
#: 2-core machine, 1,000-10,000 nodes)
THRESHOLD_COST = 8
#: commits listed, or slot boundaries counted, together at one node (8 bytes each per
#: temporary array)
SLICE = 1 << 22
#: commits whose slot boundaries are looked up together (a slice of the log that fits in cache)
GROUP = 1 << 16
#: commits listed together when only their histogram is kept (temporaries that fit in cache)
CACHED = 1 << 16
#: a log with more commits bins the delays of a sample of this many (see the module)
SAMPLE_SIZE = 1 << 16
#: the sample's seed: fixed, so every shard of a run draws the same commits
SAMPLE_SEED = 20_260_101


@dataclass(frozen=True, slots=True)
class CommitLog:
    """The primary's commits as visibility needs them (times in s).

    Attributes:
        ct: commit times at the primary, sorted.
        origin_t: when each was committed at its origin (``ct`` itself for delegated writes).
        cum: prefix sums of ``ct`` (``C + 1`` values), when ``origin_t`` is ``ct``.
        sample: for a fleet-sized log of delegated writes, the indices (sorted) of the commits
            whose delays make the histogram, else None (every commit's do).
        sampled: the log of just those commits.
    """

    ct: np.ndarray
    origin_t: np.ndarray
    cum: np.ndarray | None
    sample: np.ndarray | None = None
    sampled: CommitLog | None = None

    @classmethod
    def of(cls, ct: np.ndarray, origin_t: np.ndarray,
           sample_size: int | None = None) -> CommitLog:
        """The log of commits ``ct`` (s, sorted) committed at their origins at ``origin_t``;
        ``sample_size`` defaults to :data:`SAMPLE_SIZE`."""
        if origin_t is not ct:
            return cls(ct, origin_t, None)
        cum = np.concatenate([[0.0], np.cumsum(ct)])
        size = SAMPLE_SIZE if sample_size is None else sample_size
        if ct.size <= size:
            return cls(ct, origin_t, cum)
        rng = np.random.default_rng(SAMPLE_SEED)
        sample = np.sort(rng.choice(ct.size, size=size, replace=False))
        sub = np.ascontiguousarray(ct[sample])
        return cls(ct, origin_t, cum, sample, cls.of(sub, sub, sample_size=sub.size))


@dataclass(frozen=True, slots=True)
class _Segments:
    """Non-empty segments: commits ``[a, b)`` became visible at ``v``."""

    a: np.ndarray
    b: np.ndarray
    v: np.ndarray

    @classmethod
    def of(cls, ct: np.ndarray, vis_t: np.ndarray, seen: np.ndarray,
           seen_upto: np.ndarray | None = None) -> _Segments:
        if seen_upto is None:
            seen_upto = np.searchsorted(ct, seen, side="right")
        bounds = np.concatenate([[0], seen_upto])
        keep = np.flatnonzero(bounds[1:] > bounds[:-1])
        return cls(bounds[keep], bounds[keep + 1], np.asarray(vis_t, dtype=np.float64)[keep])

    @property
    def seen(self) -> int:
        """Commits visible by the end (segments cover ``[0, seen)``)."""
        return int(self.b[-1]) if self.b.size else 0


def node_visibility(log: CommitLog, own: np.ndarray, vis_t: np.ndarray, seen: np.ndarray,
                    room: int, seen_upto: np.ndarray | None = None,
                    ) -> tuple[QuantileSketch, int]:
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
        seen_upto: ``searchsorted(log.ct, seen, side="right")`` when already known.
    """
    seg = _Segments.of(log.ct, vis_t, seen, seen_upto)
    own_seg = np.searchsorted(seg.b, own, side="right")  # the segment showing each own commit
    own_seen = own_seg < seg.b.size
    never = (log.ct.size - seg.seen) - int(own.size - own_seen.sum())
    pairs = seg.seen - int(own_seen.sum())
    sketch = QuantileSketch()
    if log.cum is None or (pairs <= room and log.sampled is None):
        _listed(log, seg, own, sketch, values=pairs <= room)
        return sketch, never
    own_delay = seg.v[own_seg[own_seen]] - log.ct[own[own_seen]]
    if log.sampled is None or log.sample is None:
        counts = _histogram(log.ct, seg, own_delay)
    else:
        counts = _sampled_histogram(log.sampled, log.sample, own, vis_t, seen)
    total = float(np.sum((seg.b - seg.a) * seg.v - (log.cum[seg.b] - log.cum[seg.a])))
    total -= float(own_delay.sum())
    sketch.add_counts(counts, max(total, 0.0), _largest(log.ct, seg, own), count=pairs)
    return sketch, never


def _histogram(ct: np.ndarray, seg: _Segments, own_delay: np.ndarray) -> np.ndarray:
    """Slot counts of the delays of every visible commit but the node's own (``own_delay``),
    listed or counted per slot boundary, whichever costs less."""
    lo, hi = slot_of(seg.v - ct[seg.b - 1]), slot_of(seg.v - ct[seg.a])
    counts = np.zeros(SLOTS, dtype=np.int64)
    if int((seg.b - seg.a).sum()) <= THRESHOLD_COST * int((hi - lo).sum() + lo.size):
        _listed_counts(ct, seg, lo, hi, counts)
    else:
        _counted(ct, seg, lo, hi, counts)
    counts -= np.bincount(slot_of(own_delay), minlength=SLOTS)
    return counts


def _sampled_histogram(sub: CommitLog, sample: np.ndarray, own: np.ndarray, vis_t: np.ndarray,
                       seen: np.ndarray) -> np.ndarray:
    """Slot counts of the delays of the sampled commits (the log ``sub``, at indices
    ``sample`` of the whole log) that are not the node's own."""
    seg = _Segments.of(sub.ct, vis_t, seen)
    at = np.searchsorted(sample, own)
    hit = at < sample.size
    hit[hit] = sample[at[hit]] == own[hit]
    own_sub = at[hit]  # own commits in the sample, as indices into it
    own_seg = np.searchsorted(seg.b, own_sub, side="right")
    shown = own_seg < seg.b.size
    return _histogram(sub.ct, seg, seg.v[own_seg[shown]] - sub.ct[own_sub[shown]])


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


def _slices(seg: _Segments, size: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """``[s, e)`` slices of the visible commits, each with the visibility time of each (made
    one at a time, so that a slice is still in cache when it is used)."""
    for s in range(0, seg.seen, size):
        e = min(s + size, seg.seen)
        p = int(np.searchsorted(seg.b, s, side="right"))
        q = int(np.searchsorted(seg.a, e, side="left"))
        n = np.minimum(seg.b[p:q], e) - np.maximum(seg.a[p:q], s)
        yield s, e, np.repeat(seg.v[p:q], n)


def _listed(log: CommitLog, seg: _Segments, own: np.ndarray, sketch: QuantileSketch, *,
            values: bool) -> None:
    """Every (commit, node) delay listed: kept (``values``) or binned into ``sketch``."""
    counts = np.zeros(SLOTS, dtype=np.int64)
    total, largest = 0.0, 0.0
    for s, e, v in _slices(seg, SLICE):
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


def _listed_counts(ct: np.ndarray, seg: _Segments, lo: np.ndarray, hi: np.ndarray,
                   counts: np.ndarray) -> None:
    """The histogram of every visible commit's delay, pair by pair (own commits included), in
    slices that stay in cache (this runs once per visible commit)."""
    # slots are bounded by the segments' ends; slot 0 (delays of about 0) takes the long way
    low, top = (int(lo.min()), int(hi.max()) + 1) if lo.size else (0, 1)
    for s, e, v in _slices(seg, CACHED):
        v -= ct[s:e]
        keys = slot_keys(v, low) if low > 0 else slot_of(v) - low
        counts[low:top] += np.bincount(keys, minlength=top - low)


def _groups(seg: _Segments, inner: np.ndarray) -> list[tuple[int, int]]:
    """Runs of segments spanning at most GROUP commits and SLICE slot boundaries (one segment
    may exceed either): their searches stay in a slice of the log that fits in cache."""
    ends = np.cumsum(inner)
    cuts = np.concatenate([
        [0], np.searchsorted(seg.b, np.arange(GROUP, seg.seen, GROUP), side="right"),
        np.searchsorted(ends, np.arange(SLICE, int(ends[-1]) if ends.size else 0, SLICE),
                        side="right"), [seg.b.size]])
    return list(itertools.pairwise(np.unique(cuts).tolist()))


def _counted(ct: np.ndarray, seg: _Segments, lo: np.ndarray, hi: np.ndarray,
             counts: np.ndarray) -> None:
    """The histogram of every visible commit's delay (own included), one ``searchsorted`` per
    slot boundary inside each segment: ``G(x)``, the segment's delays ``>= x``, is ``b - a``
    at its lowest slot and 0 past its highest; slot ``s`` holds ``G(s) - G(s + 1)``."""
    hist = np.bincount(lo, weights=(seg.b - seg.a).astype(np.float64), minlength=SLOTS)
    inner = hi - lo  # boundaries strictly inside each segment's slot range
    for p, q in _groups(seg, inner):
        n = inner[p:q]
        if not n.sum():
            continue
        k = np.repeat(np.arange(p, q), n)
        # within a segment from the highest slot down: the thresholds then rise throughout
        slot = hi[k] - (np.arange(k.size) - (np.cumsum(n) - n)[k - p])
        v, x, a, b = seg.v[k], slot_floor(slot), seg.a[k], seg.b[k]
        a0 = int(seg.a[p])
        idx = np.searchsorted(ct[a0:int(seg.b[q - 1])], v - x, side="right") + a0
        np.clip(idx, a, b, out=idx)
        _settle(ct, v, x, a, b, idx)
        g = (idx - a).astype(np.float64)
        hist += np.bincount(slot, weights=g, minlength=SLOTS)
        hist -= np.bincount(slot - 1, weights=g, minlength=SLOTS)
    counts += np.rint(hist).astype(np.int64)


def _settle(ct: np.ndarray, v: np.ndarray, x: np.ndarray, a: np.ndarray, b: np.ndarray,
            idx: np.ndarray) -> None:
    """Move each ``idx`` (within ``[a, b]``) to the first commit whose delay ``v - ct``, as
    floats compute it, is below ``x``: ``ct <= v - x`` can differ from it by an ulp."""
    for _ in range(64):
        back = (idx > a) & ((v - ct[np.maximum(idx - 1, 0)]) < x)
        if not back.any():
            break
        idx -= back
    for _ in range(64):
        on = (idx < b) & ((v - ct[np.minimum(idx, ct.size - 1)]) >= x)
        if not on.any():
            break
        idx += on


def track_slowest(log: CommitLog, own: np.ndarray, vis_t: np.ndarray, seen: np.ndarray,
                  worst: np.ndarray, unseen: np.ndarray) -> None:
    """Fold one node into every commit's slowest visibility so far (``worst``, s, other
    nodes only) and whether some node never saw it (``unseen``): the per-write detail table,
    listed pair by pair (detail runs are not fleet-sized)."""
    seg = _Segments.of(log.ct, vis_t, seen)
    mine = np.zeros(log.ct.size, dtype=bool)
    mine[own] = True
    unseen[seg.seen:] |= ~mine[seg.seen:]
    for s, e, v in _slices(seg, SLICE):
        delay = np.maximum(v - log.origin_t[s:e], 0.0)
        delay[mine[s:e]] = np.nan
        np.fmax(worst[s:e], delay, out=worst[s:e])
