"""The link between one node and the primary: round trips, bandwidth, failures, outages."""

from __future__ import annotations

import numpy as np

from synctune.sim.config import Outage


class Link:
    """One node's network path to the primary.

    Round trips are log-normal around ``rtt_ms`` (0 = instant). Draws come from the node's own
    streams, one per attempt, so every strategy's k-th attempt sees the same network and fault
    (common random numbers).
    """

    __slots__ = ("_buf", "_faults", "_jitter", "_k", "_median", "_net", "_outages", "bandwidth",
                 "failure_prob", "node")

    def __init__(self, node: str, rtt_ms: float, jitter: float, bandwidth: float,
                 failure_prob: float, outages: tuple[Outage, ...],
                 net_rng: np.random.Generator, fault_rng: np.random.Generator) -> None:
        self.node = node
        self._median = rtt_ms / 1000.0
        self._jitter = jitter
        self.bandwidth = bandwidth
        self.failure_prob = failure_prob
        self._outages = tuple(o for o in outages if o.node is None or o.node == node)
        self._net = net_rng
        self._faults = fault_rng
        # per attempt: (round trip, fault?, where); drawn in blocks, used in order
        self._buf: list[tuple[float, bool, float]] = []
        self._k = 0

    @property
    def median_rtt(self) -> float:
        """Median round trip in seconds."""
        return self._median

    def attempt(self) -> tuple[float, float | None]:
        """The next sync attempt's round trip (s), and ``None`` if the network lets it through or
        where it breaks (0..1 of the round trip). The k-th attempt gets the same draws whatever
        the strategy (common random numbers)."""
        if self._k == len(self._buf):
            self._refill()
        rtt, broken, where = self._buf[self._k]
        self._k += 1
        return rtt, (where if broken else None)

    def _refill(self, n: int = 1024) -> None:
        rtt = self.rtts(n, self._net)
        u = self._faults.uniform(size=(n, 2))
        self._buf = list(zip(rtt.tolist(), (u[:, 0] < self.failure_prob).tolist(),
                             u[:, 1].tolist(), strict=True))
        self._k = 0

    def rtts(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` round trips (s) from ``rng`` (for writes, vectorised)."""
        if self._median == 0.0:
            return np.zeros(n)
        return self._median * np.exp(self._jitter * rng.standard_normal(n))

    def transfer(self, nbytes: int) -> float:
        """Seconds to move ``nbytes`` bytes."""
        return nbytes / self.bandwidth

    def down(self, t: float) -> bool:
        """True when the primary is unreachable at ``t`` (s)."""
        if not self._outages:
            return False
        return any(o.covers(self.node, t) for o in self._outages)

    def down_mask(self, times: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`down`."""
        mask = np.zeros(times.shape, dtype=bool)
        for o in self._outages:
            mask |= (times >= o.start) & (times < o.end)
        return mask
