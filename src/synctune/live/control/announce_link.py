"""A controller's announcement link: it publishes the controller's own commits (and, for a
watcher, what its pulls found, plus heartbeats), and feeds what it hears to the strategy.

Hints arrive on the channel's thread and wait in a small inbox; the sync thread drains it under
the controller's lock right before each decision, so the strategy sees ``on_announcement`` and
``on_channel`` on the same thread and under the same lock as every other event. A flood that
overflows the inbox becomes one "something may have changed", and so does a hint that shows
another one of its sender's was lost (:mod:`~synctune.live.announce.gaps`).

The channel counts as alive (``on_channel(now, True)``) at each watcher heartbeat; in a fleet
without a watcher (``Announcer(..., fleet_watcher=False)``), about once a second while the
subscription itself is alive.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from synctune.live.announce.announcer import Announcer
from synctune.live.announce.channel import Subscription
from synctune.live.announce.gaps import GapDetector
from synctune.live.announce.hint import Hint
from synctune.live.control.strategy_guard import GuardedDriver

if TYPE_CHECKING:
    from synctune.live.control.history import SyncHistory
    from synctune.live.control.sync_loop import SyncLoop
from synctune.monitoring.histogram import Histogram, HistogramSnapshot
from synctune.monitoring.metrics import ANNOUNCE_HINT_LAG
from synctune.policy import SyncStrategy

#: events held between two decisions; more become one "something may have changed"
INBOX_SIZE = 256
#: bounds (s) of the hint-lag histogram: how old a commit is when its hint is heard
HINT_LAG_BUCKETS = ANNOUNCE_HINT_LAG.buckets
#: seconds between "the subscription is alive" in a fleet without a watcher
LIVENESS_EVERY = 1.0


class _Alive:
    """The inbox's "the subscription is alive" event (a fleet without a watcher)."""


ALIVE = _Alive()


@dataclass(frozen=True, slots=True)
class AnnounceSnapshot:
    """The link's figures at one time (for status and the Prometheus export)."""

    hints: dict[str, int]
    hint_lag: HistogramSnapshot
    channel_up: bool
    fallback_active: bool
    published: int
    publish_dropped: int
    junk: int
    #: others' hints found lost on the way (each made one "something may have changed")
    lost: int = 0


