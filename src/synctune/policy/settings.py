"""The three knobs an embedded-replica client exposes, as one frozen value."""

from __future__ import annotations

from dataclasses import dataclass

from synctune.policy import _check


@dataclass(frozen=True, slots=True)
class SyncSettings:
    """How a replica client is configured to sync.

    Attributes:
        sync_interval: seconds between periodic syncs, or ``None`` for no periodic sync
            (manual sync only, unless ``sync_on_write``).
        sync_on_write: sync right after each local write.
        read_your_writes: a node sees its own writes at once, before they reach the primary.
    """

    sync_interval: float | None = 60.0
    sync_on_write: bool = False
    read_your_writes: bool = True

    def __post_init__(self) -> None:
        if self.sync_interval is not None:
            _check.real("sync_interval", self.sync_interval, minimum=0.0, strict=True)
        _check.flag("sync_on_write", self.sync_on_write)
        _check.flag("read_your_writes", self.read_your_writes)

    @property
    def manual(self) -> bool:
        """True when nothing but the app triggers a sync."""
        return self.sync_interval is None and not self.sync_on_write
