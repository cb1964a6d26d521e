"""Capped exponential backoff with full jitter, as a small composable value."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from synctune.policy import _check
from synctune.policy.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before retry number ``attempt`` (1 = first retry after one failure).

    The ceiling grows as ``base * multiplier ** (attempt - 1)`` up to ``cap``; with ``jitter``
    the delay is drawn uniformly from ``[0, ceiling]`` ("full jitter"), which spreads a herd of
    replicas retrying against a recovering primary.

    Attributes:
        base: ceiling of the first retry delay, seconds (> 0).
        cap: largest ceiling, seconds (>= base).
        multiplier: growth factor per failure (>= 1).
        jitter: draw uniformly below the ceiling instead of using it as is.
    """

    base: float = 1.0
    cap: float = 300.0
    multiplier: float = 2.0
    jitter: bool = True

    def __post_init__(self) -> None:
        _check.real("base", self.base, minimum=0.0, strict=True)
        _check.real("cap", self.cap, minimum=self.base)
        _check.real("multiplier", self.multiplier, minimum=1.0)
        _check.flag("jitter", self.jitter)

    def ceiling(self, attempt: int) -> float:
        """Largest delay (s) for retry ``attempt`` (>= 1)."""
        if _check.count("attempt", attempt) < 1:
            raise InvalidInput(f"attempt must be >= 1, got {attempt!r}")
        # closed form: a loop over attempts would cost O(attempt) in long outages
        if self.multiplier == 1.0 or self.base >= self.cap:
            return float(min(self.base, self.cap))
        if attempt - 1 >= math.log(self.cap / self.base) / math.log(self.multiplier):
            return float(self.cap)
        return float(min(self.base * self.multiplier ** (attempt - 1), self.cap))

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Delay (s) before retry ``attempt``, drawn with ``rng`` when jittered."""
        ceiling = self.ceiling(attempt)
        return rng.uniform(0.0, ceiling) if self.jitter else ceiling
