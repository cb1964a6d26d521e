"""The settings of :class:`~synctune.policy.adaptive.Adaptive`, validated once and frozen."""

from __future__ import annotations

from dataclasses import dataclass

from synctune.policy import _check
from synctune.policy.errors import InvalidInput
from synctune.policy.tuner_bounds import TunerBounds


@dataclass(frozen=True, slots=True)
class AdaptiveConfig(TunerBounds):
    """What :class:`~synctune.policy.adaptive.Adaptive` plans with (see its arguments).

    Attributes:
        freshness: target D, seconds (> 0).
        stale_share: allowed share of reads older than D, in (0, 1).
        min_interval: shortest interval, seconds (> 0).
        max_interval: longest interval, seconds (>= min_interval).
        max_unpushed_age: seconds a local write may wait for a push (> 0; ``None`` given
            means D).
        half_life: half-life of the change-rate estimate, seconds (> 0).
        rate_z: normal quantile of the rate's upper bound (>= 0).
        latency_margin: RTTVARs added to SRTT when spending the freshness budget (>= 0).
        min_timeout: floor of the sync timeout, seconds (> 0).
        max_timeout: cap of the sync timeout, seconds (>= min_timeout).
        bool_pulls: read each pull as changed or not (default), whatever the driver counts.
    """

    # freshness, stale_share, min_interval, max_interval, max_unpushed_age: from TunerBounds
    half_life: float = 300.0
    rate_z: float = 1.645
    latency_margin: float = 2.0
    min_timeout: float = 5.0
    max_timeout: float = 120.0
    bool_pulls: bool = True

    def __post_init__(self) -> None:
        put = object.__setattr__
        self._check_bounds(self.latency_margin)
        share = _check.real("stale_share", self.stale_share, minimum=0.0, strict=True)
        if not share < 1.0:
            raise InvalidInput(f"stale_share must be < 1, got {self.stale_share!r}")
        put(self, "stale_share", share)
        put(self, "half_life", _check.real("half_life", self.half_life))
        put(self, "rate_z", _check.real("rate_z", self.rate_z, minimum=0.0))
        put(self, "bool_pulls", _check.flag("bool_pulls", self.bool_pulls))
