"""Rates of sparse, bursty human traffic: a shrunk Gamma-Poisson estimate with a daily profile.

Used by :class:`~synctune.policy.budgeted.Budgeted` for both remote changes (observed per pull)
and the app's reads (counted exactly). O(1) time per observation, fixed-size memory.
"""

from __future__ import annotations

import math

from synctune.policy import _check
from synctune.policy.errors import InvalidInput

_LN2 = math.log(2.0)


class DailyProfile:
    """How a rate moves over the day: one decayed count/time pair per slot of a fixed table.

    ``rate_at(t)`` is the slot's own rate shrunk towards the long-run mean with a prior worth
    ``shrink`` seconds of exposure, so an unseen or thinly seen slot answers the mean. The mean
    itself starts from ``initial`` worth ``prior_events`` events (a sparse Gamma prior): a short
    quiet start never claims a zero rate, yet a week with a few dozen events is judged by them,
    not by the guess it started from. Counts and
    exposure of every slot halve once the total exposure exceeds ``memory`` seconds (older days
    fade; memory stays fixed).

    Args:
        period: length of the cycle, seconds (default one day).
        slots: table size (default 24: hourly slots).
        shrink: prior weight of the long-run mean and of ``initial``, seconds of exposure.
        memory: exposure (s) after which the table's weight halves (default a week).
        initial: rate assumed before data (events/s, > 0).
        prior_events: weight of ``initial`` in the mean, in events (> 0).

    Attributes:
        mean: long-run mean rate (events/s), starting from ``initial``; kept current by
            :meth:`observe` (every rate look-up reads it), not to be set.
    """

    __slots__ = ("_changes", "_exposure", "_memory", "_period", "_prior_n", "_prior_t",
                 "_shrink", "_slot_len", "_slots", "_total_n", "_total_t", "mean")

    def __init__(self, period: float = 86_400.0, slots: int = 24, shrink: float = 1800.0,
                 memory: float = 7 * 86_400.0, initial: float = 1.0 / 60.0,
                 prior_events: float = 1.0) -> None:
        self._period = _check.real("period", period, minimum=0.0, strict=True)
        if _check.count("slots", slots) < 1:
            raise InvalidInput(f"slots must be >= 1, got {slots!r}")
        self._slot_len = self._period / slots
        self._slots = slots
        self._shrink = _check.real("shrink", shrink, minimum=0.0)
        self._memory = _check.real("memory", memory, minimum=0.0, strict=True)
        initial = _check.real("initial", initial, minimum=0.0, strict=True)
        self._prior_n = _check.real("prior_events", prior_events, minimum=0.0, strict=True)
        self._prior_t = self._prior_n / initial
        self._changes = [0.0] * slots
        self._exposure = [0.0] * slots
        self._total_n = 0.0
        self._total_t = 0.0
        self.mean = self._prior_n / self._prior_t

    def observe(self, count: float, span: float, end: float) -> None:
        """Add ``count`` events over the ``span`` seconds ending at ``end`` (clock time, s).

        The observation is booked in the slot of its midpoint (spans are short next to a slot).
        """
        if span <= 0.0:
            return
        i = int(((end - 0.5 * span) % self._period) // self._slot_len) % self._slots
        self._changes[i] += count
        self._exposure[i] += span
        self._total_n += count
        self._total_t += span
        if self._total_t > self._memory:
            self._changes = [x * 0.5 for x in self._changes]
            self._exposure = [x * 0.5 for x in self._exposure]
            self._total_n *= 0.5
            self._total_t *= 0.5
        self.mean = (self._total_n + self._prior_n) / (self._total_t + self._prior_t)

    def rate_at(self, t: float) -> float:
        """Rate (events/s) expected at clock time ``t``."""
        i = int((t % self._period) // self._slot_len) % self._slots
        return (self._changes[i] + self._shrink * self.mean) / (self._exposure[i] + self._shrink)


class TrafficRate:
    """A rate from counts over spans, at two time scales, shrunk towards the daily profile.

    Gamma-Poisson: with a Gamma prior of mean ``m`` worth ``k`` seconds of exposure and decayed
    counts ``N`` over decayed exposure ``T``, the posterior mean is ``(N + k m) / (T + k)``. The
    *fast* estimate (half-life ``fast``) follows bursts; its prior is the *slow* estimate
    (half-life ``slow``), whose prior in turn is the daily profile at that time of day, worth one
    slow half-life of data: a quiet spell never certifies a zero rate, and a thin sample leans on
    what is usual for the hour.
    A count far above the fast estimate (Poisson lower bound at ``surprise_z`` above its
    upper bound) restarts the fast estimate at once: bursts are followed within one pull.

    Args:
        fast: half-life of the fast estimate, seconds (> 0).
        slow: half-life of the slow estimate, seconds (>= fast).
        prior_weight: ``k``, seconds of exposure the prior is worth (> 0).
        profile: the daily profile (default: 24 hourly slots of one day); it holds the rate
            assumed before any data.
        surprise_z: normal quantile of the burst test (> 0).
    """

    __slots__ = ("_fast", "_fast_n", "_fast_t", "_half_z2", "_k", "_least_high", "_profile",
                 "_quarter_z2", "_slow", "_slow_n", "_slow_t", "_surprise_z", "bursts")

    def __init__(self, fast: float = 300.0, slow: float = 3600.0, prior_weight: float = 300.0,
                 profile: DailyProfile | None = None, surprise_z: float = 3.0) -> None:
        self._fast = _check.real("fast", fast, minimum=0.0, strict=True)
        self._slow = _check.real("slow", slow, minimum=self._fast)
        self._k = _check.real("prior_weight", prior_weight, minimum=0.0, strict=True)
        self._profile = profile if profile is not None else DailyProfile()
        z = self._surprise_z = _check.real("surprise_z", surprise_z, minimum=0.0, strict=True)
        self._half_z2 = 0.5 * z * z
        self._quarter_z2 = 0.25 * z * z
        # the burst test's upper bound at an expected count of 0, its least value (the float
        # operations are monotone): a count whose lower bound stays below it is no burst
        self._least_high = self._half_z2 + z * math.sqrt(self._quarter_z2)
        self._fast_n = self._fast_t = self._slow_n = self._slow_t = 0.0
        self.bursts = 0

    def observe(self, count: float, span: float, end: float) -> bool:
        """Add ``count`` events over ``span`` s ending at clock time ``end``; True on a burst."""
        if span <= 0.0:
            # no time passed: the events still count (they happened), with no exposure
            self._fast_n += count
            self._slow_n += count
            return False
        burst = False
        if self._fast_t > 0.0 and count > 0:
            z = self._surprise_z
            # score bounds of the observed count and the expectation, without allocation; the
            # expectation needs a profile look-up, so only when the count could be a burst
            low = count + self._half_z2 - z * math.sqrt(count + self._quarter_z2)
            # the fast estimate is at least its own counts over its exposure plus the prior's
            # (the float operations are monotone), so a count below that bound is no burst
            # either: the profile is looked up only for a count above both
            if (low > self._least_high
                    and low > self._fast_n / (self._fast_t + self._k) * span + self._half_z2):
                expected = self.rates_at(end)[0] * span
                high = expected + self._half_z2 + z * math.sqrt(expected + self._quarter_z2)
                if low > high:
                    self._fast_n = self._fast_t = 0.0
                    self.bursts += 1
                    burst = True
        wf = math.exp(-_LN2 * span / self._fast)
        ws = math.exp(-_LN2 * span / self._slow)
        self._fast_n = self._fast_n * wf + count
        self._fast_t = self._fast_t * wf + span
        self._slow_n = self._slow_n * ws + count
        self._slow_t = self._slow_t * ws + span
        self._profile.observe(count, span, end)
        return burst

    def slow_at(self, t: float) -> float:
        """Slow posterior mean (events/s) at clock time ``t``."""
        return self.rates_at(t)[1]

    def fast_at(self, t: float) -> float:
        """Fast posterior mean (events/s) at clock time ``t``: what the next minutes bring."""
        return self.rates_at(t)[0]

    def rates_at(self, t: float) -> tuple[float, float]:
        """``(fast_at(t), slow_at(t))`` with one look-up of the profile."""
        # the usual rate for the hour weighs as much as a half-life of data: an hour of quiet
        # does not make the next one quiet
        k = self._slow
        slow = (self._slow_n + k * self._profile.rate_at(t)) / (self._slow_t + k)
        return (self._fast_n + self._k * slow) / (self._fast_t + self._k), slow

    @property
    def mean(self) -> float:
        """Long-run mean rate (events/s) of the daily profile."""
        return self._profile.mean

    @property
    def profile(self) -> DailyProfile:
        """The daily profile this rate learns."""
        return self._profile

    def __repr__(self) -> str:
        return f"TrafficRate(fast={self._fast:g}, slow={self._slow:g})"
