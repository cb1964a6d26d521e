"""The stale-read budget: reads and estimated stale reads over a rolling window (fixed size)."""

from __future__ import annotations

import math

from synctune.policy import _check
from synctune.policy.errors import InvalidInput


class StaleReadBudget:
    """Allow at most ``share`` of the reads of the last ``window`` seconds to be stale.

    Reads and stale-read estimates are booked in ``slots`` equal slots of a ring; the window is
    the current slot plus the ``slots - 1`` before it, so memory is fixed and each booking is
    O(1) amortised. :meth:`remaining` is what may still be spent: ``share * reads - stale``
    (negative when overspent).

    One budget may be *shared* by the strategies of several replicas that can see each other
    (replicas in one process, or a fleet with a shared view of its reads): their reads and stale
    reads then pool, each replica registers its average read rate (:meth:`register`), and
    :meth:`common_price` finds the one price of a stale read at which the pooled reads meet the
    share, so syncs go to the replicas whose reads need them most (the read-weighted refresh
    rates of Azar et al. 2018). Memory is the ring plus one number per sharing replica.

    Args:
        share: allowed share of stale reads, in (0, 1).
        window: rolling window, seconds (> 0).
        slots: ring size (>= 1).
    """

    __slots__ = ("_price", "_priced_at", "_rates", "_reads", "_share", "_slot", "_slot_len",
                 "_stale", "_sum_reads", "_sum_stale", "_window")

    def __init__(self, share: float, window: float = 3600.0, slots: int = 12) -> None:
        self._share = _check.real("share", share, minimum=0.0, strict=True, maximum=1.0,
                                  strict_maximum=True)
        window = _check.real("window", window, minimum=0.0, strict=True)
        if _check.count("slots", slots) < 1:
            raise InvalidInput(f"slots must be >= 1, got {slots!r}")
        self._window = window
        self._slot_len = window / slots
        self._rates: dict[int, float] = {}
        self._price = 0.0
        self._priced_at = -math.inf
        self._reads = [0.0] * slots
        self._stale = [0.0] * slots
        self._slot = -math.inf  # absolute index of the current slot
        self._sum_reads = 0.0
        self._sum_stale = 0.0

    def _roll(self, now: float) -> int:
        """Clear the slots that left the window at ``now``; returns the absolute slot."""
        slot = math.floor(now / self._slot_len)
        if slot != self._slot:
            n = len(self._reads)
            steps = n if self._slot == -math.inf else min(n, slot - int(self._slot))
            for k in range(1, steps + 1):  # clear the slots that left the window
                i = (slot - steps + k) % n
                self._sum_reads -= self._reads[i]
                self._sum_stale -= self._stale[i]
                self._reads[i] = self._stale[i] = 0.0
            if steps >= n:  # everything left: drop the rounding residue too
                self._sum_reads = self._sum_stale = 0.0
            self._slot = slot
        return slot

    def book(self, now: float, reads: float, stale: float) -> None:
        """Add ``reads`` reads and ``stale`` estimated stale reads at ``now`` (s)."""
        slot = math.floor(now / self._slot_len)  # once per pull: roll only at a new slot
        i = (self._roll(now) if slot != self._slot else slot) % len(self._reads)
        self._reads[i] += reads
        self._stale[i] += stale
        self._sum_reads += reads
        self._sum_stale += stale

    def remaining(self, now: float) -> float:
        """Stale reads still allowed in the window at ``now`` (negative: overspent)."""
        self._roll(now)
        return self._share * self._sum_reads - self._sum_stale

    def reads_and_remaining(self, now: float) -> tuple[float, float]:
        """``(reads(now), remaining(now))`` with one roll of the ring (once per plan)."""
        if math.floor(now / self._slot_len) != self._slot:
            self._roll(now)
        return self._sum_reads, self._share * self._sum_reads - self._sum_stale

    def reads(self, now: float) -> float:
        """Reads in the window at ``now``."""
        self._roll(now)
        return self._sum_reads

    def stale(self, now: float) -> float:
        """Estimated stale reads in the window at ``now``."""
        self._roll(now)
        return self._sum_stale

    def register(self, key: int, read_rate: float) -> bool:
        """Record (or update) the average read rate (reads/s) of the replica ``key``; returns
        :attr:`shared` (once per plan: one call)."""
        rates = self._rates
        rates[key] = read_rate
        return len(rates) > 1

    @property
    def shared(self) -> bool:
        """True once more than one replica has registered."""
        return len(self._rates) > 1

    def common_price(self, now: float, change_rate: float, budget: float,
                     share: float) -> float:
        """Price of a stale read (syncs) at which the registered replicas, each cycling at
        :func:`~synctune.policy.staleness_model.priced_cycle`, expect ``share`` of their
        pooled reads to be stale (``budget`` a = D - latency, s). Re-solved at most once per
        twelfth of the window (bisection over the registry: O(replicas))."""
        if now - self._priced_at < self._slot_len and self._price > 0.0:
            return self._price
        from synctune.policy.staleness_model import cycle_stale_share, priced_cycle

        rates = [r for r in self._rates.values() if r > 0.0]
        total = sum(rates)
        if not rates or change_rate <= 0.0:
            return self._price

        def stale(log_price: float) -> float:
            price = math.exp(log_price)
            out = 0.0
            for r in rates:
                c = priced_cycle(change_rate, budget, price * r)
                out += r * (1.0 if c == math.inf else cycle_stale_share(c, change_rate, budget))
            return out / total

        lo, hi = math.log(1e-9), math.log(1e12)
        for _ in range(48):
            mid = 0.5 * (lo + hi)
            if stale(mid) > share:
                lo = mid
            else:
                hi = mid
        self._price = math.exp(hi)
        self._priced_at = now
        return self._price

    @property
    def share(self) -> float:
        """Allowed share of stale reads."""
        return self._share