class AnnouncementLink:
    """Joins ``announcer`` to one controller's ``strategy`` (``watcher``: announce what the
    pulls find and send a heartbeat every ``heartbeat`` s while ``healthy()``, instead of
    subscribing)."""

    def __init__(self, announcer: Announcer, driver: GuardedDriver,
                 wake: Callable[[], None], clock: Callable[[], float], *, watcher: bool = False,
                 heartbeat: float = 5.0, healthy: Callable[[], bool] = lambda: True) -> None:
        if not isinstance(announcer, Announcer):
            raise TypeError(f"announcer must be an Announcer, got {announcer!r}")
        if not heartbeat > 0:
            raise ValueError(f"heartbeat must be > 0 s, got {heartbeat!r}")
        self.announcer, self._driver = announcer, driver
        self.strategy: SyncStrategy = driver.strategy
        self._wake, self.watcher, self.heartbeat = wake, watcher, heartbeat
        self._clock = clock
        self._healthy = healthy
        self._inbox: deque[Hint | bool | _Alive] = deque()
        self._gaps = GapDetector()  # the sync thread's only
        self._timer_pending = False
        self._gap = False
        self._lock = threading.Lock()  # the inbox only
        self._sub: Subscription | None = None
        self._closed = threading.Event()
        self._up = False
        self.hints: Counter[str] = Counter()
        #: hints of others' found lost (a skipped number, a heartbeat naming one never heard)
        self.lost = 0
        self.hint_lag = Histogram(HINT_LAG_BUCKETS)

    @classmethod
    def attach(cls, announcer: Announcer, loop: SyncLoop, driver: GuardedDriver,
               history: SyncHistory, clock: Callable[[], float],
               watcher_heartbeat: float | None) -> AnnouncementLink:
        """A link for the controller running ``loop``, hooked into it (``watcher_heartbeat``:
        a watcher beating every that many seconds while its latest sync succeeded)."""
        def healthy() -> bool:
            attempts = history.attempts
            return bool(attempts) and attempts[-1].ok

        link = cls(announcer, driver, loop.wake.set, clock,
                   watcher=watcher_heartbeat is not None, heartbeat=watcher_heartbeat or 5.0,
                   healthy=healthy)
        loop.before_decide, loop.after_sync = link.drain, link.after_sync
        return link

    # ------------------------------------------------------------- lifecycle
    def open(self) -> None:
        """Subscribe (a replica) or start the heartbeats (a watcher)."""
        if self.watcher:
            threading.Thread(target=self._beat, name="synctune-announce-beat",
                             daemon=True).start()
        else:
            self._sub = self.announcer.subscribe(self._on_hint, self._on_state)
            if not self.announcer.fleet_watcher:
                threading.Thread(target=self._liveness, name="synctune-announce-alive",
                                 daemon=True).start()

    def close(self) -> None:
        """Stop hearing and beating (never waits on the network)."""
        self._closed.set()
        if self._sub is not None:
            self._sub.close()

    def _beat(self) -> None:
        # only while the last pull succeeded: a watcher that cannot reach the primary announces
        # nothing, and its heartbeats would keep the fleet off its fallback
        while not self._closed.is_set():
            if self._healthy():
                self.announcer.heartbeat()
            self._closed.wait(self.heartbeat)

    def _liveness(self) -> None:
        # no watcher beats: the subscription's own reads and pongs say the channel is alive
        while not self._closed.wait(LIVENESS_EVERY):
            sub = self._sub
            if sub is not None and sub.alive:
                self._offer(ALIVE)

    # ----------------------------------------------------- the channel's thread
    def _on_hint(self, hint: Hint) -> None:
        self.hints[hint.kind] += 1
        if hint.commit_unix is not None:
            self.hint_lag.observe(max(0.0, self.announcer.wall() - hint.commit_unix))
        self._offer(hint)

    def _on_state(self, up: bool) -> None:
        self._up = up
        self._offer(up)

    def _offer(self, event: Hint | bool | _Alive) -> None:
        with self._lock:
            if len(self._inbox) < INBOX_SIZE:
                self._inbox.append(event)
            else:
                self._gap = True
        self._wake()

    # ------------------------------------------ the sync thread, controller lock held
    def drain(self, now: float) -> None:
        """Hand what arrived to the strategy, oldest first, at controller time ``now``."""
        with self._lock:
            if not self._inbox and not self._gap and self._gaps.next_deadline is None:
                return
            events, gap = list(self._inbox), self._gap
            self._inbox.clear()
            self._gap = False
        wall = self.announcer.wall()
        for event in events:
            if isinstance(event, bool):
                self._channel(now, event)
                if event:  # a (re)connect: hints sent meanwhile are lost
                    self._gaps.resync()
                    self._announce(now, None)
            elif isinstance(event, _Alive):
                self._channel(now, True)
            else:
                self._hint(now, wall, event)
        lost = self._gaps.lost(now)
        if lost:  # a hint of a sender's never came: something may have changed
            self.lost += lost
        if gap or lost:
            self._announce(now, None)
        self._wake_for_missing(now)

    def _wake_for_missing(self, now: float) -> None:
        """Decide again when a skipped number turns lost (if it has not arrived by then)."""
        due = self._gaps.next_deadline
        if due is None or self._timer_pending:
            return
        self._timer_pending = True

        def fire() -> None:
            self._timer_pending = False
            self._wake()

        timer = threading.Timer(max(0.0, due - now), fire)
        timer.daemon = True
        timer.start()

    def _hint(self, now: float, wall: float, hint: Hint) -> None:
        self._gaps.heard(hint, now)
        if hint.kind == "heartbeat":
            self._channel(now, True)
        else:
            commit = None if hint.commit_unix is None \
                else now - max(0.0, wall - hint.commit_unix)
            self._announce(now, commit)

    def _channel(self, now: float, up: bool) -> None:
        self._driver.channel(now, up)

    def _announce(self, now: float, commit: float | None) -> None:
        self._driver.announcement(now, commit)

    # ------------------------------------------------------------ publishing
    def after_sync(self, started_ago: float, pushed: int, pulled: int) -> None:
        """A sync that began ``started_ago`` s ago succeeded, pushing ``pushed`` and pulling
        ``pulled`` changes (controller lock held): announce the pushed commits (at the
        earliest, the sync's start) and, for a watcher, what the pull found (the strategy's
        ``commit_floor``; unknown when it has none)."""
        wall = self.announcer.wall()
        if pushed > 0:
            self.announcer.commit(wall - started_ago)
        if self.watcher and pulled > 0:
            self.announcer.commit(self._floor(wall))

    def _floor(self, wall: float) -> float | None:
        floor = self._driver.commit_floor()
        if floor is None:  # no earlier pull: when it landed is unknown
            return None
        return wall - max(0.0, self._clock() - floor)

    def delegated_write(self) -> None:
        """The app's write went straight to the primary and is there now."""
        self.announcer.commit(self.announcer.wall())

    # ----------------------------------------------------------------- views
    def fallback_active(self) -> bool:
        """The strategy's ``fallback_active`` when it has one, else: the channel is down."""
        active = self._driver.fallback_active()
        return (not self._up) if active is None else active

    def snapshot(self, lock: threading.RLock) -> AnnounceSnapshot:
        """The figures now (``lock``: the controller's, held to read the strategy)."""
        with lock:
            fallback = self.fallback_active()
        stats = self.announcer.channel.stats
        return AnnounceSnapshot(dict(self.hints), self.hint_lag.snapshot(), self._up,
                                fallback, stats.published, stats.publish_dropped, stats.junk,
                                self.lost)
