"""Announcements over a real, private redis-server (password set): the round trip, kill -9 and
restart, and a connection that hangs (a loopback proxy that stops forwarding)."""

from __future__ import annotations

import logging
import time

from announce_support import URL, HangingProxy, Heard, pulls
from live_support import wait_for

from synctune.live import SyncController
from synctune.live.announce import Announcer, Hint, primary_id
from synctune.live.announce.redis_channel import RedisChannel
from synctune.live.replica.fake import FakeReplica
from synctune.policy import Announced

PRIMARY = primary_id(URL)


def _hint(sender: str = "other") -> Hint:
    return Hint(PRIMARY, time.time(), 7, sender, "commit")


def test_hints_cross_redis_and_come_back_after_a_kill_9_and_a_restart(redis_server, caplog):
    channel = RedisChannel(redis_server.url, timeout=0.5, ping_every=0.2, dead_after=1.0)
    heard = Heard()
    with caplog.at_level(logging.DEBUG, logger="synctune"):
        sub = channel.subscribe(PRIMARY, heard.on_hint, heard.on_state)
        assert wait_for(lambda: sub.up, 5)
        channel.publish(_hint())
        assert wait_for(lambda: len(heard.commits()) == 1, 3)
        assert heard.commits()[0].revision == 7
        redis_server.kill()
        assert wait_for(lambda: not sub.up, 2.0)
        began = time.monotonic()
        for _ in range(50):
            channel.publish(_hint())  # lost: the channel is down
        assert time.monotonic() - began < 0.05
        redis_server.start()
        assert wait_for(lambda: sub.up, 5)
        assert [up for _, up in heard.states] == [True, False, True]
        channel.publish(_hint())
        assert wait_for(lambda: len(heard.commits()) >= 2, 3)
        sub.close()
        channel.close()
    assert channel.stats.junk == 0
    assert all("SECRET" not in r.getMessage() for r in caplog.records)
    assert any("lost" in r.getMessage() for r in caplog.records)


def test_a_wrong_password_is_a_channel_that_never_comes_up_and_says_so_without_it(
        redis_server, caplog):
    url = redis_server.url.replace("pw-SECRET-1", "wrong-SECRET-2")
    channel = RedisChannel(url, timeout=0.5)
    heard = Heard()
    with caplog.at_level(logging.WARNING, logger="synctune"):
        sub = channel.subscribe(PRIMARY, heard.on_hint, heard.on_state)
        time.sleep(1.0)
        sub.close()
        channel.close()
    assert heard.states == []
    text = " ".join(r.getMessage() for r in caplog.records)
    assert "lost" in text and "SECRET" not in text


def test_a_hung_redis_holds_no_app_call_and_the_replica_falls_back(redis_server):
    proxy = HangingProxy(redis_server.port)
    url = redis_server.url.replace(str(redis_server.port), str(proxy.port))
    channel = RedisChannel(url, timeout=0.5, ping_every=0.2, dead_after=1.0)
    beats = RedisChannel(redis_server.url)  # the watcher's heartbeats, straight to Redis
    fake = FakeReplica()
    ctl = SyncController(fake, Announced(5.0, min_interval=0.1, heartbeat_timeout=2.0),
                         check_every=0.05, announcer=Announcer(channel, URL))
    with ctl:
        ctl.notify_read()
        beat = Announcer(beats, URL)
        assert wait_for(lambda: (beat.heartbeat(), ctl.announcements().channel_up)[1], 5)
        beat.heartbeat()
        assert wait_for(lambda: not ctl.announcements().fallback_active, 3)
        proxy.hang()
        slowest = 0.0
        end = time.monotonic() + 3.0
        while time.monotonic() < end:  # the app goes on: commits, reads, status, metrics
            began = time.monotonic()
            fake.commit(1)
            ctl.notify_write(1)
            ctl.notify_read(1)
            ctl.status()
            ctl.announcements()
            slowest = max(slowest, time.monotonic() - began)
            beat.heartbeat()
            time.sleep(0.02)
        assert slowest < 0.05, slowest
        assert not ctl.announcements().channel_up
        assert ctl.announcements().fallback_active
        assert len(pulls(fake)) >= 1
        stopped = time.monotonic()
    assert time.monotonic() - stopped < 1.0  # stop() does not wait on the hung channel
    assert fake.primary == list(range(1, fake.local_changes + 1))  # every commit, once
    proxy.close()
    channel.close()
    beats.close()


def test_over_redis_a_fleet_without_a_watcher_stays_live_and_a_skipped_number_is_noticed(
        redis_server):
    channel = RedisChannel(redis_server.url, timeout=0.5, ping_every=0.2, dead_after=1.0)
    member = RedisChannel(redis_server.url)  # another fleet member's publishing end
    fake = FakeReplica()
    ctl = SyncController(fake, Announced(2.0, min_interval=0.1, heartbeat_timeout=2.0),
                         check_every=0.05,
                         announcer=Announcer(channel, URL, fleet_watcher=False))
    with ctl:
        ctl.notify_read()
        assert wait_for(lambda: not ctl.announcements().fallback_active, 5)
        time.sleep(3.0)  # past the heartbeat timeout, no watcher: the pongs keep it live
        assert not ctl.announcements().fallback_active
        before = len(pulls(fake))
        member.publish(Hint(PRIMARY, time.time(), None, "member", "commit", 1))
        assert wait_for(lambda: len(pulls(fake)) > before, 3.5)
        assert ctl.announcements().lost == 0
        member.publish(Hint(PRIMARY, time.time(), None, "member", "commit", 3))  # 2 lost
        assert wait_for(lambda: ctl.announcements().lost == 1, 2)
        redis_server.kill()  # the channel itself gone: fallback within dead_after
        assert wait_for(lambda: ctl.announcements().fallback_active, 2.5)
    channel.close()
    member.close()
