"""The reads of the running cycle that came past the freshness target, and how fast they come."""

from __future__ import annotations

import math

#: late reads before their own spacing is trusted as the read rate (fewer: too noisy)
_BURST_READS = 5
#: the standard normal's 90th percentile: the burst rate is a 90 % lower bound
_Z90 = 1.2816


class LateReads:
    """Reads of the running cycle past the freshness target D: how many, their summed seconds
    past it (``excess``), and the read rate the cycle is having.

    A cycle planned in a quiet spell is long. When reads resume (a person opens a dashboard
    and reads twenty times in two minutes), every late read shares the same missing commits,
    so one commit makes them all stale together. The rate they come at, not the rate planned
    for, tells whether the cycle should end now (:func:`outran_priced_cycle`).
    """

    __slots__ = ("excess", "first", "n")

    def __init__(self) -> None:
        self.n = 0
        self.excess = 0.0  # seconds past D, summed over the late reads
        self.first = 0.0  # when the first late read came

    def add(self, now: float, count: int, past: float) -> float:
        """``count`` reads at ``now``, ``past`` seconds past D; returns the summed excess."""
        if not self.n:
            self.first = now
        self.n += count
        x = self.excess = self.excess + count * past
        return x

    def rate(self, now: float, reads: int, elapsed: float) -> float:
        """Reads per second the cycle is having: its ``reads`` over its ``elapsed`` seconds, or
        a 90 % lower bound on the late reads' own rate once there are enough of them, whichever
        is higher."""
        rate = reads / elapsed if elapsed > 0.0 else 0.0
        n = self.n
        if n >= _BURST_READS and now > self.first:
            # a rate their spacing rules out being below, 9 times in 10: the likeliest one,
            # (n - 1) / span, is twice the true rate one time in seven for five reads
            k = n - 1
            q = 1.0 - 1.0 / (9.0 * k) - _Z90 / (3.0 * math.sqrt(k))  # Wilson-Hilferty
            burst = k * q * q * q / (now - self.first)
            if burst > rate:
                return burst
        return rate

    def clear(self) -> None:
        """A pull ended the cycle."""
        self.n, self.excess = 0, 0.0


def cycle_overrun(read_cost: float, rate: float, age: float, past: float) -> float:
    """How far a cycle ``age`` s old, ``past`` s past D, has run beyond the priced cycle for
    reads at ``rate``/s, with ``read_cost`` = price of a stale read (syncs) x change rate (/s).

    The priced cycle c* minimises (1 + mu rho st(c)) / c, where st(c) ~ lam u^2 / 2 is the
    stale time with u = c - D; it is where F(c) = mu rho lam (c u - u^2 / 2) reaches 1
    (past it, each second costs more than the cycle's average). This returns F, which grows
    as c^2 for long cycles.
    """
    return read_cost * rate * (age * past - 0.5 * past * past)


def outran_priced_cycle(read_cost: float, rate: float, age: float, past: float) -> bool:
    """Whether the cycle has run past about sqrt(2) times the priced cycle for the reads it is
    having (:func:`cycle_overrun` > 2): margin enough that a noisy rate does not end a planned
    cycle early, while reads resuming at ten times the planned rate end it at once."""
    return cycle_overrun(read_cost, rate, age, past) > 2.0
