"""Commit announcements: data-free hints telling replicas when to pull.

* :mod:`~synctune.live.announce.hint` - the hint and its JSON wire format;
* :mod:`~synctune.live.announce.channel` - the seam: ``publish`` and ``subscribe``;
* :mod:`~synctune.live.announce.memory` - in-process (several replicas in one process, tests);
* :mod:`~synctune.live.announce.redis_channel` - Redis pub/sub, one channel per primary;
* :mod:`~synctune.live.announce.announcer` - one process's end for one primary (numbered hints);
* :mod:`~synctune.live.announce.gaps` - noticing a lost hint at its sender's next message;
* :mod:`~synctune.live.control.announce_link` - a controller's end: publish, hear, feed the
  strategy.
"""

from synctune.live.announce.announcer import Announcer
from synctune.live.announce.channel import AnnouncementChannel, ChannelStats, Subscription
from synctune.live.announce.hint import Hint, HintError, decode, primary_id
from synctune.live.announce.memory import InProcessChannel

__all__ = ["AnnouncementChannel", "Announcer", "ChannelStats", "Hint", "HintError",
           "InProcessChannel", "Subscription", "decode", "open_channel", "primary_id"]


def open_channel(url: str) -> AnnouncementChannel:
    """A channel from a URL: ``redis://``/``rediss://``/``unix://`` (Redis pub/sub) or
    ``memory://`` (this process only)."""
    if url.partition("://")[0].lower() == "memory":
        return InProcessChannel()
    from synctune.live.announce.redis_channel import RedisChannel

    return RedisChannel(url)
