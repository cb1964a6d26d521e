"""synctune: keep embedded database replicas fresh at the least cost.

The public API is re-exported here; everything else is private. The policy core loads at once
(it is what apps embed); the simulator, the live controller and sweeps load on first use, so
``import synctune`` stays light.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from synctune.monitoring import (
    ALERTS,
    METRICS,
    AlertEvaluator,
    AlertEvent,
    AlertRule,
    AlertThresholds,
    MetricSpec,
)
from synctune.policy import (
    PRESETS,
    STRATEGY_SPECS,
    Adaptive,
    Announced,
    AnyOf,
    Backoff,
    Budgeted,
    Decision,
    FailureKind,
    Manual,
    OnWrite,
    Periodic,
    Preset,
    ReadWait,
    SeedRule,
    SyncReport,
    SyncSettings,
    SyncStrategy,
    Watcher,
    from_settings,
    preset,
    seed_rule,
    strategy_from_spec,
)
from synctune.policy.errors import InvalidInput, InvalidType

if TYPE_CHECKING:
    # what the lazy names below are, for type checkers and IDEs (never imported at run time)
    from synctune.live import SyncController
    from synctune.live.replica.factory import open_replica
    from synctune.sim import Advice, SimConfig, SimResult, advise, compare, load_trace, simulate
    from synctune.sweep import Grid, run_sweep, summarize

from synctune._version import __version__

# name -> module that defines it, imported on first access
_LAZY = {
    "SimConfig": "synctune.sim", "SimResult": "synctune.sim", "simulate": "synctune.sim",
    "compare": "synctune.sim", "load_trace": "synctune.sim", "advise": "synctune.sim",
    "Advice": "synctune.sim",
    "SyncController": "synctune.live", "open_replica": "synctune.live.replica.factory",
    "run_sweep": "synctune.sweep", "Grid": "synctune.sweep", "summarize": "synctune.sweep",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'synctune' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

__all__ = [  # the lazy names load on first use (see _LAZY)
    "ALERTS", "METRICS", "PRESETS", "STRATEGY_SPECS", "Adaptive", "Advice", "AlertEvaluator",
    "AlertEvent", "AlertRule", "AlertThresholds", "Announced", "AnyOf", "Backoff", "Budgeted",
    "Decision", "FailureKind", "Grid", "InvalidInput", "InvalidType", "Manual", "MetricSpec",
    "OnWrite", "Periodic", "Preset", "ReadWait", "SeedRule", "SimConfig", "SimResult",
    "SyncController", "SyncReport", "SyncSettings", "SyncStrategy", "Watcher", "__version__",
    "advise", "compare", "from_settings", "load_trace", "open_replica", "preset", "run_sweep",
    "seed_rule", "simulate", "strategy_from_spec", "summarize",
]
