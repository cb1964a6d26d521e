"""Noticing lost hints: each sender numbers its commit hints (1, 2, 3...) and each of its
heartbeats names its latest number, so a receiver that sees a number skipped, or a heartbeat
naming a number it never got, knows a hint may be lost.

A skipped number is *missing* for ``grace`` seconds (a hint overtaken by the next one arrives
within that; a duplicate is nothing), then *lost*: the caller tells the strategy "something may
have changed". A jump of more than ``window`` numbers is lost at once (no reordering explains
it), and so is everything missing beyond ``max_missing`` at a time.

Per sender the receiver keeps only the highest number accounted for and when it last heard from
it, for at most ``max_senders`` senders, forgetting those not heard for ``forget_after``
seconds (bounded memory whoever publishes). A number further than ``window`` behind the highest
starts the count again (a forged huge number must not blind the receiver to the real sender's
later losses); a forged jump ahead costs one "something may have changed", which the strategy
holds to one pull per ``min_interval``.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from synctune.live.announce.hint import Hint

#: how far (hint numbers) a sender's number may jump, or arrive behind its highest, and still
#: be explained by reordering
WINDOW = 64
#: seconds a skipped number may arrive late before it counts as lost
GRACE = 0.25
#: senders remembered at most (the least recently heard are forgotten first)
MAX_SENDERS = 4096
#: seconds of silence after which a sender is forgotten
FORGET_AFTER = 3600.0
#: skipped numbers awaited at most at once
MAX_MISSING = 4096
#: a sender's "highest" after a reconnect: take its next number as it comes
_RESYNC = -1


class GapDetector:
    """Per-sender hint numbers: :meth:`heard` takes each hint, :meth:`lost` counts those
    found lost.

    Args:
        window: numbers a sender may jump ahead, or arrive behind its highest, as reordering.
        grace: seconds (the caller's clock) a skipped number may arrive late.
        max_senders: senders remembered at most.
        forget_after: seconds without a message after which a sender is forgotten (its next
            message is then a first sight: the numbers before it count as skipped).
    """

    def __init__(self, window: int = WINDOW, grace: float = GRACE,
                 max_senders: int = MAX_SENDERS, forget_after: float = FORGET_AFTER,
                 max_missing: int = MAX_MISSING) -> None:
        for name, count in (("window", window), ("max_senders", max_senders),
                            ("max_missing", max_missing)):
            if count.__class__ is not int or count < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {count!r}")
        for name, seconds in (("grace", grace), ("forget_after", forget_after)):
            if not (isinstance(seconds, int | float) and 0 <= seconds < math.inf):
                raise ValueError(f"{name} must be >= 0 s, got {seconds!r}")
        self.window, self.grace, self.max_missing = window, grace, max_missing
        self.max_senders, self.forget_after = max_senders, forget_after
        # sender -> (highest number accounted for, last heard); least recently heard first
        self._senders: OrderedDict[str, tuple[int, float]] = OrderedDict()
        # (sender, number) skipped and not yet arrived -> when it counts as lost; by deadline
        self._missing: OrderedDict[tuple[str, int], float] = OrderedDict()
        self._lost_now = 0  # found lost at once, not yet counted by lost()

    def __len__(self) -> int:
        """Senders remembered now."""
        return len(self._senders)

    @property
    def next_deadline(self) -> float | None:
        """When (s) the earliest missing number counts as lost, or ``None``."""
        if self._lost_now:
            return -math.inf
        return next(iter(self._missing.values()), None)

    def heard(self, hint: Hint, now: float) -> None:
        """Take ``hint`` heard at ``now`` (s, non-decreasing). A hint without a number shows
        nothing."""
        self._forget(now)
        if hint.seq is None:
            return
        sender, seq = hint.sender, hint.seq
        # the highest number the sender had sent when it sent this message
        named = seq if hint.kind == "heartbeat" else seq - 1
        known = self._senders.pop(sender, None)
        high = 0 if known is None else known[0]
        if high == _RESYNC:
            high = seq  # what it sent before the reconnect, the reconnect's pull covers
        elif named > high:
            self._skipped(sender, high, named, now)
            high = seq
        elif seq >= high - self.window:
            if hint.kind == "commit":  # late: it was only overtaken
                self._missing.pop((sender, seq), None)
            high = max(high, seq)
        else:
            high = seq  # far behind: the count starts again
        self._senders[sender] = (high, now)
        if len(self._senders) > self.max_senders:
            self._senders.popitem(last=False)

    def resync(self) -> None:
        """The channel (re)connected, and the caller pulls for what was sent meanwhile: each
        known sender's next number is taken as it comes, and nothing missing is awaited."""
        for sender, (_, heard) in self._senders.items():
            self._senders[sender] = (_RESYNC, heard)
        self._missing.clear()
        self._lost_now = 0

    def _skipped(self, sender: str, high: int, named: int, now: float) -> None:
        """Numbers ``high + 1 .. named`` of ``sender`` did not come (yet)."""
        if named - high > self.window or len(self._missing) + named - high > self.max_missing:
            self._lost_now += 1
            return
        due = now + self.grace
        for number in range(high + 1, named + 1):
            self._missing[(sender, number)] = due

    def lost(self, now: float) -> int:
        """How many skipped numbers (or jumps) count as lost by ``now`` (s) and were not
        counted before."""
        count, self._lost_now = self._lost_now, 0
        missing = self._missing
        while missing:
            key, due = next(iter(missing.items()))
            if due > now:
                break
            del missing[key]
            count += 1
        return count

    def _forget(self, now: float) -> None:
        senders, horizon = self._senders, now - self.forget_after
        while senders:
            sender, (_, heard) = next(iter(senders.items()))
            if heard >= horizon:
                return
            del senders[sender]
