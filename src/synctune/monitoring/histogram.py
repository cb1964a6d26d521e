"""A cumulative histogram over fixed buckets, fed from any thread (the Prometheus model)."""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HistogramSnapshot:
    """Counts at one moment.

    Attributes:
        bounds: upper bounds of the buckets (``+Inf`` implied after the last).
        cumulative: observations <= each bound, then the total (``len(bounds) + 1`` values).
        total: sum of all observed values.
    """

    bounds: tuple[float, ...]
    cumulative: tuple[int, ...]
    total: float

    @property
    def count(self) -> int:
        """Number of observations."""
        return self.cumulative[-1]


class Histogram:
    """Counts observations into ``bounds`` (increasing upper bounds, in the metric's unit).

    ``observe`` is a bisection and two additions under a lock held for nothing else, so it
    can run on an app thread.
    """

    def __init__(self, bounds: tuple[float, ...]) -> None:
        if not bounds or list(bounds) != sorted(set(bounds)):
            raise ValueError(f"bounds must be a non-empty increasing tuple, got {bounds!r}")
        self.bounds = tuple(float(b) for b in bounds)
        self._counts = [0] * (len(self.bounds) + 1)
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe(self, value: float) -> None:
        """Count one observation of ``value``."""
        i = bisect.bisect_left(self.bounds, value)
        with self._lock:
            self._counts[i] += 1
            self._sum += value

    def snapshot(self) -> HistogramSnapshot:
        """Cumulative counts and the sum, consistent with each other."""
        with self._lock:
            counts, total = list(self._counts), self._sum
        cumulative, running = [], 0
        for c in counts:
            running += c
            cumulative.append(running)
        return HistogramSnapshot(self.bounds, tuple(cumulative), total)
