"""Lost hints noticed at the sender's next message (numbered hints), and a fleet without a
watcher that stays off its fallback on the channel's own liveness (fast: the in-process
channel; the same over real Redis in test_announce_redis.py)."""

from __future__ import annotations

import json
import random
import time

import pytest
from announce_support import URL, Beats, Heard, pulls
from hypothesis import given, settings
from hypothesis import strategies as st
from live_support import wait_for

from synctune.live import SyncController
from synctune.live.announce import Announcer, Hint, HintError, InProcessChannel, decode, primary_id
from synctune.live.announce.gaps import GapDetector
from synctune.live.control import announce_link as link_module
from synctune.live.replica.fake import FakeReplica
from synctune.policy import Announced, OnWrite

D = 2.0
PRIMARY = primary_id(URL)


def _hint(seq: int | None, kind: str = "commit", sender: str = "s1") -> Hint:
    return Hint(PRIMARY, None if kind == "heartbeat" else 1.7e9, None, sender, kind, seq)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the wire
def test_a_numbered_hint_survives_the_wire_and_an_unnumbered_one_is_still_a_hint():
    assert decode(_hint(7).encode()).seq == 7
    assert decode(_hint(0, "heartbeat").encode()) == _hint(0, "heartbeat")
    old = {"v": 1, "primary": PRIMARY, "commit_unix": 1.7e9, "revision": None,
           "sender": "old", "kind": "commit"}
    assert decode(json.dumps(old).encode()).seq is None
    assert b"seq" not in _hint(None).encode()


@pytest.mark.parametrize("bad", [-1, True, 1.5, "3", 2**53 + 1, [1]])
def test_decode_refuses_a_sequence_number_that_is_not_one(bad):
    wire = json.loads(_hint(1).encode())
    with pytest.raises(HintError, match="seq"):
        decode(json.dumps({**wire, "seq": bad}).encode())


def test_an_announcer_numbers_its_hints_and_heartbeats_name_the_latest():
    channel = InProcessChannel()
    heard = Heard()
    sub = Announcer(channel, URL).subscribe(heard.on_hint, heard.on_state)
    first, second = Announcer(channel, URL), Announcer(channel, URL)
    first.heartbeat()
    first.commit(time.time())
    first.commit(None)
    first.heartbeat()
    second.commit(time.time())  # another process (or a restart): its own numbers, from 1
    assert wait_for(lambda: len(heard.hints) == 5, 2)
    got = [(h.sender == first.sender, h.kind, h.seq) for _, h in heard.hints]
    assert got == [(True, "heartbeat", 0), (True, "commit", 1), (True, "commit", 2),
                   (True, "heartbeat", 2), (False, "commit", 1)]
    assert first.sender != second.sender
    sub.close()
    channel.close()


# ------------------------------------------------------------ the detector
_SENT = st.lists(st.sampled_from(["commit", "heartbeat"]), max_size=40)


def _numbered(kinds: list[str]) -> list[Hint]:
    out, seq = [], 0
    for kind in kinds:
        seq += kind == "commit"
        out.append(_hint(seq, kind))
    return out


@given(_SENT, st.data())
@settings(max_examples=300, deadline=None)
def test_a_loss_is_found_iff_a_later_message_shows_a_number_skipped(kinds, data):
    sent = _numbered(kinds)
    copies = data.draw(st.lists(st.integers(0, 2), min_size=len(sent), max_size=len(sent)))
    delivered = [h for h, n in zip(sent, copies, strict=True) for _ in range(n)]
    gaps, now = GapDetector(), 0.0
    for hint in delivered:
        gaps.heard(hint, now)
        now += 0.01
    found = gaps.lost(now + 1.0)
    got = {h.seq for h in delivered if h.kind == "commit"}
    named = max((h.seq - (h.kind == "commit") for h in delivered), default=0)
    missed = [k for k in range(1, named + 1) if k not in got]
    assert (found > 0) == bool(missed)
    assert found <= len(missed)
    assert gaps.lost(now + 2.0) == 0  # each counted once


