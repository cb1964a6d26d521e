"""A mergeable quantile sketch for non-negative values (staleness, delays, latencies).

Up to :data:`EXACT_LIMIT` values it keeps them all and its quantiles are exactly
``numpy.percentile``'s (linear interpolation). Past that it turns into a log-linear histogram:
a bucket per float64 exponent and top :data:`MANTISSA_BITS` bits of the mantissa, so a bucket
spans at most ``2 ** -MANTISSA_BITS`` of its lower edge and its midpoint is within
:data:`RELATIVE_ERROR` (0.2 %) of every value in it. Values below :data:`ZERO_BELOW` count as 0.
Quantiles interpolate between the midpoints of the two ranks around the quantile, as
``numpy.percentile`` does between values, so they stay within :data:`RELATIVE_ERROR` of the exact
figure. Memory is bounded by the larger of the two forms (32 MiB of values, 140 KiB of buckets).

Merging adds bucket counts (or concatenates values), so shards merge to the very sketch the whole
run would build: counts, histograms and quantiles are identical; only the float sum behind the
mean may differ in its last bits (a different order of additions).
"""

from __future__ import annotations

import numpy as np

#: values kept exactly before the sketch switches to buckets
EXACT_LIMIT = 1 << 22
#: mantissa bits per bucket: 256 buckets per power of two
MANTISSA_BITS = 8
#: worst relative error of a quantile once bucketed (half a bucket's relative width)
RELATIVE_ERROR = 2.0 ** -(MANTISSA_BITS + 1)
#: values below this (s, ms, ...) count as exactly 0 (about 1e-9)
ZERO_BELOW = 2.0 ** -30
_TOP = 2.0 ** 40  # values above (about 1.1e12) share the last bucket
_SHIFT = 52 - MANTISSA_BITS
_BASE = int(np.float64(ZERO_BELOW).view(np.int64)) >> _SHIFT
_BUCKETS = (int(np.float64(_TOP).view(np.int64)) >> _SHIFT) - _BASE + 1


def _bucket_of(values: np.ndarray) -> np.ndarray:
    """Bucket index of each value >= ZERO_BELOW (monotone in the value)."""
    keys = (np.minimum(values, _TOP).view(np.int64) >> _SHIFT) - _BASE
    return keys


#: slots of a histogram in bucketed form: slot 0 counts the zeros, slot s >= 1 bucket s - 1
SLOTS = _BUCKETS + 1


def slot_of(values: np.ndarray) -> np.ndarray:
    """Histogram slot of each value >= 0 (see :data:`SLOTS`; monotone in the value)."""
    return np.maximum(_bucket_of(values) + 1, 0)


def slot_keys(values: np.ndarray, low: int) -> np.ndarray:
    """``slot_of(values) - low``, computed in the memory of ``values`` (a float64 array,
    overwritten), for values whose slots are known to be ``> low >= 0`` and below
    :data:`SLOTS`: the same slots in two passes (a fleet's delays run to millions per node)."""
    keys = values.view(np.int64)
    keys >>= _SHIFT
    keys -= _BASE - 1 + low
    return keys


def slot_floor(slots: np.ndarray) -> np.ndarray:
    """The smallest value in each slot >= 1: ``slot_of(x) >= s`` exactly when
    ``x >= slot_floor(s)``."""
    return ((np.asarray(slots, dtype=np.int64) - 1 + _BASE) << _SHIFT).view(np.float64)


def _midpoints(buckets: np.ndarray) -> np.ndarray:
    lo = ((buckets + _BASE) << _SHIFT).view(np.float64)
    hi = ((buckets + _BASE + 1) << _SHIFT).view(np.float64)
    return (lo + hi) / 2.0


