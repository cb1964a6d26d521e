"""The primary's commit log: what is committed when, and how many bytes lie between two times."""

from __future__ import annotations

import bisect
from array import array

import numpy as np


class PrimaryLog:
    """Commits known in advance (direct and delegated writes) plus pushes made during the run.

    A pull that reaches the primary at time ``x`` gets every commit with time ``<= x``.
    """

    def __init__(self, times: np.ndarray, nbytes: np.ndarray) -> None:
        order = np.argsort(times, kind="stable")
        # typed arrays: bisect on them beats numpy calls for one lookup at a time, and a
        # fleet's log of millions of commits takes 16 bytes each (a list would take 64)
        self._t = array("d", np.asarray(times, dtype=np.float64)[order].tobytes())
        self._cum = array("q", np.concatenate(
            [[0], np.cumsum(np.asarray(nbytes, dtype=np.int64)[order])]).astype(np.int64)
            .tobytes())
        # pushes arrive in time order (the simulation clock never goes back)
        self._push_t: list[float] = []
        self._push_n: list[int] = [0]
        self._push_b: list[int] = [0]

    def push(self, t: float, count: int, nbytes: int) -> None:
        """``count`` writes totalling ``nbytes`` bytes were committed at ``t`` (s)."""
        self._push_t.append(t)
        self._push_n.append(self._push_n[-1] + count)
        self._push_b.append(self._push_b[-1] + nbytes)

    def between(self, after: float, upto: float) -> tuple[int, int]:
        """Commits and bytes with ``after < time <= upto``."""
        if upto <= after:
            return 0, 0
        a = bisect.bisect_right(self._t, after)
        b = bisect.bisect_right(self._t, upto)
        i = bisect.bisect_right(self._push_t, after)
        j = bisect.bisect_right(self._push_t, upto)
        return (b - a + self._push_n[j] - self._push_n[i],
                self._cum[b] - self._cum[a] + self._push_b[j] - self._push_b[i])

    def count_between(self, after: float, upto: float) -> int:
        """Commits with ``after < time <= upto``: :meth:`between` without the bytes (per write)."""
        if upto <= after:
            return 0
        t = self._t
        n = bisect.bisect_right(t, upto) - bisect.bisect_right(t, after)
        if self._push_t:
            pt, pn = self._push_t, self._push_n
            n += pn[bisect.bisect_right(pt, upto)] - pn[bisect.bisect_right(pt, after)]
        return n

    def bytes_upto(self, upto: float) -> int:
        """Bytes of every commit with time ``<= upto``."""
        pushed = self._push_b[bisect.bisect_right(self._push_t, upto)]
        return self._cum[bisect.bisect_right(self._t, upto)] + pushed
