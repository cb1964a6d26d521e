"""Capped exponential backoff with full jitter, as a small composable value."""

from __future__ import annotations

import random
from dataclasses import dataclass

from synctune.policy import _check


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
            raise ValueError(f"attempt must be >= 1, got {attempt!r}")
        # cap the exponent first so huge attempt counts cannot overflow
        ceiling = self.base
        for _ in range(attempt - 1):
            ceiling *= self.multiplier
            if ceiling >= self.cap:
                return self.cap
        return min(ceiling, self.cap)

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Delay (s) before retry ``attempt``, drawn with ``rng`` when jittered."""
        ceiling = self.ceiling(attempt)
        return rng.uniform(0.0, ceiling) if self.jitter else ceiling
