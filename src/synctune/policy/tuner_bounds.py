"""What the read-aware tuners' settings share: the target D, the interval bounds, how long a
local write may wait for a push, and the latency margin, checked the same way for both."""

from __future__ import annotations

from dataclasses import dataclass

from synctune.policy import _check
from synctune.policy.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class TunerBounds:
    """The leading fields and shared checks of the frozen settings of ``Adaptive`` and
    ``Budgeted``; each declares its own fields after these (see their attributes)."""

    freshness: float
    stale_share: float = 0.01
    min_interval: float = 1.0
    max_interval: float = 3600.0
    max_unpushed_age: float | None = None

    def _check_bounds(self, latency_margin: float) -> None:
        """Validate and normalise the shared fields in place (``max_unpushed_age`` defaults
        to D), and the subclass's own ``latency_margin`` (declared after fields of its own)."""
        put = object.__setattr__
        d = _check.real("freshness", self.freshness, minimum=0.0, strict=True)
        put(self, "freshness", d)
        low = _check.real("min_interval", self.min_interval, minimum=0.0, strict=True)
        high = _check.real("max_interval", self.max_interval, minimum=0.0, strict=True)
        if high < low:
            raise InvalidInput(f"max_interval must be >= min_interval ({self.min_interval!r}), "
                               f"got {self.max_interval!r}")
        put(self, "min_interval", low)
        put(self, "max_interval", high)
        age = self.max_unpushed_age
        put(self, "max_unpushed_age", d if age is None else _check.real(
            "max_unpushed_age", age, minimum=0.0, strict=True))
        put(self, "latency_margin", _check.real("latency_margin", latency_margin, minimum=0.0))

    @property
    def push_age(self) -> float:
        """``max_unpushed_age`` resolved (s)."""
        assert self.max_unpushed_age is not None
        return self.max_unpushed_age
