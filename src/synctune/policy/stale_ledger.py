"""What a replica's reads have spent of the stale-read share over a day, with a margin for luck."""

from __future__ import annotations

import math

from synctune.policy import _check

_LN2 = math.log(2.0)


class StaleLedger:
    """Reads, expected stale reads and their variance over a decayed day: the surplus that is
    left once the stale reads may have run ``z`` standard deviations above their expectation.

    A pull tells the tuner how many stale reads a cycle *probably* had, not how many it had.
    When a commit lands in a busy cycle, its late reads are all stale or all not (they see the
    same missing commit), so the outcome is a lump: on sparse traffic a few dozen commits decide
    a whole week's share. A budget that spends up to its expectation then goes over about half
    the time. The ledger keeps the variance of what was booked (a cycle's ``n`` late reads,
    stale together with probability ``p``: ``n² p (1 - p)``) and offers as surplus only
    ``share * reads - stale - z * sqrt(variance)``. Where stale reads are many small ones the
    margin is small next to the share; where they come in lumps it holds the surplus back.
    Sums decay with ``half_life`` seconds. O(1) per pull, fixed memory.

    Args:
        share: allowed share of stale reads, in (0, 1).
        half_life: seconds after which old cycles weigh half (> 0); default a day.
        z: standard deviations of margin (>= 0).
    """

    __slots__ = ("_half_life", "_reads", "_share", "_stale", "_var", "_z")

    def __init__(self, share: float, half_life: float = 86_400.0, z: float = 1.645) -> None:
        self._share = _check.real("share", share, minimum=0.0, strict=True, maximum=1.0,
                                  strict_maximum=True)
        self._half_life = _check.real("half_life", half_life, minimum=0.0, strict=True)
        self._z = _check.real("z", z, minimum=0.0)
        self._reads = self._stale = self._var = 0.0

    def book(self, reads: float, late: float, p: float, span: float) -> None:
        """A cycle of ``span`` s with ``reads`` reads, of which ``late`` were past the target,
        each stale with probability ``p`` (together: one missing commit)."""
        w = math.exp(-_LN2 * span / self._half_life) if span > 0.0 else 1.0
        self._reads = self._reads * w + reads
        self._stale = self._stale * w + late * p
        self._var = self._var * w + late * late * p * (1.0 - p)

    def surplus(self) -> float:
        """Stale reads still allowed after the margin (negative: none, or overspent)."""
        return self._share * self._reads - self._stale - self._z * math.sqrt(self._var)

    def __repr__(self) -> str:
        return f"StaleLedger(surplus={self.surplus():.3g}, half_life={self._half_life:g})"
