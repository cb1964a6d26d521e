"""Commit announcements with the in-process channel and FakeReplica: the wire format, what a
controller announces and hears, floods, junk and outages (fast; the Redis and real-server tests
run the same paths for real in test_announce_redis.py)."""

from __future__ import annotations

import json
import logging
import time

import pytest
from announce_support import URL, Beats, Heard, pulls
from hypothesis import given, settings
from hypothesis import strategies as st
from live_support import wait_for

from synctune.live import SyncController
from synctune.live.announce import Announcer, Hint, HintError, InProcessChannel, decode, primary_id
from synctune.live.announce.redis_channel import RedisChannel
from synctune.live.replica.fake import FakeReplica
from synctune.policy import Announced, Manual, OnWrite, Watcher

D = 2.0


@given(st.binary(max_size=600) | st.text(max_size=300).map(str.encode))
@settings(max_examples=300, deadline=None)
def test_decode_gives_a_hint_or_a_hint_error_never_anything_else(data):
    try:
        hint = decode(data)
    except HintError:
        return
    assert isinstance(hint, Hint)


@given(st.one_of(st.none(), st.floats(1e9, 1e10)), st.one_of(st.none(), st.integers(0, 2**40)),
       st.sampled_from(["commit", "heartbeat"]), st.from_regex(r"[a-z0-9]{1,64}", fullmatch=True))
def test_a_hint_survives_the_wire(commit, revision, kind, sender):
    hint = Hint(primary_id(URL), commit, revision, sender, kind)
    assert decode(hint.encode()) == hint


@pytest.mark.parametrize("bad", [
    {"commit_unix": "1700000000"}, {"commit_unix": True}, {"commit_unix": float("nan")},
    {"commit_unix": 5.0}, {"revision": -1}, {"revision": 1.5}, {"kind": "rows"},
    {"sender": "a b"}, {"primary": "https://h/db"}, {"v": 2}, {"extra": 1}, {"sender": "x" * 65}])
def test_decode_refuses_what_is_not_exactly_a_hint(bad):
    good = json.loads(Hint(primary_id(URL), 1.7e9, None, "s1", "commit").encode())
    assert decode(json.dumps(good).encode()).commit_unix == 1.7e9
    with pytest.raises(HintError):
        decode(json.dumps({**good, **bad}, allow_nan=True).encode())


def test_the_primary_id_is_the_same_with_or_without_credentials_and_hides_them():
    secret = "https://user:pw-SECRET@db.example:8080/x?authToken=tok-SECRET"
    assert primary_id(secret) == primary_id("https://db.example:8080/x") == \
        primary_id("HTTPS://DB.example:8080/x/")
    assert primary_id(secret) != primary_id("https://db.example:8080/y")
    wire = Hint(primary_id(secret), None, None, "s", "commit").encode()
    assert b"SECRET" not in wire and b"example" not in wire


def _pair(channel: InProcessChannel, **announced):
    writer_fake, reader_fake = FakeReplica(), FakeReplica()
    writer = SyncController(writer_fake, OnWrite(coalesce=0.0), check_every=0.05,
                            announcer=Announcer(channel, URL))
    reader = SyncController(reader_fake, Announced(D, min_interval=0.1, **announced),
                            check_every=0.05, announcer=Announcer(channel, URL))
    return writer_fake, writer, reader_fake, reader


def _live(reader: SyncController) -> bool:
    snap = reader.announcements()
    return snap is not None and not snap.fallback_active


def test_a_pushed_commit_is_announced_and_a_reader_pulls_it_once_within_d():
    channel = InProcessChannel()
    writer_fake, writer, reader_fake, reader = _pair(channel)
    beats = Beats(Announcer(channel, URL))
    with writer, reader:
        reader.notify_read()
        assert wait_for(lambda: _live(reader), 3)
        assert wait_for(lambda: len(pulls(reader_fake)) >= 1, 3)  # the catch-up on connect
        time.sleep(0.3)
        before = len(pulls(reader_fake))
        writer_fake.commit(1)
        writer.notify_write(1)
        # the push lands after notify_write returns and the pull is due D after the push,
        # so the wait needs room beyond D for the writer's own scheduling
        assert wait_for(lambda: len(pulls(reader_fake)) > before, D + 2.0)
        pulled = pulls(reader_fake)[before]
        time.sleep(0.5)
        assert len(pulls(reader_fake)) == before + 1  # one pull for the commit, no more
        # the commit landed at the primary in the writer's push: the reader pulls as it turns
        # D old (the fake's pulls take no time, so it learns no lead), a scheduling slack late
        # (check_every 0.05 s plus thread wake-ups on a loaded machine)
        pushed = [c.began for c in writer_fake.calls if c.op == "push"][-1]
        assert D - 0.1 <= pulled - pushed <= D + 0.5
        assert reader.announcements().hints.get("commit") == 1
        assert writer.announcements().hints.get("commit", 0) == 0  # its own is not heard
    beats.close()
    channel.close()


