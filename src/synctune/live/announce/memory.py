"""The in-process announcement channel: several replicas in one process, and tests.

Each subscription has its own delivery thread and a bounded queue, as a network channel would:
``publish`` returns at once, and a slow subscriber never holds up the publisher nor the others.
``lose`` drops a share of hints and :meth:`InProcessChannel.outage` takes the channel down and
back, to exercise the failure paths.
"""

from __future__ import annotations

import queue
import random
import threading

from synctune.live.announce.channel import (
    AnnouncementChannel,
    OnHint,
    OnState,
    Subscription,
    _safely,
)
from synctune.live.announce.hint import Hint

#: messages a subscriber may have waiting before new ones are dropped
QUEUE_SIZE = 1024


class _Sub(Subscription):
    def __init__(self, channel: InProcessChannel, primary: str, on_hint: OnHint,
                 on_state: OnState) -> None:
        self.primary, self._on_hint, self._on_state = primary, on_hint, on_state
        self._channel = channel
        self.queue: queue.Queue[bytes | bool | None] = queue.Queue(QUEUE_SIZE)
        self._up = False
        self._thread = threading.Thread(target=self._run, name="synctune-announce-sub",
                                        daemon=True)
        self._thread.start()

    @property
    def up(self) -> bool:
        return self._up

    def offer(self, item: bytes | bool) -> None:
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            self._channel.stats.add("publish_dropped")

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if isinstance(item, bool):
                self._up = item
                _safely(self._on_state, item)
            else:
                self._channel.deliver(self.primary, item, self._on_hint)

    def close(self) -> None:
        self._channel._drop(self)
        self.queue.put(None)  # the thread ends after what is queued; nobody waits for it


class InProcessChannel(AnnouncementChannel):
    """Hints between threads of one process.

    Args:
        lose: share of published hints dropped at random (0..1), per subscriber.
        rng: the random source for ``lose``.
    """

    def __init__(self, lose: float = 0.0, rng: random.Random | None = None) -> None:
        super().__init__()
        if not 0.0 <= lose <= 1.0:
            raise ValueError(f"lose must be in [0, 1], got {lose!r}")
        self._lose, self._rng = lose, rng or random.Random()
        self._subs: list[_Sub] = []
        self._lock = threading.Lock()
        self._down = False

    def publish(self, hint: Hint) -> None:
        self.inject(hint.primary, hint.encode())
        self.stats.add("published")

    def inject(self, primary: str, message: bytes) -> None:
        """Put raw bytes on ``primary``'s channel, as anyone able to publish could."""
        with self._lock:
            subs = [] if self._down else [s for s in self._subs if s.primary == primary]
        for sub in subs:
            if self._lose and self._rng.random() < self._lose:
                self.stats.add("publish_dropped")
                continue
            sub.offer(message)

    def subscribe(self, primary: str, on_hint: OnHint, on_state: OnState) -> Subscription:
        sub = _Sub(self, primary, on_hint, on_state)
        with self._lock:
            self._subs.append(sub)
            if not self._down:
                sub.offer(True)
        return sub

    def outage(self, down: bool) -> None:
        """Take the channel down (subscribers told ``False``, hints dropped) or bring it back
        (subscribers told ``True``, a reconnect)."""
        with self._lock:
            if down == self._down:
                return
            self._down = down
            subs = list(self._subs)
        if not down:
            self.stats.add("reconnects", len(subs))
        for sub in subs:
            sub.offer(not down)

    def _drop(self, sub: _Sub) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def close(self) -> None:
        with self._lock:
            subs, self._subs = self._subs, []
        for sub in subs:
            sub.queue.put(None)

    def __repr__(self) -> str:
        return f"InProcessChannel(lose={self._lose:g})"
