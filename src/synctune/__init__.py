"""synctune: keep embedded database replicas fresh at the least cost.

The public API is re-exported here; everything else is private. The policy core loads at once
(it is what apps embed); the simulator, the live controller and sweeps load on first use, so
``import synctune`` stays light.
"""

from importlib import import_module
from typing import Any

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
    AnyOf,
    Backoff,
    Decision,
    FailureKind,
    Manual,
    OnWrite,
    Periodic,
    Preset,
    SeedRule,
    SyncReport,
    SyncSettings,
    SyncStrategy,
    from_settings,
    preset,
    seed_rule,
    strategy_from_spec,
)

__version__ = "0.1.0"

# name -> module that defines it, imported on first access
_LAZY = {
    "SimConfig": "synctune.sim", "SimResult": "synctune.sim", "simulate": "synctune.sim",
    "compare": "synctune.sim", "load_trace": "synctune.sim", "advise": "synctune.sim",
    "Advice": "synctune.sim",
    "SyncController": "synctune.live", "open_replica": "synctune.live.factory",
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

__all__ = [
    "ALERTS", "METRICS", "PRESETS", "STRATEGY_SPECS", "Adaptive", "AlertEvaluator", "AlertEvent",
    "AlertRule", "AlertThresholds", "AnyOf", "Backoff", "Decision", "FailureKind", "Manual",
    "MetricSpec", "OnWrite", "Periodic", "Preset", "SeedRule", "SyncReport", "SyncSettings",
    "SyncStrategy", "__version__", "from_settings", "preset", "seed_rule", "strategy_from_spec",
    *_LAZY,
]
