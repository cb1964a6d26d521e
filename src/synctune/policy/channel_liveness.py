"""Whether an announcement channel is alive: up, and heard from within a heartbeat timeout.

The base of strategies whose hints count only while it is
(:class:`~synctune.policy.announced.Announced`): they plan the silence into their decision
(reason :data:`SILENT`, due at the bound) and keep ``_runner_up``, the earliest due of that
decision but the silence's. A heartbeat then only moves the bound, and the moved decision is
built only when asked for: heartbeats come often, decisions are read rarely.
"""

from __future__ import annotations

import math

from synctune.policy import _check
from synctune.policy.combination import Combination
from synctune.policy.decision import Decision

_INF = math.inf
SILENT = "announcement channel silent past its heartbeat timeout: fallback's schedule"


class ChannelLiveness(Combination):
    """A combination that knows whether its announcement channel is alive (see the module)."""

    __slots__ = ("_alive_until", "_heartbeat", "_last", "_lazy", "_lazy_of", "_runner_up", "_up")

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        # this decide() only builds the moved silence, which next_sync_due answers itself
        cls._own_decide = cls.decide is not ChannelLiveness.decide

    def _liveness(self, heartbeat_timeout: float) -> None:
        """Start with the channel down; ``heartbeat_timeout`` (s, > 0) of silence is down."""
        self._heartbeat = _check.real("heartbeat_timeout", heartbeat_timeout, minimum=0.0,
                                      strict=True)
        self._up = False
        self._alive_until = -_INF  # heard from the channel; live while now <= this
        self._last: Decision | None = None  # the subclass's latest decision
        self._runner_up = _INF  # the earliest due of the last decision but the silence's
        # a heartbeat moved the silence to `_lazy` (s) while `_lazy_of` is the standing
        # decision: its Decision is built only when asked for
        self._lazy: float | None = None
        self._lazy_of: Decision | None = None

    def live_at(self, now: float) -> bool:
        """Whether hints drive the pulls at ``now`` (s): the channel up and heard from within
        ``heartbeat_timeout``."""
        return self._up and now <= self._alive_until

    def _after_channel(self, now: float, up: bool) -> None:
        self.on_channel(now, up)  # as a part of a combination (the tick is a no-op then)

    def on_channel(self, now: float, up: bool) -> None:
        # every heartbeat: the base's check inlined, the decision kept when it can be
        st = self._state
        st.tick("now", now)
        if up.__class__ is not bool:
            _check.flag("up", up)
        was = self._up and now <= self._alive_until
        self._up = up
        alive = self._alive_until = now + self._heartbeat if up else -_INF
        last = self._decision
        if not (up and was):
            self._redecide()
            if up:
                self._after_announcement(now, None)  # back: "something may have changed"
        elif last is not None and last._reason is SILENT:
            due = last.due
            if due is not None and due < alive:
                # the silence itself was next: it moves to the new bound unless what came
                # after it in the last decision now comes first (no full re-decision; with
                # none standing, the next one plans the new bound)
                if st.requested_at is None and alive < self._runner_up:
                    self._lazy, self._lazy_of = alive, last
                else:
                    self._redecide()

    def next_sync_due(self, now: float) -> float | None:
        # asked after every event: the base's fast path inlined, with the moved silence's
        decision = self._decision
        if decision is not None and not self._own_decide:
            st = self._state
            if now.__class__ is float and st.now <= now < _INF:
                st.now = now
                lazy = self._lazy
                return lazy if lazy is not None and decision is self._lazy_of else decision.due
        return self.decide(now).due

    def decide(self, now: float) -> Decision:
        lazy = self._lazy
        if lazy is not None:
            if self._decision is self._lazy_of:
                self._decision = self._last = Decision(lazy, SILENT)
            self._lazy = self._lazy_of = None
        return super().decide(now)
