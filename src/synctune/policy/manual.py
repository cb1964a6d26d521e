"""Sync only when the app asks (the guide's manual ``sync()``)."""

from __future__ import annotations

from synctune.policy.strategy import Decision, SyncStrategy

_WAITING = Decision(None, "waiting for the app to ask")


class Manual(SyncStrategy):
    """Sync exactly when the app calls ``on_sync_requested``; never on its own.

    Requests made while a sync is in flight lead to one more sync after it; several requests
    before a sync starts share it.
    """

    name = "manual"

    def _decide(self, now: float) -> Decision:
        # the base moves the due time to a pending request
        return _WAITING