def test_junk_and_a_flood_of_forged_hints_cost_at_most_one_pull_per_min_interval(caplog):
    channel = InProcessChannel()
    _, _, reader_fake, reader = _pair(channel)
    beats = Beats(Announcer(channel, URL))
    forger = Announcer(channel, URL)
    with reader, caplog.at_level(logging.WARNING):
        reader.notify_read()
        assert wait_for(lambda: _live(reader), 3)
        before, began = len(pulls(reader_fake)), time.monotonic()
        for i in range(3000):
            channel.inject(forger.primary, b"\xff not a hint" if i % 2 else b'{"v":1}')
            # "already D old": such a commit counts from the replica's last pull (it cannot
            # be older than what the replica holds), so it is due within D of that pull
            forger.commit(time.time() - 1000.0)
            if i % 300 == 0:
                reader.notify_read()
                time.sleep(0.05)
        assert wait_for(lambda: len(pulls(reader_fake)) > before, D + 1.0)
        time.sleep(0.3)
        spent = time.monotonic() - began
        flood = len(pulls(reader_fake)) - before
        assert 1 <= flood <= spent / 0.1 + 2
        assert channel.stats.junk == 3000
        assert reader.status().reason != "not started"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    beats.close()
    channel.close()


def test_an_outage_falls_back_at_once_and_the_return_pulls_once():
    channel = InProcessChannel()
    _, _, reader_fake, reader = _pair(channel)
    beats = Beats(Announcer(channel, URL))
    with reader:
        reader.notify_read()
        assert wait_for(lambda: _live(reader), 3)
        channel.outage(True)
        # at once: the channel's own down event, not a timeout (2 s leaves room for load)
        assert wait_for(lambda: reader.announcements().fallback_active, 2.0)
        assert not reader.announcements().channel_up
        time.sleep(0.3)
        before = len(pulls(reader_fake))
        channel.outage(False)
        assert wait_for(lambda: _live(reader), 2)
        assert wait_for(lambda: len(pulls(reader_fake)) > before, 2)  # the catch-up pull
    beats.close()
    channel.close()


def test_a_silent_watcher_means_fallback_even_with_the_channel_up():
    channel = InProcessChannel()
    _, _, _, reader = _pair(channel, heartbeat_timeout=0.5)
    beats = Beats(Announcer(channel, URL))
    with reader:
        assert wait_for(lambda: _live(reader), 3)
        beats.close()
        assert wait_for(lambda: reader.announcements().fallback_active, 2)
        assert reader.announcements().channel_up
    channel.close()


def test_a_watcher_announces_each_pull_that_found_changes_and_beats():
    channel = InProcessChannel()
    heard = Heard()
    sub = Announcer(channel, URL).subscribe(heard.on_hint, heard.on_state)
    fake = FakeReplica()
    watcher = SyncController(fake, Watcher(D, min_interval=0.1), check_every=0.05,
                             announcer=Announcer(channel, URL), watcher_heartbeat=0.1)
    with watcher:
        assert wait_for(lambda: len(pulls(fake)) >= 2, 5)
        assert heard.commits() == []  # nothing found, nothing announced
        landed = time.time()
        fake.remote_commit(1)
        assert wait_for(lambda: heard.commits(), 3)
        hint = heard.commits()[0]
        # the earliest it can have landed: the previous pull's start, before the commit
        assert hint.commit_unix is not None and hint.commit_unix <= landed
        assert landed - hint.commit_unix <= D
        assert wait_for(lambda: sum(h.kind == "heartbeat" for _, h in heard.hints) >= 3, 2)
    sub.close()
    channel.close()


