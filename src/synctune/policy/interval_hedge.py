"""Hedge over interval multipliers: no regret against the best fixed multiplier in hindsight."""

from __future__ import annotations

import math
from collections.abc import Sequence

from synctune.policy import _check
from synctune.policy.errors import InvalidInput
from synctune.policy.staleness_model import cycle_stale_time


class IntervalHedge:
    """Exponential weights (Hedge) over a log-spaced grid of multipliers of a planned interval.

    After each round the caller gives every multiplier's loss in ``[0, 1]`` (full information:
    what that multiplier would have cost on the round just seen). Weights are
    ``exp(-eta_t * L_i)`` with ``L_i`` the cumulative loss of arm ``i`` and the anytime rate
    ``eta_t = sqrt(8 ln K / t)``, so the expected loss of a draw from the weights exceeds the
    best arm's by at most ``sqrt(2 T ln K) + sqrt(ln K / 8)`` after ``T`` rounds
    (Cesa-Bianchi and Lugosi 2006, Thm 2.3): ``O(sqrt(T log K))``, a vanishing share per round.

    :attr:`multiplier` is the weighted geometric mean of the grid (deterministic, always within
    it); where the loss is convex in the log-multiplier it costs no more than the draw (Jensen).
    Memory and each update are O(K).

    Args:
        low: smallest multiplier (> 0).
        high: largest multiplier (>= low).
        arms: grid size (>= 1), log-spaced from ``low`` to ``high``.
    """

    __slots__ = ("_grid", "_log_grid", "_loss", "_mult", "_plan", "_rounds", "_weights")

    def __init__(self, low: float = 0.25, high: float = 4.0, arms: int = 9) -> None:
        low = _check.real("low", low, minimum=0.0, strict=True)
        high = _check.real("high", high, minimum=0.0, strict=True)
        if high < low:
            raise InvalidInput(f"high must be >= low ({low!r}), got {high!r}")
        if _check.count("arms", arms) < 1:
            raise InvalidInput(f"arms must be >= 1, got {arms!r}")
        span = math.log(high / low)
        step = span / (arms - 1) if arms > 1 else 0.0
        self._log_grid = tuple(math.log(low) + k * step for k in range(arms))
        self._grid = tuple(math.exp(x) for x in self._log_grid)
        self._loss = [0.0] * arms
        self._rounds = 0
        self._weights = tuple(1.0 / arms for _ in range(arms))
        self._mult = math.exp(sum(self._log_grid) / arms)
        self._plan = (0.0, 0.0, 0.0)  # price, budget a and change rate of the cycle planned

    @property
    def grid(self) -> tuple[float, ...]:
        """The multipliers, ascending."""
        return self._grid

    @property
    def weights(self) -> tuple[float, ...]:
        """The current distribution over the grid (non-negative, sums to 1)."""
        return self._weights

    @property
    def rounds(self) -> int:
        """Rounds (loss vectors) seen so far."""
        return self._rounds

    @property
    def multiplier(self) -> float:
        """The weighted geometric mean of the grid: the multiplier to plan with."""
        return self._mult

    def cumulative_loss(self) -> tuple[float, ...]:
        """Each arm's total loss so far."""
        return tuple(self._loss)

    def update(self, losses: Sequence[float]) -> None:
        """Book one round: ``losses[i]`` in ``[0, 1]`` is what multiplier ``grid[i]`` cost."""
        cum = self._loss
        if len(losses) != len(cum):
            raise InvalidInput(f"losses must have {len(cum)} entries, got {len(losses)}")
        for i, x in enumerate(losses):
            if not 0.0 <= x <= 1.0:
                raise InvalidInput(f"losses[{i}] must be in [0, 1], got {x!r}")
            cum[i] += x
        self._rounds += 1
        eta = math.sqrt(8.0 * math.log(len(cum)) / self._rounds) if len(cum) > 1 else 0.0
        best = min(cum)  # shifts the exponents: no underflow however long the run
        w = [math.exp(-eta * (x - best)) for x in cum]
        total = sum(w)
        self._weights = tuple(x / total for x in w)
        self._mult = math.exp(sum(p * g for p, g in zip(self._weights, self._log_grid,
                                                        strict=True)))

    def planned(self, price: float, budget: float, rate: float) -> float:
        """Note what the coming cycle is planned with (``price`` syncs per stale read,
        ``budget`` a = D - latency in s, ``rate`` changes/s); returns :attr:`multiplier`."""
        self._plan = (price, budget, rate)
        return self._mult

    def judge(self, span: float, reads: float, changes: float) -> None:
        """Book the round of the cycle just ended, as planned (see :func:`cycle_losses`);
        nothing when it tells nothing."""
        price, budget, rate = self._plan
        losses = cycle_losses(self._grid, span, reads, changes, budget, price, rate)
        if losses is not None:
            self.update(losses)

    def __repr__(self) -> str:
        return (f"IntervalHedge(low={self._grid[0]:g}, high={self._grid[-1]:g}, "
                f"arms={len(self._grid)}, rounds={self._rounds})")


def cycle_losses(grid: Sequence[float], span: float, reads: float, changes: float,
                 budget: float, price: float, rate: float = 0.0) -> list[float] | None:
    """What each multiplier of the cycle just seen would have cost, scaled into ``[0, 1]``.

    The cycle lasted ``span`` s, served ``reads`` reads and its pull brought ``changes``
    changes (the pull's own answer: 0 when nothing changed). A cycle ``m * span`` long costs
    ``(1 + price * rho * stale_time(m * span)) / (m * span)`` per second: one sync per cycle
    plus ``price`` syncs per expected stale read (``budget`` a = D - latency, s), at the change
    rate the pull saw over ``span`` and, for the part of a longer cycle nobody saw, the model's
    ``rate`` (changes/s). ``None`` when the cycle tells nothing (no time, reads or price).
    """
    if not (span > 0.0 and reads > 0.0 and price > 0.0):
        return None
    rho = reads / span
    cost = []
    for m in grid:
        c = m * span
        lam = (changes + rate * (c - span)) / c if m > 1.0 else changes / span
        cost.append((1.0 + price * rho * cycle_stale_time(c, lam, budget)) / c)
    top = max(cost)
    return [x / top for x in cost]
