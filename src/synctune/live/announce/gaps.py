"""Noticing lost hints: each sender numbers its commit hints (1, 2, 3...) and each of its
heartbeats names its latest number, so a receiver that sees a number skipped, or a heartbeat
naming a number it never got, knows a hint was lost and tells the strategy "something may have
changed".

Per sender the receiver keeps only the highest number accounted for (heard, or already counted
lost) and when it last heard from it, for at most ``max_senders`` senders, forgetting those not
heard for ``forget_after`` seconds. Duplicates and late hints (up to ``window`` below the
highest) are not losses. A number further behind than that is a fresh start of the count (a
forged huge number must not blind the receiver to the real sender's later losses); a forged
jump ahead costs one "something may have changed", which the strategy holds to one pull per
``min_interval``.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from synctune.live.announce.hint import Hint

#: how far (hint numbers) behind a sender's highest a number may arrive and count as late
WINDOW = 64
#: senders remembered at most (the least recently heard are forgotten first)
MAX_SENDERS = 4096
#: seconds of silence after which a sender is forgotten
FORGET_AFTER = 3600.0


class GapDetector:
    """Per-sender hint numbers; :meth:`lost` says whether a hint reveals a lost one.

    Args:
        window: hint numbers behind the highest that still count as late, not a new count.
        max_senders: senders remembered at most.
        forget_after: seconds (the caller's clock) without a message after which a sender is
            forgotten (its next message is then a first sight).
    """

    def __init__(self, window: int = WINDOW, max_senders: int = MAX_SENDERS,
                 forget_after: float = FORGET_AFTER) -> None:
        if window.__class__ is not int or window < 0:
            raise ValueError(f"window must be an integer >= 0, got {window!r}")
        if max_senders.__class__ is not int or max_senders < 1:
            raise ValueError(f"max_senders must be an integer >= 1, got {max_senders!r}")
        if not (isinstance(forget_after, int | float) and forget_after > 0
                and math.isfinite(forget_after)):
            raise ValueError(f"forget_after must be > 0 s, got {forget_after!r}")
        self.window, self.max_senders, self.forget_after = window, max_senders, forget_after
        # sender -> (highest number accounted for, last heard); oldest heard first
        self._senders: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def __len__(self) -> int:
        """Senders remembered now."""
        return len(self._senders)

    def lost(self, hint: Hint, now: float) -> bool:
        """Take ``hint`` heard at ``now`` (s, non-decreasing): True when it shows that a hint
        of its sender never arrived. A hint without a number shows nothing."""
        self._forget(now)
        if hint.seq is None:
            return False
        # the numbers the sender had sent before this message, and the highest it names
        before = hint.seq - 1 if hint.kind == "commit" else hint.seq
        known = self._senders.pop(hint.sender, None)
        if known is None:  # first sight: hints before it may have been lost
            gap, high = before > 0, hint.seq
        else:
            high = known[0]
            if before > high:
                gap, high = True, hint.seq
            elif hint.seq >= high - self.window:
                gap, high = False, max(high, hint.seq)  # next, late or doubled
            else:
                gap, high = False, hint.seq  # far behind: the count starts again
        self._senders[hint.sender] = (high, now)
        if len(self._senders) > self.max_senders:
            self._senders.popitem(last=False)
        return gap

    def _forget(self, now: float) -> None:
        senders, horizon = self._senders, now - self.forget_after
        while senders:
            sender, (_, heard) = next(iter(senders.items()))
            if heard >= horizon:
                return
            del senders[sender]
