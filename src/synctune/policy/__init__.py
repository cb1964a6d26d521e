"""Policy core: pure sync strategies. No I/O, no clock: time is passed in.

Imports nothing else from synctune; the simulator and the live controller both drive these
objects through the event interface in :mod:`synctune.policy.strategy`.
"""

from synctune.policy.adaptive import Adaptive
from synctune.policy.adaptive_config import AdaptiveConfig
from synctune.policy.announced import Announced
from synctune.policy.any_of import AnyOf
from synctune.policy.backoff import Backoff
from synctune.policy.budgeted import Budgeted
from synctune.policy.budgeted_config import BudgetedConfig
from synctune.policy.driver import SyncDriver
from synctune.policy.errors import InvalidInput, InvalidType
from synctune.policy.estimators import ChangeRateEstimator, LatencyEstimator
from synctune.policy.from_settings import from_settings
from synctune.policy.manual import Manual
from synctune.policy.on_write import OnWrite
from synctune.policy.periodic import Periodic
from synctune.policy.presets import PRESETS, Preset, preset
from synctune.policy.read_wait import ReadWait
from synctune.policy.seed_rule import seed_rule
from synctune.policy.seed_rule_strategy import SeedRule
from synctune.policy.settings import SyncSettings
from synctune.policy.spec import STRATEGY_SPECS, strategy_forms, strategy_from_spec
from synctune.policy.stale_budget import StaleReadBudget
from synctune.policy.staleness_model import IntervalChoice, longest_interval, stale_share
from synctune.policy.strategy import Decision, FailureKind, SyncReport, SyncStrategy
from synctune.policy.sync_state import SyncState
from synctune.policy.watcher import Watcher

__all__ = [
    "PRESETS", "STRATEGY_SPECS", "Adaptive", "AdaptiveConfig", "Announced", "AnyOf", "Backoff",
    "Budgeted", "BudgetedConfig",
    "ChangeRateEstimator", "Decision", "FailureKind", "IntervalChoice", "InvalidInput",
    "InvalidType", "LatencyEstimator", "Manual", "OnWrite", "Periodic", "Preset", "ReadWait",
    "SeedRule", "StaleReadBudget", "SyncDriver", "SyncReport", "SyncSettings", "SyncState",
    "SyncStrategy", "Watcher",
    "from_settings",
    "longest_interval", "preset", "seed_rule", "stale_share", "strategy_forms",
    "strategy_from_spec",
]
