"""One process's end of the channel for one primary: what it sends, and what it hears from
others."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from synctune.live.announce.channel import AnnouncementChannel, OnHint, OnState, Subscription
from synctune.live.announce.hint import Hint, new_sender, primary_id


class Announcer:
    """Sends and hears one primary's hints on ``channel``.

    Args:
        channel: where hints travel (:class:`~synctune.live.announce.memory.InProcessChannel`,
            :class:`~synctune.live.announce.redis_channel.RedisChannel`).
        url: the primary's URL (only its credential-free hash travels).
        wall: the wall clock (Unix s) commit times are read from.
        sender: this process's id on the wire (random by default; a restarted process is a
            new sender, its hints numbered from 1 again).
        fleet_watcher: whether the fleet runs ``synctune watch``: then only its heartbeats
            keep a subscriber off its fallback; ``False`` (a fleet whose writes all come from
            its own members, each announcing its pushes): the subscription's own liveness
            does (writes from outside the fleet are then never announced).
    """

    def __init__(self, channel: AnnouncementChannel, url: str, *,
                 wall: Callable[[], float] = time.time, sender: str | None = None,
                 fleet_watcher: bool = True) -> None:
        if not isinstance(channel, AnnouncementChannel):
            raise TypeError(f"channel must be an AnnouncementChannel, got {channel!r}")
        if fleet_watcher.__class__ is not bool:
            raise TypeError(f"fleet_watcher must be True or False, got {fleet_watcher!r}")
        self.channel = channel
        self.primary = primary_id(url)
        self.sender = new_sender() if sender is None else sender
        self.wall = wall
        self.fleet_watcher = fleet_watcher
        self._seq = 0  # the latest commit hint's number
        self._lock = threading.Lock()  # numbers go out in order

    @property
    def seq(self) -> int:
        """The number of this process's latest commit hint (0: none yet)."""
        return self._seq

    def commit(self, commit_unix: float | None, revision: int | None = None) -> None:
        """Announce a commit that landed at ``commit_unix`` at the earliest (Unix s, ``None``:
        unknown), numbered after the previous one. Never waits on the network."""
        with self._lock:  # publish only queues: numbering and queueing stay in one order
            self._seq += 1
            self.channel.publish(Hint(self.primary, commit_unix, revision, self.sender,
                                      "commit", self._seq))

    def heartbeat(self) -> None:
        """Say this watcher is alive, naming its latest hint's number (never waits on the
        network)."""
        with self._lock:
            self.channel.publish(Hint(self.primary, None, None, self.sender, "heartbeat",
                                      self._seq))

    def subscribe(self, on_hint: OnHint, on_state: OnState) -> Subscription:
        """Hear the primary's hints, except this process's own."""
        def others(hint: Hint) -> None:
            if hint.sender != self.sender:
                on_hint(hint)

        return self.channel.subscribe(self.primary, others, on_state)

    def __repr__(self) -> str:
        watcher = "" if self.fleet_watcher else ", no watcher"
        return f"Announcer({self.channel!r}, primary={self.primary}{watcher})"
