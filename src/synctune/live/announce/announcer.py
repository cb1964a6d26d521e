"""One process's end of the channel for one primary: what it sends, and what it hears from
others."""

from __future__ import annotations

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
        sender: this process's id on the wire (random by default).
    """

    def __init__(self, channel: AnnouncementChannel, url: str, *,
                 wall: Callable[[], float] = time.time, sender: str | None = None) -> None:
        if not isinstance(channel, AnnouncementChannel):
            raise TypeError(f"channel must be an AnnouncementChannel, got {channel!r}")
        self.channel = channel
        self.primary = primary_id(url)
        self.sender = new_sender() if sender is None else sender
        self.wall = wall

    def commit(self, commit_unix: float | None, revision: int | None = None) -> None:
        """Announce a commit that landed at ``commit_unix`` at the earliest (Unix s, ``None``:
        unknown). Never waits on the network."""
        self.channel.publish(Hint(self.primary, commit_unix, revision, self.sender, "commit"))

    def heartbeat(self) -> None:
        """Say this watcher is alive (never waits on the network)."""
        self.channel.publish(Hint(self.primary, None, None, self.sender, "heartbeat"))

    def subscribe(self, on_hint: OnHint, on_state: OnState) -> Subscription:
        """Hear the primary's hints, except this process's own."""
        def others(hint: Hint) -> None:
            if hint.sender != self.sender:
                on_hint(hint)

        return self.channel.subscribe(self.primary, others, on_state)

    def __repr__(self) -> str:
        return f"Announcer({self.channel!r}, primary={self.primary})"
