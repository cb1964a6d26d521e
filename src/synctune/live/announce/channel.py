"""The announcement channel seam: publish a :class:`~synctune.live.announce.hint.Hint`,
subscribe to one primary's hints.

A channel promises nothing: hints may be lost, duplicated, delayed, reordered or forged. What
it does promise: ``publish`` never waits on the network (fire-and-forget), a subscriber's
callbacks run on the channel's own thread, a message that is not a valid hint is counted and
dropped, and every (re)connect is reported with ``on_state(True)`` (the subscriber must treat it
as "something may have changed": hints sent meanwhile are lost).
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

from synctune.live.announce.hint import Hint, HintError, decode

log = logging.getLogger("synctune.live.announce")

#: called with each valid hint for the subscribed primary, on the channel's thread
OnHint = Callable[[Hint], None]
#: called with True on each (re)connect and False on each loss of the channel
OnState = Callable[[bool], None]


@dataclass
class ChannelStats:
    """Counts since the channel was made (read them any time; updated under a lock)."""

    published: int = 0
    #: publishes dropped: queue full, or the channel closed or failing
    publish_dropped: int = 0
    received: int = 0
    #: incoming messages that were not a valid hint for the subscribed primary
    junk: int = 0
    reconnects: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)


class Subscription(ABC):
    """One live subscription; :meth:`close` ends it (idempotent, never waits long)."""

    @property
    @abstractmethod
    def up(self) -> bool:
        """True while connected."""

    @property
    def alive(self) -> bool:
        """True while connected and heard from lately (a read or a pong): what a fleet
        without a watcher takes as the channel being alive. The connected state by default."""
        return self.up

    @abstractmethod
    def close(self) -> None:
        """Stop delivering."""


class AnnouncementChannel(ABC):
    """Where hints travel (in-process or Redis pub/sub, one channel per primary)."""

    def __init__(self) -> None:
        self.stats = ChannelStats()

    @abstractmethod
    def publish(self, hint: Hint) -> None:
        """Send ``hint`` to every subscriber of its primary, maybe. Never waits on the network,
        never raises for a channel failure (the hint is then dropped and counted)."""

    @abstractmethod
    def subscribe(self, primary: str, on_hint: OnHint, on_state: OnState) -> Subscription:
        """Deliver ``primary``'s hints to ``on_hint`` and channel state changes to
        ``on_state``, from a thread of the channel's, until the subscription is closed."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release connections and threads (idempotent)."""

    def deliver(self, primary: str, message: bytes | str, on_hint: OnHint) -> None:
        """Parse ``message`` and hand it on when it is a valid hint for ``primary``; junk is
        counted and dropped, and a callback that raises is logged, never propagated."""
        try:
            hint = decode(message)
        except HintError:
            self.stats.add("junk")
            return
        if hint.primary != primary:
            self.stats.add("junk")
            return
        self.stats.add("received")
        _safely(on_hint, hint)


def _safely(callback: Callable[..., None], *args: object) -> None:
    try:
        callback(*args)
    except Exception:
        log.exception("an announcement callback raised; the channel goes on")