@given(st.integers(2, 40), st.data())
@settings(max_examples=200, deadline=None)
def test_duplicates_and_reordering_within_the_grace_are_not_losses(n, data):
    order = list(range(1, n + 1))
    for i in data.draw(st.lists(st.integers(0, max(0, n - 2)), max_size=20)):
        order[i], order[i + 1] = order[i + 1], order[i]  # overtaken by its neighbour
    order += data.draw(st.lists(st.sampled_from(order), max_size=10))  # doubled, late
    gaps = GapDetector(grace=0.25)
    for seq in order:
        gaps.heard(_hint(seq), 0.0)
    gaps.heard(_hint(n, "heartbeat"), 0.1)
    assert gaps.lost(10.0) == 0


def test_a_number_that_stays_missing_past_the_grace_is_lost_once():
    gaps = GapDetector(grace=0.25)
    gaps.heard(_hint(1), 0.0)
    gaps.heard(_hint(3), 1.0)
    assert gaps.next_deadline == 1.25
    assert gaps.lost(1.2) == 0
    assert gaps.lost(1.25) == 1
    assert gaps.lost(9.0) == 0 and gaps.next_deadline is None
    gaps.heard(_hint(3, "heartbeat"), 10.0)
    gaps.heard(_hint(5, "heartbeat"), 11.0)  # hints 4 and 5 never came
    assert gaps.lost(12.0) == 2


def test_a_forged_huge_number_costs_one_loss_and_blinds_nobody():
    gaps = GapDetector()
    for seq in (1, 2, 3):
        gaps.heard(_hint(seq), 0.0)
    gaps.heard(_hint(2**53), 1.0)  # forged with the real sender's id
    assert gaps.lost(1.0) == 1  # no reordering explains a jump past the window: at once
    gaps.heard(_hint(4), 2.0)  # the real sender goes on: far behind, the count starts again
    gaps.heard(_hint(5), 2.1)
    assert gaps.lost(5.0) == 0
    gaps.heard(_hint(7), 6.0)  # and its next loss is seen
    assert gaps.lost(7.0) == 1


def test_memory_is_bounded_whoever_publishes():
    gaps = GapDetector(max_senders=100, forget_after=60.0, max_missing=50)
    for i in range(10_000):
        gaps.heard(_hint(40, sender=f"forger{i}"), i * 0.001)
    assert len(gaps) == 100
    assert len(gaps._missing) <= 50
    assert gaps.lost(20.0) > 0
    gaps.heard(_hint(1, sender="late"), 100.0)
    assert len(gaps) == 1  # the others, silent for 60 s, forgotten


def test_after_a_reconnect_each_sender_goes_on_from_its_next_number():
    gaps = GapDetector()
    gaps.heard(_hint(1), 0.0)
    gaps.heard(_hint(3), 0.1)  # 2 missing...
    gaps.resync()  # ...but the reconnect's pull covers what was sent while down
    gaps.heard(_hint(9), 0.2)
    gaps.heard(_hint(10), 0.3)
    assert gaps.lost(5.0) == 0
    gaps.heard(_hint(12), 6.0)
    assert gaps.lost(7.0) == 1


# ------------------------------------------ a controller hearing lost hints
class _Switch(random.Random):
    """The in-process channel's loss switch: drops every message while ``drop`` is set."""

    drop = False

    def random(self) -> float:
        return 0.0 if self.drop else 1.0


def _reader(channel: InProcessChannel, **kwargs: object) -> tuple[FakeReplica, SyncController]:
    fake = FakeReplica()
    fleet_watcher = bool(kwargs.pop("fleet_watcher", True))
    ctl = SyncController(fake, Announced(D, min_interval=0.1, **kwargs),  # type: ignore[arg-type]
                         check_every=0.05,
                         announcer=Announcer(channel, URL, fleet_watcher=fleet_watcher))
    return fake, ctl


