"""The settings of :class:`~synctune.policy.budgeted.Budgeted`, validated once and frozen."""

from __future__ import annotations

from dataclasses import dataclass

from synctune.policy import _check
from synctune.policy.tuner_bounds import TunerBounds

#: share of its budget a replica on its own plans to spend. Stale reads come in lumps (one
#: commit makes a busy cycle's late reads stale together) that a replica cannot average out:
#: on 60 traces of the sparse family, 0.7 went over 1 % on 9 at D = 30 s, 0.5 on 2.
OWN_USE = 0.5
#: the same for replicas pooling one budget, which spreads what lumps they do not share (a
#: commit they all miss is one lump for all): 0.7 went over 1 % on the bursty trace at D = 60 s
#: on 4 of 4 seeds (1.01-1.33 %), 0.6 on none (0.71-0.91 %).
POOLED_USE = 0.6


@dataclass(frozen=True, slots=True)
class BudgetedConfig(TunerBounds):
    """What :class:`~synctune.policy.budgeted.Budgeted` plans with (see its arguments).

    Attributes:
        freshness: target D, seconds (> 0).
        stale_share: allowed share of reads older than D per window, in (0, 1).
        min_interval: shortest interval between syncs, seconds (> 0).
        max_interval: longest interval while reads are expected, seconds (>= min_interval).
        max_unpushed_age: seconds a local write may wait for a push (> 0; ``None`` given
            means D).
        window: the budget's rolling window, seconds (> 0).
        half_life: half-life of the fast rate estimates, seconds (> 0).
        day: period of the daily profile, seconds (> 0).
        latency_margin: RTTVARs added to SRTT when spending the freshness target (>= 0).
        min_timeout: floor of the sync timeout, seconds (> 0).
        max_timeout: cap of the sync timeout, seconds (>= min_timeout).
        bool_pulls: read each pull as changed or not (default), whatever the driver counts.
        use: share of the budget the plan aims to spend, in (0, 1]; ``None``: :data:`OWN_USE`
            on a budget of its own, :data:`POOLED_USE` on one shared with other replicas.
        learn: correct the planned cycle by a multiplier learned online
            (:class:`~synctune.policy.interval_hedge.IntervalHedge`).
    """

    # freshness, stale_share, min_interval, max_interval, max_unpushed_age: from TunerBounds
    window: float = 3600.0
    half_life: float = 300.0
    day: float = 86_400.0
    latency_margin: float = 2.0
    min_timeout: float = 5.0
    max_timeout: float = 120.0
    bool_pulls: bool = True
    use: float | None = None
    learn: bool = False

    def __post_init__(self) -> None:
        put = object.__setattr__
        self._check_bounds(self.latency_margin)
        put(self, "stale_share", _check.real("stale_share", self.stale_share, minimum=0.0,
                                             strict=True, maximum=1.0, strict_maximum=True))
        for name in ("window", "half_life", "day"):
            put(self, name, _check.real(name, getattr(self, name), minimum=0.0, strict=True))
        put(self, "bool_pulls", _check.flag("bool_pulls", self.bool_pulls))
        put(self, "learn", _check.flag("learn", self.learn))
        if self.use is not None:
            put(self, "use", _check.real("use", self.use, minimum=0.0, strict=True, maximum=1.0))

    def plan_use(self, pooled: bool) -> float:
        """The share of the budget to plan for, on a pooled budget or on one of its own."""
        if self.use is not None:
            return self.use
        return POOLED_USE if pooled else OWN_USE
