"""synctune: keep embedded database replicas fresh at the least cost.

The public API is re-exported here; everything else is private.
"""

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

__all__ = [
    "ALERTS", "METRICS", "PRESETS", "STRATEGY_SPECS", "Adaptive", "AlertEvaluator", "AlertEvent",
    "AlertRule", "AlertThresholds", "AnyOf", "Backoff", "Decision", "FailureKind", "Manual",
    "MetricSpec", "OnWrite", "Periodic", "Preset", "SeedRule", "SyncReport", "SyncSettings",
    "SyncStrategy", "__version__", "from_settings", "preset", "seed_rule", "strategy_from_spec",
]