def _settled(fake: FakeReplica, quiet: float = 0.3) -> int:
    """The pull count once no pull came for ``quiet`` s."""
    while True:
        before = len(pulls(fake))
        time.sleep(quiet)
        if len(pulls(fake)) == before:
            return before


def test_a_watcher_hint_lost_is_noticed_at_its_next_heartbeat_and_makes_one_pull():
    switch = _Switch()
    channel = InProcessChannel(lose=1.0, rng=switch)
    watcher = Announcer(channel, URL)
    fake, reader = _reader(channel)
    with reader:
        reader.notify_read()
        watcher.heartbeat()
        assert wait_for(lambda: not reader.announcements().fallback_active, 3)
        before = _settled(fake)
        switch.drop = True
        watcher.commit(time.time())  # lost on the way
        switch.drop = False
        beats = Beats(watcher, every=0.2)  # its next heartbeat names hint 1
        reader.notify_read()
        assert wait_for(lambda: len(pulls(fake)) > before, D + 1.0)
        time.sleep(0.5)
        assert len(pulls(fake)) == before + 1
        assert reader.announcements().lost == 1
        beats.close()
    channel.close()


def test_a_member_hint_lost_is_noticed_at_its_next_hint_which_then_pulls_at_once():
    switch = _Switch()
    channel = InProcessChannel(lose=1.0, rng=switch)
    writer_fake = FakeReplica()
    writer = SyncController(writer_fake, OnWrite(coalesce=0.0), check_every=0.05,
                            announcer=Announcer(channel, URL))
    fake, reader = _reader(channel, heartbeat_timeout=60.0)
    beats = Beats(Announcer(channel, URL))
    with writer, reader:
        reader.notify_read()
        assert wait_for(lambda: not reader.announcements().fallback_active, 3)
        switch.drop = True
        writer_fake.commit(1)
        writer.notify_write(1)  # its push's hint is lost
        assert wait_for(lambda: writer_fake.primary, 2)
        time.sleep(0.2)
        switch.drop = False
        time.sleep(D)  # the reader's last pull is D old: what it misses must come now
        before = _settled(fake, 0.2)
        writer_fake.commit(1)
        sent = time.monotonic()
        writer.notify_write(1)  # the next hint shows number 1 skipped
        reader.notify_read()
        assert wait_for(lambda: reader.announcements().lost == 1, 2)
        assert wait_for(lambda: len(pulls(fake)) > before, D - 0.5)
        # without the gap, the pull would wait for the new hint's commit to turn D old
        assert time.monotonic() - sent < D - 0.5
    beats.close()
    channel.close()


# ------------------------------------------------------ a fleet without a watcher
def test_without_a_watcher_the_channel_alone_keeps_the_replica_off_its_fallback(monkeypatch):
    monkeypatch.setattr(link_module, "LIVENESS_EVERY", 0.1)
    channel = InProcessChannel()
    writer_fake = FakeReplica()
    writer = SyncController(writer_fake, OnWrite(coalesce=0.0), check_every=0.05,
                            announcer=Announcer(channel, URL, fleet_watcher=False))
    fake, reader = _reader(channel, heartbeat_timeout=0.5, fleet_watcher=False)
    _, watched = _reader(channel, heartbeat_timeout=0.5)  # expects a watcher
    with writer, reader, watched:
        reader.notify_read()
        assert wait_for(lambda: not reader.announcements().fallback_active, 2)
        time.sleep(1.5)  # three heartbeat timeouts, no watcher
        assert not reader.announcements().fallback_active
        assert watched.announcements().fallback_active
        before = _settled(fake)
        writer_fake.commit(1)
        writer.notify_write(1)  # another member's push, announced
        assert wait_for(lambda: len(pulls(fake)) > before, D + 1.0)
        time.sleep(0.5)
        assert len(pulls(fake)) == before + 1
        channel.outage(True)  # the channel itself down: fallback at once, as with a watcher
        assert wait_for(lambda: reader.announcements().fallback_active, 2.0)
    channel.close()
