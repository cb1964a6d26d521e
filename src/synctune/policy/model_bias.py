"""How far the stale-read model falls short on the traffic at hand, learned online."""

from __future__ import annotations

import math

from synctune.policy import _check

_LN2 = math.log(2.0)


class ModelBias:
    """The ratio of stale reads booked to stale reads the Poisson model expected (>= 1).

    After each pull the tuner knows two things about the cycle just ended: what the model
    expected its late reads to cost (the planned change rate times their summed seconds past
    the freshness target) and what the budget booked from the changes the pull brought. Human
    commits cluster and follow the clock, so on sparse traffic the second runs ahead of the
    first; the tuner multiplies the change rate it plans with by this factor.

    The sums decay with ``half_life`` seconds of cycles and start from ``prior`` stale reads on
    each side (a factor of 1 until evidence builds; with 3, one commit seen by a handful of
    late reads moves the factor by less than 2x). The factor only tightens: a week in which
    the model's forecast turned out high is more likely luck than a model that overestimates
    (the plan's own margin and the budget's upper-bound bookkeeping already cover that side),
    and it is capped at ``cap``. O(1) per pull, fixed memory.

    Args:
        half_life: seconds of cycles after which old evidence weighs half (> 0).
        prior: pseudo stale reads on each side of the ratio (> 0).
        cap: largest factor (>= 1).

    Attributes:
        factor: what to multiply the planned change rate by, in [1, cap]; kept current by
            :meth:`observe` (every plan reads it), not to be set.
    """

    __slots__ = ("_booked", "_cap", "_expected", "_half_life", "_prior", "factor")

    def __init__(self, half_life: float = 86_400.0, prior: float = 3.0, cap: float = 4.0) -> None:
        self._half_life = _check.real("half_life", half_life, minimum=0.0, strict=True)
        self._prior = _check.real("prior", prior, minimum=0.0, strict=True)
        self._cap = _check.real("cap", cap, minimum=1.0)
        self._expected = self._booked = 0.0
        self.factor = 1.0  # the priors alone: a ratio of 1

    def observe(self, expected: float, booked: float, span: float) -> None:
        """One cycle of ``span`` seconds: the model ``expected`` stale reads, ``booked`` were."""
        w = math.exp(-_LN2 * span / self._half_life) if span > 0.0 else 1.0
        self._expected = self._expected * w + expected
        booked = self._booked = self._booked * w + booked
        # read by every plan: computed once per cycle
        ratio = (booked + self._prior) / (self._expected + self._prior)
        self.factor = self._cap if ratio > self._cap else (ratio if ratio > 1.0 else 1.0)

    def __repr__(self) -> str:
        return f"ModelBias(factor={self.factor:.3g}, half_life={self._half_life:g})"
