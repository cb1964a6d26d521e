"""The best fixed sync interval in hindsight: the longest ``periodic:I`` meeting a stale share.

Given a workload known in full (a recorded trace), bisects the periodic interval on a log scale
for the longest one whose share of reads older than the freshness target D stays within the
target share *on that very run*. Longest means fewest syncs: what a fixed ``sync_interval``
could achieve at best on that traffic. The stale share is not exactly monotone in the interval
on a finite run (a longer interval can happen to line up better with commits), so the bisection
keeps the longest interval it saw meeting the target: a good fixed interval, not a proven
optimum.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from synctune.policy import _check
from synctune.policy.errors import InvalidInput, InvalidType
from synctune.sim.config import SimConfig
from synctune.sim.elaborate.workload import Workload
from synctune.sim.engine import build_workload, simulate

#: default target: at most 1 % of reads older than D
DEFAULT_STALE_SHARE = 0.01
#: longest interval tried (s)
LONGEST_INTERVAL = 3600.0
#: shortest interval tried, as a fraction of D
SHORTEST_FRACTION = 0.05


@dataclass(frozen=True, slots=True)
class FixedInterval:
    """The outcome of :func:`best_fixed_interval`.

    Attributes:
        interval: the periodic interval found (s); the shortest tried when none met the target.
        met: True when the interval keeps the share of reads older than D within the target.
        stale_share: the target share of reads older than D.
        summary: the simulation summary of ``periodic:interval`` on the workload.
    """

    interval: float
    met: bool
    stale_share: float
    summary: dict[str, Any]

    @property
    def over_freshness_fraction(self) -> float:
        """Predicted share of reads older than D with this interval."""
        return float(self.summary["over_freshness_fraction"])

    @property
    def syncs(self) -> int:
        """Successful syncs this interval needs over the workload."""
        return int(self.summary["syncs"])


def check_stale_share(stale_share: float) -> float:
    """``stale_share`` as a float in [0, 1), or a one-line error naming it."""
    _check.real("stale_share", stale_share, minimum=0.0)
    if stale_share >= 1.0:
        raise InvalidInput(f"stale_share must be < 1, got {stale_share!r}")
    return float(stale_share)


def run_spec(config: SimConfig, spec: str, workload: Workload) -> dict[str, Any]:
    """Summary of ``spec`` on ``workload`` under ``config`` (no per-read tables kept)."""
    run = dataclasses.replace(config, strategy=spec, detail=False)
    return dict(simulate(run, workload=workload).summary)


def best_fixed_interval(config: SimConfig, stale_share: float = DEFAULT_STALE_SHARE, *,
                        workload: Workload | None = None, steps: int = 12,
                        longest: float = LONGEST_INTERVAL) -> FixedInterval:
    """The longest periodic interval (s) seen keeping reads older than ``config.freshness``
    within ``stale_share`` on ``config``'s workload (``config.strategy`` is ignored).

    Args:
        config: workload, network and freshness target D.
        stale_share: target share of reads older than D, in [0, 1).
        workload: the workload, when already built from ``config`` (saves loading it again).
        steps: bisection steps after the two ends (each one simulation).
        longest: longest interval tried (s).
    """
    if not isinstance(config, SimConfig):
        raise InvalidType(f"config must be a SimConfig, got {config!r}")
    check_stale_share(stale_share)
    _check.count("steps", steps)
    _check.real("longest", longest, minimum=0.0, strict=True)
    wl = workload if workload is not None else build_workload(config)
    lo, hi = min(SHORTEST_FRACTION * config.freshness, longest), longest

    def meets(summary: dict[str, Any]) -> bool:
        return float(summary["over_freshness_fraction"]) <= stale_share

    best = run_spec(config, f"periodic:{lo:.6g}", wl)
    if not meets(best):  # nothing fixed meets it; report the shortest tried
        return FixedInterval(float(f"{lo:.6g}"), False, stale_share, best)
    best_i = lo
    top = run_spec(config, f"periodic:{hi:.6g}", wl)
    if meets(top):
        return FixedInterval(float(f"{hi:.6g}"), True, stale_share, top)
    for _ in range(steps):
        mid = (lo * hi) ** 0.5  # geometric: intervals span orders of magnitude
        s = run_spec(config, f"periodic:{mid:.6g}", wl)
        if meets(s):
            lo, best_i, best = mid, mid, s
        else:
            hi = mid
    return FixedInterval(float(f"{best_i:.6g}"), True, stale_share, best)
