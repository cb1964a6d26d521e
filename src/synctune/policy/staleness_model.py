"""The staleness model: from change rate, sync duration and freshness target to an interval.

Remote commits arrive as a Poisson process of rate ``rate`` (commits/s). A sync takes ``latency``
seconds and its pull reflects the primary as of the sync's start. The next sync starts
``interval`` seconds after one ends, so a snapshot serves reads for a cycle of
``c = interval + latency`` seconds. A read ``u`` seconds into the cycle misses the commits of the
last ``u + latency`` seconds; it is *stale* (older than ``freshness`` D) iff one of them landed
more than D seconds ago, i.e. in a window of ``max(0, u - a)`` seconds with ``a = D - latency``:
probability ``1 - exp(-rate * max(0, u - a))``. With reads spread uniformly in time, the stale
share of a cycle is::

    S(c) = 0                                                   if c <= a
    S(c) = [(c - a) - (1 - exp(-rate * (c - a))) / rate] / c   otherwise

S is the average of a non-decreasing function of ``u`` over ``[0, c]``, so it never decreases
with ``c``; it grows with ``rate`` and with ``latency`` and falls with D. As ``rate -> inf`` it
tends to ``(c - a) / c``, a bound that holds for every rate. See docs/adaptive.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from synctune.policy import _check
from synctune.policy.errors import InvalidInput, InvalidType

#: shrinks a solved cycle by a relative 1e-10 so rounding never puts S a hair above the target
_SAFETY = 1.0 - 1e-10


def _excess(x: float) -> float:
    """``x - (1 - exp(-x))`` without cancellation for small ``x``."""
    if x < 1e-4:
        return x * x * (0.5 - x * (1.0 / 6.0 - x / 24.0))
    return x + math.expm1(-x)


def cycle_stale_share(cycle: float, rate: float, budget: float) -> float:
    """Stale share S of a snapshot serving reads for ``cycle`` s, with ``budget`` a = D - L (s).

    ``rate`` may be ``inf`` (the rate-free bound). ``budget`` may be negative (a sync slower than
    the freshness target): then even the first read of a cycle may be stale.
    """
    if rate <= 0.0:
        return 0.0
    if budget >= 0.0:
        if cycle <= budget:
            return 0.0
        if rate == math.inf:
            return (cycle - budget) / cycle
        return _excess(rate * (cycle - budget)) / rate / cycle
    if rate == math.inf:
        return 1.0
    # every read is past the budget: average of 1 - exp(-rate (u - a)) over u in [0, c]
    first = -math.expm1(rate * budget)  # the share at u = 0
    if cycle <= 0.0:
        return first
    return 1.0 + math.exp(rate * budget) * math.expm1(-rate * cycle) / (rate * cycle)


def _rate(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidType(f"rate must be a number, got {value!r} ({type(value).__name__})")
    if math.isnan(value) or value < 0:
        raise InvalidInput(f"rate must be >= 0 (inf allowed), got {value!r}")
    return float(value)


def stale_share(interval: float, rate: float, freshness: float, latency: float) -> float:
    """Predicted share of reads older than ``freshness`` (s) when syncing every ``interval`` s.

    Args:
        interval: seconds from the end of one sync to the start of the next (>= 0).
        rate: remote commits per second (>= 0, may be ``inf``).
        freshness: target D (s, > 0).
        latency: sync duration (s, >= 0).
    """
    interval = _check.real("interval", interval, minimum=0.0)
    freshness = _check.real("freshness", freshness, minimum=0.0, strict=True)
    latency = _check.real("latency", latency, minimum=0.0)
    return cycle_stale_share(interval + latency, _rate(rate), freshness - latency)


def _longest_cycle(rate: float, budget: float, share: float, carried: float = 0.0) -> float:
    """Largest cycle c with S(c) <= share, for budget a > 0 and 0 < share < 1; with a share
    ``carried`` of cycles starting inside a burst (every read past ``a`` stale), the mixture
    ``carried (c - a) / c + (1 - carried) S(c)``."""
    if rate <= 0.0 and carried <= 0.0:
        return math.inf
    if rate == math.inf or carried >= 1.0 or rate <= 0.0:
        if rate <= 0.0:  # only the bursts: (c - a) / c <= share / carried
            bound = share / carried
            return math.inf if bound >= 1.0 else budget / (1.0 - bound) * _SAFETY
        return budget / (1.0 - share) * _SAFETY
    # with x = rate (c - a): S(c) = share  <=>
    # h(x) = (1 - share) x + (1 - carried) expm1(-x) - share rate a = 0; h(0) <= 0, h is convex
    # and has one positive root; Newton from its right converges from above
    k = share * rate * budget
    q = 1.0 - carried
    x = (1.0 + k) / (1.0 - share)
    for _ in range(100):
        step = ((1.0 - share) * x + q * math.expm1(-x) - k) / ((1.0 - share) - q * math.exp(-x))
        if not step > 1e-14 * x:  # converged (rounding may leave x a hair low: conservative)
            break
        x -= step
    return (budget + x / rate) * _SAFETY


@dataclass(frozen=True, slots=True)
class IntervalChoice:
    """The interval the model picks and why.

    Attributes:
        interval: seconds from the end of one sync to the start of the next.
        predicted_stale_share: S at that interval (model, with the rate and latency given).
        bound: ``model`` (largest interval meeting the target), ``max`` (capped at
            max_interval), ``min`` (target out of reach at this rate: floored at min_interval)
            or ``unreachable`` (the sync alone takes at least the freshness target).
    """

    interval: float
    predicted_stale_share: float
    bound: str


def longest_interval(rate: float, freshness: float, latency: float, stale_share_target: float,
                     min_interval: float, max_interval: float,
                     carried: float = 0.0) -> IntervalChoice:
    """Largest interval in ``[min_interval, max_interval]`` whose stale share is at most the target.

    Args:
        rate: remote commits per second; pass a safe (upper) estimate, ``inf`` if unknown.
        freshness: target D (s, > 0).
        latency: sync duration to plan with (s, >= 0); pass a conservative estimate.
        stale_share_target: allowed share of reads older than D, in (0, 1).
        min_interval: smallest interval (s, > 0).
        max_interval: largest interval (s, >= min_interval).
        carried: chance in [0, 1] that the cycle starts inside a burst of changes, every read
            past ``freshness - latency`` then stale (see :mod:`.change_runs`); default 0.

    If ``latency >= freshness`` no interval can meet the target and the answer is
    ``min_interval`` (bound ``unreachable``); if even ``min_interval`` misses it at this rate, the
    answer is ``min_interval`` too (bound ``min``): syncing as often as allowed minimises S.
    """
    budget = freshness - latency
    if budget <= 0.0:
        bound, interval = "unreachable", min_interval
    else:
        best = _longest_cycle(rate, budget, stale_share_target, carried) - latency
        if best >= max_interval:
            bound, interval = "max", max_interval
        elif best >= min_interval:
            bound, interval = "model", best
        else:
            bound, interval = "min", min_interval
    share = cycle_stale_share(interval + latency, rate, budget)
    if carried > 0.0:
        share += carried * (cycle_stale_share(interval + latency, math.inf, budget) - share)
    return IntervalChoice(interval, share, bound)


def longest_cycle(rate: float, budget: float, share: float) -> float:
    """Largest cycle ``c`` (s) with ``S(c) <= share`` for budget ``a > 0`` and ``0 < share < 1``."""
    return _longest_cycle(rate, budget, share)


def cycle_stale_time(cycle: float, rate: float, budget: float) -> float:
    """Expected seconds of a cycle during which a read would be stale: ``c * S(c)``.

    Times the read rate, the expected stale reads of one cycle (``budget`` a >= 0).
    """
    if rate <= 0.0 or cycle <= budget:
        return 0.0
    if rate == math.inf:
        return cycle - budget
    x = rate * (cycle - budget)  # _excess(x) inline: once per plan, in the budget check
    if x < 1e-4:
        return x * x * (0.5 - x * (1.0 / 6.0 - x / 24.0)) / rate
    return (x + math.expm1(-x)) / rate


def late_stale_chance(changes: float, excess: float, span: float, carried: float) -> float:
    """Chance that a read ``excess`` s past the freshness target was stale, in a cycle of
    ``span`` s whose pull brought ``changes`` changes, each uniform in the span: ``1 - (1 -
    excess / span) ** changes``. It is concave in ``excess``, so at a cycle's mean excess it
    bounds the mean over its reads from above (Jensen). With chance ``carried`` the changes went
    on from a burst the previous pull saw: then the first came at the cycle's start and every
    late read was stale."""
    p = 1.0 if span <= excess else -math.expm1(changes * math.log1p(-excess / span))
    return p + carried * (1.0 - p)


def _marginal(x: float, rate: float, budget: float) -> float:
    # h = a (1 - e^-x) + (1 - e^-x - x e^-x) / rate, with x = rate (c - a)
    if x < 1e-4:
        return budget * x * (1.0 - 0.5 * x) + x * x * (0.5 - x / 3.0) / rate
    e = math.exp(-x)
    return -budget * math.expm1(-x) + (-math.expm1(-x) - x * e) / rate


class SharePrice:
    """Price of a stale read (syncs) at which one replica meets ``share`` at its average rates:
    ``1 / (reads * h(c))``, with ``c`` the longest cycle meeting the share and ``h`` the
    marginal stale time there. Average rates move slowly, so the solve is redone only when the
    change rate or the budget moved by more than 1 %."""

    __slots__ = ("_budget", "_marginal", "_rate", "_share")

    def __init__(self, share: float) -> None:
        self._share = share
        self._rate = self._budget = self._marginal = 0.0

    def at(self, rate: float, budget: float, reads: float) -> float:
        """The price at change ``rate`` (/s), budget a = D - latency (s) and ``reads``/s."""
        if not reads > 0.0:
            return 0.0
        if not (abs(rate - self._rate) <= 0.01 * self._rate
                and abs(budget - self._budget) <= 0.01 * self._budget):
            c = longest_cycle(rate, budget, self._share)
            self._marginal = _marginal(rate * (c - budget), rate, budget) if c < math.inf else 0.0
            self._rate, self._budget = rate, budget
        m = self._marginal
        return 1.0 / (reads * m) if m > 0.0 else 0.0


def priced_cycle(rate: float, budget: float, price_reads: float) -> float:
    """The cycle (s) that minimises syncs plus ``price_reads`` per expected stale-read-second.

    With a price ``mu`` per stale read and ``rho`` reads/s, one cycle of ``c`` seconds costs one
    sync plus ``mu * rho * c * S(c)``; the cost per second is least where
    ``h(c) = a - c e^{-x} + (1 - e^{-x}) / rate = 1 / (mu * rho)`` (``x = rate (c - a)``). ``h``
    rises from 0 at ``c = a`` to ``a + 1 / rate``: a dearer stale read or more reads shorten the
    cycle, roughly as ``sqrt(a² + 2 / (mu rho rate))`` when changes are rare (the square-root
    law of refresh scheduling). Returns ``inf`` when no finite cycle is worth a sync.

    Args:
        rate: remote changes per second (> 0, finite).
        budget: a = D - latency (s, > 0).
        price_reads: ``mu * rho``, the price of one second of stale reading (>= 0).
    """
    if price_reads <= 0.0 or rate <= 0.0:
        return math.inf
    target = 1.0 / price_reads
    if target >= budget + 1.0 / rate:
        return math.inf
    # Newton on x from the rare-change approximation, kept inside a shrinking bracket
    x = rate * (math.sqrt(budget * budget + 2.0 * target / rate) - budget)
    lo, hi = 0.0, math.inf
    exp, expm1 = math.exp, math.expm1
    for _ in range(60):
        # h(x) as _marginal computes it, sharing its exponentials with the slope h'(x)
        e = exp(-x)
        if x < 1e-4:
            f = budget * x * (1.0 - 0.5 * x) + x * x * (0.5 - x / 3.0) / rate - target
        else:
            em1 = expm1(-x)
            f = -budget * em1 + (-em1 - x * e) / rate - target
        if f > 0.0:
            hi = x
        else:
            lo = x
        slope = e * (budget + x / rate)
        step = f / slope if slope > 0.0 else math.inf
        nxt = x - step
        if not lo < nxt < hi:
            nxt = 0.5 * (lo + hi) if hi < math.inf else 2.0 * x + 1.0
        if abs(nxt - x) <= 1e-9 * (1.0 + x):
            x = nxt
            break
        x = nxt
    return budget + x / rate


def _overspends(c: float, lam: float, a: float, rho: float, accrual: float,
                allow: float) -> bool:
    """Whether a cycle of ``c`` s expects more stale reads than ``accrual * c + allow``."""
    return rho * cycle_stale_time(c, lam, a) > accrual * c + allow


def cycle_cap(lam: float, a: float, rho: float, accrual: float, allow: float,
              limit: float = math.inf) -> float:
    """Longest cycle (s) whose expected stale reads, at ``rho`` reads/s and ``lam`` changes/s
    with ``a`` s of budget, stay within ``accrual * c + allow``; ``inf`` when ``limit`` (s)
    already does (the cap would not bind)."""
    # stale time is convex in c and 0 at c = a, so "over" holds from one point on: a
    # limit within it settles the question with one evaluation instead of a bisection
    # (_overspends inline: this is the common case, once per plan)
    if limit < math.inf and not rho * cycle_stale_time(limit, lam, a) > accrual * limit + allow:
        return math.inf
    over = _overspends
    hi = a * 2.0
    while not over(hi, lam, a, rho, accrual, allow):
        hi *= 2.0
        if hi > 1e9:
            return math.inf
    lo = a
    # to a millisecond per 10 s of cycle: far below what a sync's timing can resolve
    while hi - lo > 1e-4 * lo:
        mid = 0.5 * (lo + hi)
        if over(mid, lam, a, rho, accrual, allow):
            hi = mid
        else:
            lo = mid
    return lo
