"""The settings of :class:`~synctune.policy.budgeted.Budgeted`, validated once and frozen."""

from __future__ import annotations

from dataclasses import dataclass

from synctune.policy import _check
from synctune.policy.tuner_bounds import TunerBounds


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
        use: share of the budget the plan aims to spend, in (0, 1].
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
    use: float = 0.5
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
        put(self, "use", _check.real("use", self.use, minimum=0.0, strict=True, maximum=1.0))
