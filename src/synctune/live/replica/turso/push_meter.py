"""What one batched push did, batch by batch: the figures that bound it and report it.

pyturso sends a push as HTTP batches of whole transactions (its ``push_operations_threshold``):
a batch is sealed at the first commit once it holds that many row changes. The primary records
the last change of each batch in that batch's own transaction, so a batch it acknowledged is
never sent again, even when the push fails later: the next push asks the primary where it got
to and starts after it. A push cut short by its deadline therefore keeps its progress.

A :class:`PushMeter` follows one push on the sync thread:

- **stalls**: each step of the engine (building a batch, applying an answer) runs in Rust with
  the interpreter lock held, so every other Python thread, an asyncio loop included, waits for
  it. The meter times each step; batching is what keeps them short.
- **the deadline per batch**: a batch is not started when what is left of the deadline is
  shorter than the slowest round trip of a batch already sent in this push, so the last part of
  a deadline is not spent on a batch whose answer would be cut off (the first batch of a push
  always goes, so every push can make progress).
- **progress**: batches sent and acknowledged, for a truthful failure message.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from synctune.policy.errors import InvalidInput

log = logging.getLogger("synctune.live")

#: longest a single engine step should hold the interpreter lock (s); a push whose step took
#: longer is logged with the setting to lower
STALL_BOUND = 0.25

# how pyturso 0.8.3 opens a push batch on the wire (a Hrana pipeline, JSON): checked per
# request, so a different encoding only means batches go uncounted (progress understated)
_BATCH_MARK = b'"sql":"BEGIN IMMEDIATE"'


class BatchNotStarted(TimeoutError):
    """The next batch could not finish within the push's deadline, so it was not sent."""


@dataclass(slots=True)
class PushMeter:
    """One push's batches and stalls (filled on the sync thread, read after the push).

    Attributes:
        batch_operations: the engine's batch size (row changes; ``None``: one batch).
        batches_sent: push batches started on the network.
        batches_acked: push batches the primary answered in full with success (they are on
            the primary, and the next push starts after them).
        longest_round_trip: slowest batch, request sent to answer read (s).
        stalls: duration of each engine step (s), each one with the interpreter lock held.
        not_started: True when a batch was held back because the deadline was too near.
    """

    batch_operations: int | None
    batches_sent: int = 0
    batches_acked: int = 0
    longest_round_trip: float = 0.0
    stalls: list[float] = field(default_factory=list)
    not_started: bool = False

    @property
    def longest_stall(self) -> float:
        """Longest single engine step (s), 0.0 before any."""
        return max(self.stalls, default=0.0)

    def before_request(self, body: bytes | None, left: float | None) -> float | None:
        """Called as an HTTP request of this push is about to be sent with ``left`` seconds of
        its deadline left; returns a token for :meth:`answered` (``None``: not a batch).

        Raises :class:`BatchNotStarted` when the batch could not finish by the deadline.
        """
        if body is None or _BATCH_MARK not in body[:256]:
            return None
        if left is not None and self.batches_acked and left < self.longest_round_trip:
            self.not_started = True
            raise BatchNotStarted(
                f"push batch not started: {left:.3f} s left, a batch took "
                f"{self.longest_round_trip:.3f} s (timed out)")
        self.batches_sent += 1
        return time.monotonic()

    def answered(self, token: float | None, status: int | None) -> None:
        """The request ``token`` was answered in full with HTTP ``status``."""
        if token is None:
            return
        self.longest_round_trip = max(self.longest_round_trip, time.monotonic() - token)
        if status is not None and 200 <= status < 300:
            self.batches_acked += 1

    def progress(self) -> str:
        """What reached the primary, in words, for the message of a push that failed."""
        if not self.batches_acked:
            return "no batch of it reached the primary"
        size = (f" of {self.batch_operations}+ row changes" if self.batch_operations
                else "")
        return (f"{self.batches_acked} batches{size} (whole transactions) reached the primary "
                f"before it stopped; the next push starts after them")


class TimedOp:
    """A pyturso operation whose every step (``resume``) is timed into a :class:`PushMeter`."""

    __slots__ = ("_meter", "_op")

    def __init__(self, op: Any, meter: PushMeter) -> None:
        self._op = op
        self._meter = meter

    def resume(self) -> Any:
        began = time.monotonic()
        try:
            return self._op.resume()
        finally:
            self._meter.stalls.append(time.monotonic() - began)

    def take_result(self) -> Any:
        return self._op.take_result()


def batch_size(value: int | None) -> int | None:
    """``value`` checked as a batch size: a positive integer (row changes), or ``None``."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value <= 0):
        raise InvalidInput(f"push_batch_operations must be a positive integer or None, "
                           f"got {value!r}")
    return value


def log_long_stall(meter: PushMeter, logged: bool) -> bool:
    """Warn (unless ``logged`` already) when a step of ``meter``'s push held the interpreter
    lock longer than :data:`STALL_BOUND`; True when it warned. pyturso never splits a
    transaction, so one of many rows is one long batch."""
    if logged or meter.longest_stall <= STALL_BOUND:
        return False
    log.warning("a push step held every Python thread for %.3f s (bound %.2f s): commit in "
                "smaller transactions, or lower push_batch_operations (now %s)",
                meter.longest_stall, STALL_BOUND, meter.batch_operations)
    return True
