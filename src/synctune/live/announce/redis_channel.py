"""Announcements over Redis pub/sub (needs the ``redis`` extra): one channel per primary,
``synctune:announce:<primary id>``.

Nothing the app calls waits on Redis. :meth:`RedisChannel.publish` puts the hint on a bounded
queue and returns; a publisher thread sends it, every socket operation bounded by
``timeout`` seconds, and drops (counts) what it cannot send. Each subscription reads on a
thread of its own, pings the server every ``ping_every`` seconds and takes a connection that
stays silent past ``dead_after`` seconds as lost (a hung connection or proxy looks exactly like
a quiet channel otherwise); it reconnects with a capped backoff and reports every (re)connect.
Credentials and TLS come through the URL (``rediss://user:password@host:port/0``); the URL
is shown only without them (:func:`~synctune.live.replica.urls.safe_url`), and error messages are
logged with the password removed.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from synctune.live.announce.channel import (
    AnnouncementChannel,
    OnHint,
    OnState,
    Subscription,
    _safely,
)
from synctune.live.announce.hint import Hint
from synctune.live.replica.urls import redact, safe_url

log = logging.getLogger("synctune.live.announce")

SCHEMES = ("redis", "rediss", "unix")
#: hints waiting to be published before new ones are dropped
QUEUE_SIZE = 1000
#: first and longest pause (s) before reconnecting or publishing again after a failure
BACKOFF = (0.1, 2.0)


def channel_name(primary: str) -> str:
    """The Redis channel of one primary's hints."""
    return f"synctune:announce:{primary}"


class RedisChannel(AnnouncementChannel):
    """Redis pub/sub announcements.

    Args:
        url: ``redis://``, ``rediss://`` (TLS) or ``unix://``, credentials included.
        timeout: seconds any one socket operation (connect, send, read) may take.
        ping_every: seconds between a subscriber's pings.
        dead_after: seconds of silence (no message, no pong) after which a subscriber's
            connection is taken as lost.
    """

    def __init__(self, url: str, *, timeout: float = 2.0, ping_every: float = 1.0,
                 dead_after: float = 3.0) -> None:
        super().__init__()
        try:
            import redis  # noqa: F401
        except ImportError:
            raise ImportError("announcements over Redis need the redis extra: "
                              "pip install 'synctune[redis]'") from None
        scheme = url.partition("://")[0].lower() if "://" in url else ""
        if scheme not in SCHEMES:
            raise ValueError(f"announce URL must start with redis://, rediss:// or unix://, "
                             f"got {safe_url(url)!r}")
        for name, value in (("timeout", timeout), ("ping_every", ping_every),
                            ("dead_after", dead_after)):
            if not value > 0:
                raise ValueError(f"{name} must be > 0 s, got {value!r}")
        self._url, self._timeout = url, timeout
        self._ping_every, self._dead_after = ping_every, max(dead_after, ping_every)
        parts = urlsplit(url)
        self._secrets = (parts.password, parts.username)
        self._queue: queue.Queue[Hint | None] = queue.Queue(QUEUE_SIZE)
        self._publisher: threading.Thread | None = None
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._subs: list[_RedisSub] = []

    def client(self) -> Any:
        """A new client on its own connection, every socket operation bounded."""
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return redis.Redis.from_url(self._url, socket_timeout=self._timeout,
                                    socket_connect_timeout=self._timeout,
                                    retry=Retry(NoBackoff(), 0), health_check_interval=0)

    def shown(self, exc: BaseException) -> str:
        """An exception fit to log: its type and message, credentials removed."""
        return f"{type(exc).__name__}: {redact(str(exc)[:200], *self._secrets)}"

    # ----------------------------------------------------------------- publish
    def publish(self, hint: Hint) -> None:
        if self._closed.is_set():
            self.stats.add("publish_dropped")
            return
        try:
            self._queue.put_nowait(hint)
        except queue.Full:
            self.stats.add("publish_dropped")
            return
        if self._publisher is None:
            with self._lock:
                if self._publisher is None:
                    self._publisher = threading.Thread(
                        target=self._publish_loop, name="synctune-announce-pub", daemon=True)
                    self._publisher.start()

    def _publish_loop(self) -> None:
        client, pause, failing = None, BACKOFF[0], False
        while (hint := self._queue.get()) is not None:
            try:
                client = client or self.client()
                client.publish(channel_name(hint.primary), hint.encode())
            except Exception as exc:
                self.stats.add("publish_dropped")
                if not failing:
                    log.warning("cannot publish announcements to %s (%s); dropping them until "
                                "it answers", self, self.shown(exc))
                _close(client)
                failing, client = True, None
                if self._closed.wait(pause):
                    break
                pause = min(pause * 2, BACKOFF[1])
                continue
            if failing:
                log.info("publishing announcements to %s again", self)
            self.stats.add("published")
            failing, pause = False, BACKOFF[0]
        _close(client)

    # --------------------------------------------------------------- subscribe
    def subscribe(self, primary: str, on_hint: OnHint, on_state: OnState) -> Subscription:
        sub = _RedisSub(self, primary, on_hint, on_state)
        with self._lock:
            self._subs.append(sub)
        return sub

    @property
    def ping_every(self) -> float:
        return self._ping_every

    @property
    def dead_after(self) -> float:
        return self._dead_after

    def close(self) -> None:
        """Stop the publisher and every subscription (returns within about a second)."""
        self._closed.set()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)
        with self._lock:
            subs, self._subs = self._subs, []
        for sub in subs:
            sub.close()
        if self._publisher is not None:
            self._publisher.join(0.5)

    def __repr__(self) -> str:
        return f"RedisChannel({safe_url(self._url)!r})"


