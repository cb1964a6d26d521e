"""The announcement channel as it really is: delayed, lossy, sometimes down.

A hint is published once and reaches each subscriber on its own: after a delay drawn per
(hint, subscriber), or never (lost, or sent or due during an outage). The defaults model Redis
pub/sub inside one region (see ``docs/fleet.md``): a log-normal delay with a median of
``delay_ms`` (1 ms: a LAN round trip of ~0.2-0.5 ms plus publish and client wake-up) and
sigma 0.5, and one delivery in a thousand waiting out a TCP retransmission (Linux's minimum
RTO, 200 ms). Redis pub/sub delivers at most once, so a message is lost when a connection
drops (an outage) and otherwise not: ``loss`` is 0 by default.

An outage is silent: nothing gets through, heartbeats included, and subscribers learn it only
from the missing heartbeats; at its end each reconnects (``on_channel(now, True)`` then
``on_announcement(now, None)``, as the live driver does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from synctune.policy import _check
from synctune.policy.errors import InvalidInput

#: what a node's channel events are: a hint (value: its commit time, NaN = unknown), a
#: heartbeat, and a (re)connect
HINT, BEAT, UP = 10, 11, 12
#: share of deliveries that wait out a lost segment, and for how long (s)
RETRANSMIT_SHARE, RETRANSMIT_S = 1e-3, 0.2
DELAY_SIGMA = 0.5
#: seconds between the watcher's heartbeats
HEARTBEAT_S = 5.0


@dataclass(frozen=True, slots=True)
class ChannelModel:
    """How hints travel: median delay (ms), loss share, silent outage windows (s)."""

    delay_ms: float = 1.0
    loss: float = 0.0
    outages: tuple[tuple[float, float], ...] = ()
    heartbeat_s: float = HEARTBEAT_S
    ideal: bool = False

    def __post_init__(self) -> None:
        _check.real("announce_delay_ms", self.delay_ms, minimum=0.0)
        _check.real("announce_loss", self.loss, minimum=0.0, maximum=1.0, strict_maximum=True)
        _check.real("heartbeat_s", self.heartbeat_s, minimum=0.0, strict=True)
        object.__setattr__(self, "outages", check_outages(self.outages))

    @classmethod
    def perfect(cls) -> ChannelModel:
        """The ``notify`` reference: every commit reaches every replica as it lands."""
        return cls(delay_ms=0.0, ideal=True)

    def delays(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` delivery delays (s)."""
        if self.ideal or self.delay_ms == 0.0:
            return np.zeros(n)
        d = self.delay_ms / 1000.0 * np.exp(DELAY_SIGMA * rng.standard_normal(n))
        return d + np.where(rng.uniform(size=n) < RETRANSMIT_SHARE, RETRANSMIT_S, 0.0)

    def arrivals(self, sent: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """When hints sent at ``sent`` (s) reach one subscriber; NaN for those that never do."""
        arrive = sent + self.delays(sent.size, rng)
        if self.ideal:
            return arrive
        lost = rng.uniform(size=sent.size) < self.loss if self.loss > 0.0 else np.zeros(
            sent.size, dtype=bool)
        for start, end in self.outages:
            lost |= ((sent >= start) & (sent < end)) | ((arrive >= start) & (arrive < end))
        return np.where(lost, np.nan, arrive)

    def node_events(self, sent: np.ndarray, commit: np.ndarray, origin: np.ndarray,
                    duration: float, rng: np.random.Generator,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One subscriber's channel events up to ``duration``: hints sent at ``sent`` by
        ``origin`` for commits at ``commit`` (NaN = unknown), the watcher's heartbeats (origin
        -1), a connect at 0 and a reconnect after each outage, and a "something may have
        changed" hint where it notices a lost one. Returns times, kinds, values, time-sorted."""
        arrive = self.arrivals(sent, rng)
        keep = ~np.isnan(arrive)
        t, k, v = [arrive[keep]], [np.full(int(keep.sum()), HINT)], [commit[keep]]
        if not self.ideal:
            beats = np.arange(0.0, duration, self.heartbeat_s)
            b = self.arrivals(beats, rng)
            gaps = _gaps(np.concatenate([sent, beats]), np.concatenate([arrive, b]),
                         np.concatenate([origin, np.full(beats.size, -1)]),
                         np.concatenate([np.ones(sent.size, bool), np.zeros(beats.size, bool)]))
            b = b[~np.isnan(b)]
            ups = np.array([0.0] + [end for _, end in self.outages if end < duration])
            ups = ups + self.delays(ups.size, rng)
            t += [b, ups, ups, gaps]
            k += [np.full(b.size, BEAT), np.full(ups.size, UP), np.full(ups.size, HINT),
                  np.full(gaps.size, HINT)]
            v += [np.zeros(b.size), np.zeros(ups.size), np.full(ups.size + gaps.size, np.nan)]
        times, kinds, values = np.concatenate(t), np.concatenate(k), np.concatenate(v)
        inside = times < duration
        times, kinds, values = times[inside], kinds[inside], values[inside]
        # at a tie: a connect before the hint that follows it
        order = np.lexsort((np.where(kinds == UP, 0, 1), times))
        return times[order], kinds[order], values[order]


def _gaps(sent: np.ndarray, arrive: np.ndarray, origin: np.ndarray,
          hint: np.ndarray) -> np.ndarray:
    """Where a subscriber notices a lost hint: at the next message it gets from the same
    sender (each message numbered per sender, each heartbeat naming the sender's last hint),
    as the live driver does before calling ``on_announcement(now, None)``."""
    order = np.lexsort((sent, origin))
    a, o, h = arrive[order], origin[order], hint[order]
    n = a.size
    got = ~np.isnan(a)
    idx = np.arange(n)
    nxt = np.minimum.accumulate(np.where(got, idx, n)[::-1])[::-1]
    lost = np.flatnonzero(~got & h)
    q = nxt[lost]
    ok = q < n
    lost, q = lost[ok], q[ok]
    q = q[o[q] == o[lost]]
    return np.unique(a[q])


def check_outages(outages: object) -> tuple[tuple[float, float], ...]:
    """``outages`` as a tuple of ``(start_s, end_s)`` pairs, or a one-line error naming it."""
    try:
        pairs = tuple(tuple(o) for o in outages)  # type: ignore[attr-defined]
    except TypeError:
        raise InvalidInput(f"announce_outages must be (start_s, end_s) pairs, "
                           f"got {outages!r}") from None
    out = []
    for pair in pairs:
        if len(pair) != 2:
            raise InvalidInput(f"announce_outages must be (start_s, end_s) pairs, got {pair!r}")
        start = _check.real("announce outage start", pair[0], minimum=0.0)
        end = _check.real("announce outage end", pair[1], minimum=start, strict=True)
        out.append((start, end))
    return tuple(out)


def parse_outage(text: str) -> tuple[float, float]:
    """``START:END`` (s) as a pair, or a one-line error naming ``--announce-outage``."""
    a, sep, b = text.partition(":")
    try:
        start, end = float(a), float(b)
    except ValueError:
        raise InvalidInput(f"--announce-outage must be START:END in seconds, "
                           f"got {text!r}") from None
    if not sep or not (math.isfinite(start) and math.isfinite(end)) or not 0 <= start < end:
        raise InvalidInput(f"--announce-outage must be START:END with 0 <= START < END, "
                           f"got {text!r}")
    return start, end
