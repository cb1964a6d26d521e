"""What a strategy shows of the driver's record: read-only views for drivers, notebooks and
tests (``strategy.unpushed_writes`` and the like)."""

from __future__ import annotations

from synctune.policy.sync_state import SyncState


class RecordViews:
    """Read-only views of ``self._state`` (a base of
    :class:`~synctune.policy.strategy.SyncStrategy`)."""

    _state: SyncState

    @property
    def unpushed_writes(self) -> int:
        """Local writes committed but not yet confirmed pushed (read from the record)."""
        return self._state.unpushed_writes

    @property
    def oldest_unpushed_write(self) -> float | None:
        """Commit time (s) of the oldest local write not yet pushed, or ``None``."""
        st = self._state  # read on every decision: the record's fields directly
        first = st.first_unpushed
        return first if first is not None else st.first_since_start

    @property
    def oldest_unsynced_write(self) -> float | None:
        """Commit time (s) of the oldest write, pushed or not, that no sync has followed yet."""
        st = self._state
        first = st.first_unsynced
        return first if first is not None else st.first_unsynced_since_start

    @property
    def reads(self) -> int:
        """Reads reported through :meth:`on_read`."""
        return self._state.reads

    @property
    def consecutive_failures(self) -> int:
        """Failed attempts since the last success."""
        return self._state.consecutive_failures

    @property
    def in_flight(self) -> bool:
        """True between ``on_sync_started`` and its outcome."""
        return self._state.in_flight_since is not None