class QuantileSketch:
    """Count, sum, max and quantiles of non-negative values, added in batches.

    Exact up to ``exact_limit`` values (default :data:`EXACT_LIMIT`), then within
    :data:`RELATIVE_ERROR` (see the module).
    Sketches merge only with sketches of the same ``exact_limit``.
    """

    __slots__ = ("_buckets", "_values", "_zeros", "count", "exact_limit", "max", "total")

    def __init__(self, exact_limit: int | None = None) -> None:
        if exact_limit is None:
            exact_limit = EXACT_LIMIT
        if isinstance(exact_limit, bool) or not isinstance(exact_limit, int) or exact_limit < 0:
            raise ValueError(f"exact_limit must be an integer >= 0, got {exact_limit!r}")
        self.exact_limit = exact_limit
        self.count = 0
        self.total = 0.0
        self.max = 0.0
        self._values: list[np.ndarray] | None = []
        self._buckets: np.ndarray | None = None
        self._zeros = 0

    @property
    def exact(self) -> bool:
        """True while every value is kept (quantiles are exact)."""
        return self._values is not None

    @property
    def mean(self) -> float:
        """Mean of the values added (0 when none)."""
        return self.total / self.count if self.count else 0.0

    def add(self, values: np.ndarray) -> None:
        """Add a batch of finite values >= 0."""
        v = np.asarray(values, dtype=np.float64).ravel()
        if v.size == 0:
            return
        lo = float(v.min())
        if not lo >= 0.0 or not np.isfinite(v.max()):
            raise ValueError(f"sketch values must be finite and >= 0, got min {lo!r}")
        self.count += int(v.size)
        self.total += float(v.sum())
        self.max = max(self.max, float(v.max()))
        if self._values is not None:
            self._values.append(v.copy())
            if self.count > self.exact_limit:
                self._to_buckets()
        else:
            self._bin(v)

    def add_counts(self, counts: np.ndarray, total: float, maximum: float,
                   count: int | None = None) -> None:
        """Add values known only by their histogram: ``counts[s]`` values in slot ``s`` (see
        :func:`slot_of`), summing to ``total`` with largest ``maximum``. The sketch is bucketed
        from then on.

        ``count`` (default: the histogram's total) is how many values these are when the
        histogram is that of a uniform sample of them: quantiles then come from the sampled
        histogram, count, mean and maximum from all. Every histogram merged into one sketch
        must then be sampled at the same rate."""
        c = np.asarray(counts, dtype=np.int64)
        if c.shape != (SLOTS,) or (c < 0).any():
            raise ValueError(f"counts must be {SLOTS} non-negative slot counts, got shape "
                             f"{c.shape}")
        n = int(c.sum()) if count is None else count
        if n < 0:
            raise ValueError(f"count must be >= 0, got {count!r}")
        if self._values is not None:
            self._to_buckets()
        assert self._buckets is not None
        self._zeros += int(c[0])
        self._buckets += c[1:]
        self.count += n
        if n:
            self.total += float(total)
            self.max = max(self.max, float(maximum))

    def merge(self, other: QuantileSketch) -> None:
        """Fold ``other`` in (it is left unchanged)."""
        if not isinstance(other, QuantileSketch) or other.exact_limit != self.exact_limit:
            raise TypeError(f"other must be a QuantileSketch with exact_limit "
                            f"{self.exact_limit}, got {other!r}")
        self.count += other.count
        self.total += other.total
        self.max = max(self.max, other.max)
        if self._values is not None and other._values is not None:
            self._values.extend(other._values)
            if self.count > self.exact_limit:
                self._to_buckets()
            return
        if self._values is not None:
            self._to_buckets()
        assert self._buckets is not None
        if other._values is not None:
            for v in other._values:
                self._bin(v)
        else:
            assert other._buckets is not None
            self._buckets += other._buckets
            self._zeros += other._zeros

    def quantile(self, q: float) -> float:
        """The ``q``-th percentile (0..100) with linear interpolation; 0 when empty."""
        if not 0.0 <= q <= 100.0:
            raise ValueError(f"q must be in [0, 100], got {q!r}")
        if self.count == 0:
            return 0.0
        if self._values is not None:
            return float(np.percentile(np.concatenate(self._values), q))
        assert self._buckets is not None
        # ranks over the histogram: all values, or a sample of them (see add_counts)
        n = self._zeros + int(self._buckets.sum())
        if n == 0:
            return self.max
        h = (n - 1) * q / 100.0
        lo = int(np.floor(h))
        hi = min(lo + 1, n - 1)
        v_lo, v_hi = self._at_rank(lo, n), self._at_rank(hi, n)
        return v_lo + (h - lo) * (v_hi - v_lo)

    def _at_rank(self, rank: int, n: int) -> float:
        # rank counts from 0 over the n sorted values: zeros first, then buckets
        if rank < self._zeros:
            return 0.0
        if rank == n - 1:
            return self.max
        assert self._buckets is not None
        cum = np.cumsum(self._buckets)
        b = int(np.searchsorted(cum, rank - self._zeros, side="right"))
        return min(float(_midpoints(np.asarray([b]))[0]), self.max)

    def _to_buckets(self) -> None:
        values, self._values = self._values or [], None
        self._buckets = np.zeros(_BUCKETS, dtype=np.int64)
        self._zeros = 0
        for v in values:
            self._bin(v)

    def _bin(self, v: np.ndarray) -> None:
        assert self._buckets is not None
        # values below ZERO_BELOW have keys below 0: count them in slot 0, the rest shifted by 1
        counts = np.bincount(slot_of(v), minlength=SLOTS)
        self._zeros += int(counts[0])
        self._buckets += counts[1:]

    def __getstate__(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, object]) -> None:
        for k, v in state.items():
            object.__setattr__(self, k, v)

    def __repr__(self) -> str:
        mode = "exact" if self.exact else "bucketed"
        return f"QuantileSketch(count={self.count}, {mode})"