def _close(client: Any) -> None:
    """Close a client or pub/sub connection, ignoring errors (``None``: nothing)."""
    if client is not None:
        # closing a broken connection may fail; nothing to do about it
        with contextlib.suppress(Exception):
            client.close()


class _RedisSub(Subscription):
    def __init__(self, channel: RedisChannel, primary: str, on_hint: OnHint,
                 on_state: OnState) -> None:
        self._channel, self._primary = channel, primary
        self._on_hint, self._on_state = on_hint, on_state
        self._closed = threading.Event()
        self._up = False
        self._logged = False
        self._ever = False  # connected at least once (later connects are reconnects)
        self._heard = -float("inf")  # monotonic time of the latest read (message or pong)
        self._thread = threading.Thread(target=self._run, name="synctune-announce-sub",
                                        daemon=True)
        self._thread.start()

    @property
    def up(self) -> bool:
        return self._up

    @property
    def alive(self) -> bool:
        # a thread stuck past its socket timeout must not look alive: the last read counts
        return self._up and time.monotonic() - self._heard <= self._channel.dead_after

    def close(self) -> None:
        self._closed.set()  # the thread ends within a read's timeout; nobody waits for it

    def _set(self, up: bool) -> None:
        if up:
            self._logged = False  # the next loss is news again
        if up != self._up:
            self._up = up
            _safely(self._on_state, up)

    def _run(self) -> None:
        pause, self._logged = BACKOFF[0], False
        while not self._closed.is_set():
            client = pubsub = None
            try:
                client = self._channel.client()
                pubsub = client.pubsub()
                pubsub.subscribe(channel_name(self._primary))
                self._listen(pubsub)
            except Exception as exc:
                if not self._logged:  # once per outage, not once per attempt
                    log.warning("announcement channel %s lost (%s); reconnecting",
                                self._channel, self._channel.shown(exc))
                    self._logged = True
            finally:
                was_up = self._up
                self._set(False)
                for thing in (pubsub, client):
                    _close(thing)
            if was_up:
                pause = BACKOFF[0]
            if self._closed.wait(pause):
                return
            pause = min(pause * 2, BACKOFF[1])

    def _listen(self, pubsub: Any) -> None:
        """Read until the subscription closes or the connection fails or falls silent."""
        every, dead = self._channel.ping_every, self._channel.dead_after
        heard = pinged = self._heard = time.monotonic()
        while not self._closed.is_set():
            now = time.monotonic()
            if now - heard > dead:
                raise TimeoutError(f"no message nor pong for {dead:g} s")
            if now - pinged >= every:
                pubsub.ping()
                pinged = now
            message = pubsub.get_message(timeout=min(0.25, every))
            if message is None:
                continue
            heard = self._heard = time.monotonic()
            kind = message.get("type")
            if kind == "subscribe":
                if not self._up and self._ever:
                    self._channel.stats.add("reconnects")
                self._ever = True
                self._set(True)
            elif kind == "message":
                self._channel.deliver(self._primary, message.get("data", b""), self._on_hint)
