"""Policy core: pure sync strategies. No I/O, no clock: time is passed in.

Imports nothing else from synctune; the simulator and the live controller both drive these
objects through the event interface in :mod:`synctune.policy.strategy`.
"""

from synctune.policy.any_of import AnyOf
from synctune.policy.backoff import Backoff
from synctune.policy.from_settings import from_settings
from synctune.policy.manual import Manual
from synctune.policy.on_write import OnWrite
from synctune.policy.periodic import Periodic
from synctune.policy.presets import PRESETS, Preset, preset
from synctune.policy.seed_rule import seed_rule
from synctune.policy.settings import SyncSettings
from synctune.policy.strategy import Decision, FailureKind, SyncReport, SyncStrategy

__all__ = [
    "PRESETS", "AnyOf", "Backoff", "Decision", "FailureKind", "Manual", "OnWrite", "Periodic",
    "Preset", "SyncReport", "SyncSettings", "SyncStrategy", "from_settings", "preset",
    "seed_rule",
]