class _Delegating(FakeReplica):
    @property
    def writes_delegated(self) -> bool:
        return True


def test_a_delegated_write_is_announced_without_a_request_to_the_primary():
    channel = InProcessChannel()
    heard = Heard()
    sub = Announcer(channel, URL).subscribe(heard.on_hint, heard.on_state)
    fake = _Delegating()
    with SyncController(fake, Manual(), announcer=Announcer(channel, URL)) as ctl:
        calls = len(fake.calls)
        before = time.time()
        ctl.notify_write(1)
        assert wait_for(lambda: heard.commits(), 2)
        assert heard.commits()[0].commit_unix >= before - 0.01
        assert len(fake.calls) == calls
    sub.close()
    channel.close()


def test_a_redis_channel_never_shows_its_credentials_nor_waits_on_a_dead_server(caplog):
    url = "redis://user:pw-SECRET@127.0.0.1:1/0"
    channel = RedisChannel(url, timeout=0.2)
    assert "SECRET" not in repr(channel) and "127.0.0.1:1" in repr(channel)
    heard = Heard()
    with caplog.at_level(logging.DEBUG, logger="synctune"):
        began = time.monotonic()
        for _ in range(100):
            channel.publish(Hint(primary_id(URL), None, None, "s", "commit"))
        assert time.monotonic() - began < 0.1
        sub = channel.subscribe(primary_id(URL), heard.on_hint, heard.on_state)
        assert wait_for(lambda: channel.stats.publish_dropped >= 1, 3)
        time.sleep(0.3)
        sub.close()
        channel.close()
    assert heard.states == [] and not sub.up
    assert all("SECRET" not in r.getMessage() for r in caplog.records)
    with pytest.raises(ValueError, match="redis://") as err:
        RedisChannel("http://user:pw-SECRET@h/")
    assert "SECRET" not in str(err.value)


def test_the_async_controller_hears_announcements_too():
    import asyncio

    from synctune.live.control.async_controller import AsyncSyncController

    channel = InProcessChannel()
    beats = Beats(Announcer(channel, URL))

    async def run() -> bool:
        ctl = AsyncSyncController(FakeReplica(), Announced(D), announcer=Announcer(channel, URL))
        async with ctl:
            for _ in range(100):
                snap = ctl.announcements()
                if snap is not None and not snap.fallback_active and snap.hints:
                    return True
                await asyncio.sleep(0.02)
        return False

    assert asyncio.run(run())
    beats.close()
    channel.close()


def test_a_watcher_that_cannot_pull_sends_no_heartbeat():
    from synctune.live.replica.fake import Step
    from synctune.policy import FailureKind

    channel = InProcessChannel()
    heard = Heard()
    sub = Announcer(channel, URL).subscribe(heard.on_hint, heard.on_state)
    fake = FakeReplica()
    watcher = SyncController(fake, Watcher(D, min_interval=0.1), check_every=0.05,
                             announcer=Announcer(channel, URL), watcher_heartbeat=0.05)
    with watcher:
        assert wait_for(lambda: len(heard.hints) >= 2, 3)  # pulling: beating
        fake.script("pull", *[Step(fail=FailureKind.NETWORK)] * 1000)
        assert wait_for(lambda: watcher.history and not watcher.history[-1].ok, 5)
        time.sleep(0.1)
        before = len(heard.hints)
        time.sleep(0.5)
        assert len(heard.hints) == before  # silent: the replicas fall back
    sub.close()
    channel.close()


def test_a_silent_watcher_shows_as_fallback_at_once_without_any_other_event():
    # a replica that serves no reads and whose fallback has nothing due sees no event after the
    # heartbeats stop: its metrics must still say "fallback" once the timeout has passed
    channel = InProcessChannel()
    reader_fake = FakeReplica()
    reader = SyncController(reader_fake, Announced(D, fallback=Manual(), heartbeat_timeout=0.5),
                            check_every=0.05, announcer=Announcer(channel, URL))
    beats = Beats(Announcer(channel, URL))
    with reader:
        assert wait_for(lambda: _live(reader), 3)
        beats.close()
        assert wait_for(lambda: reader.announcements().fallback_active, 3.0)
    channel.close()
