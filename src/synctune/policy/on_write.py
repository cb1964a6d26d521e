"""Sync right after local writes (the guide's ``syncOnWrite``), coalescing bursts."""

from __future__ import annotations

import random

from synctune.policy import _check
from synctune.policy.backoff import Backoff
from synctune.policy.strategy import Decision, SyncStrategy

_IDLE = Decision(None, "no writes since the last sync")


class OnWrite(SyncStrategy):
    """Push promptly after local writes.

    A sync is due ``coalesce`` seconds after the oldest unpushed write, so a burst of writes
    shares one sync; writes that land while a sync is in flight are pushed by the next one.
    A failed push is retried after a jittered ``backoff`` delay while writes remain unpushed.
    With no writes nothing is scheduled, except on an app request.

    Args:
        coalesce: seconds to wait after the first unpushed write (>= 0).
        backoff: retry delays after failures.
        rng: random source for jitter (inject a seeded one for reproducible runs).
    """

    name = "on-write"

    def __init__(self, coalesce: float = 0.0, backoff: Backoff | None = None,
                 rng: random.Random | None = None) -> None:
        super().__init__(
            _check.instance_or("backoff", backoff, Backoff, lambda: Backoff(base=1.0, cap=60.0)),
            _check.instance_or("rng", rng, random.Random, random.Random))
        self._coalesce = _check.real("coalesce", coalesce, minimum=0.0)
        self._last: Decision | None = None

    def _decide(self, now: float) -> Decision:
        st = self._state  # the oldest unsynced write, from the record
        oldest = st.first_unsynced
        if oldest is None:
            oldest = st.first_unsynced_since_start
        if oldest is None:
            return _IDLE  # the base answers a pending app request
        due, reason = oldest + self._coalesce, "sync after local writes"
        if self._retry_at is not None and self._retry_at > due:
            due, reason = self._retry_at, f"retry {self.consecutive_failures} after backoff"
        # a burst re-asks with the same oldest write: reuse the decision
        last = self._last
        if last is None or last.due != due or last.reason != reason:
            self._last = last = Decision(due, reason)
        return last

    def __repr__(self) -> str:
        return f"OnWrite(coalesce={self._coalesce:g})"
