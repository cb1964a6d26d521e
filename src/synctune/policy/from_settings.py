"""Build the strategy a client configured with ``SyncSettings`` behaves as."""

from __future__ import annotations

import random

from synctune.policy.errors import InvalidType
from synctune.policy.manual import Manual
from synctune.policy.on_write import OnWrite
from synctune.policy.periodic import Periodic
from synctune.policy.settings import SyncSettings
from synctune.policy.strategy import SyncStrategy


def from_settings(settings: SyncSettings, rng: random.Random | None = None) -> SyncStrategy:
    """``Periodic``, ``OnWrite``, both (``AnyOf``), or ``Manual``, as ``settings`` say.

    Manual requests from the app are honoured by all of them.
    """
    if not isinstance(settings, SyncSettings):
        raise InvalidType(f"settings must be SyncSettings, got {settings!r}")
    parts: list[SyncStrategy] = []
    if settings.sync_interval is not None:
        parts.append(Periodic(settings.sync_interval))
    if settings.sync_on_write:
        parts.append(OnWrite(rng=rng))
    if not parts:
        return Manual()
    if len(parts) == 1:
        return parts[0]
    return parts[0] | parts[1]
