"""The guide's six metrics per node as time series, and its three alerts over them.

Names come from :mod:`synctune.monitoring` (the one definition the live controller shares);
alerts are evaluated by its :class:`~synctune.monitoring.AlertEvaluator`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synctune.monitoring import METRIC_NAMES, AlertEvaluator, AlertThresholds
from synctune.sim.reduce.staleness import reach_at, staleness

assert METRIC_NAMES == ("sync_lag", "sync_failures", "local_db_size", "query_latency",
                        "sync_bandwidth", "replica_age"), "metric names changed"


@dataclass(frozen=True)
class NodeHistory:
    """What happened at one node, as sorted arrays (times in seconds).

    Attributes:
        ok_end: end times of successful syncs and read-your-writes pulls.
        fail_end: end times of failed attempts.
        vis_t, reach: the replica timeline (see :mod:`synctune.sim.reduce.staleness`).
        commits: sorted primary commit times the node must see.
        commit_bytes_t, commit_bytes_cum: all primary commits (sorted) and their cumulative
            bytes, with a leading 0 (for the replica size).
        own_t, own_cum: local-first own writes (origin time) and cumulative bytes, leading 0.
        own_commit_t, own_commit_cum: the same writes by primary commit time.
        read_t, read_latency: reads and their latency (s).
        bw_t, bw_cum: sync traffic times and cumulative bytes, leading 0.
        iv_t, iv: the strategy's interval in force from each time on (NaN = none).
        base_bytes: replica size at start.
    """

    ok_end: np.ndarray
    fail_end: np.ndarray
    vis_t: np.ndarray
    reach: np.ndarray
    commits: np.ndarray
    commit_bytes_t: np.ndarray
    commit_bytes_cum: np.ndarray
    own_t: np.ndarray
    own_cum: np.ndarray
    own_commit_t: np.ndarray
    own_commit_cum: np.ndarray
    read_t: np.ndarray
    read_latency: np.ndarray
    bw_t: np.ndarray
    bw_cum: np.ndarray
    iv_t: np.ndarray
    iv: np.ndarray
    base_bytes: int

    def sync_lag(self, t: np.ndarray) -> np.ndarray:
        """Seconds since the last successful sync ended (the replica is fresh at 0)."""
        k = np.searchsorted(self.ok_end, t, side="right") - 1
        last = np.where(k >= 0, self.ok_end[np.maximum(k, 0)] if self.ok_end.size else 0.0, 0.0)
        return t - last

    def age(self, t: np.ndarray) -> np.ndarray:
        """Current staleness (s)."""
        return staleness(t, self.vis_t, self.reach, self.commits)

    def interval(self, t: np.ndarray) -> np.ndarray:
        """Interval in force (s), NaN when none."""
        k = np.searchsorted(self.iv_t, t, side="right") - 1
        return np.where(k >= 0, self.iv[np.maximum(k, 0)], np.nan)

    def db_size(self, t: np.ndarray) -> np.ndarray:
        """Replica bytes: start size, pulled commits, own local writes not pulled back."""
        seen = reach_at(t, self.vis_t, self.reach)
        pulled = self.commit_bytes_cum[np.searchsorted(self.commit_bytes_t, seen, side="right")]
        own = self.own_cum[np.searchsorted(self.own_t, t, side="right")]
        own_back = self.own_commit_cum[np.searchsorted(self.own_commit_t, seen, side="right")]
        return self.base_bytes + pulled + own - own_back

    def latency_max(self, grid: np.ndarray, step: float) -> np.ndarray:
        """Slowest read in each ``(t - step, t]`` (s); NaN when there was none."""
        lo = np.searchsorted(self.read_t, grid - step, side="right")
        hi = np.searchsorted(self.read_t, grid, side="right")
        out = np.full(grid.shape, np.nan)
        nonempty = hi > lo
        if nonempty.any():
            lat = self.read_latency[: hi[nonempty][-1]]
            out[nonempty] = np.maximum.reduceat(lat, lo[nonempty])
        return out


def sample_grid(duration: float, step: float) -> np.ndarray:
    """Sample times ``step, 2 step, ...`` up to ``duration`` (s), plus ``duration`` itself."""
    grid = np.arange(step, duration + step * 1e-9, step)
    if grid.size == 0 or grid[-1] < duration - 1e-9:
        grid = np.append(grid, duration)
    return grid


def metric_series(node: str, h: NodeHistory, grid: np.ndarray, step: float) -> pd.DataFrame:
    """The six metrics (plus the interval in force) at each grid time, one row per time."""
    return pd.DataFrame({
        "t": grid,
        "node": node,
        "sync_lag": h.sync_lag(grid),
        "sync_failures": np.searchsorted(h.fail_end, grid, side="right"),
        "local_db_size": h.db_size(grid),
        "query_latency": h.latency_max(grid, step),
        "sync_bandwidth": h.bw_cum[np.searchsorted(h.bw_t, grid, side="right")],
        "replica_age": h.age(grid),
        "sync_interval": h.interval(grid),
    })


def alert_events(node: str, h: NodeHistory, grid: np.ndarray,
                 thresholds: AlertThresholds) -> list[dict[str, object]]:
    """Firing and resolving events, evaluated on the grid, at every failure, right after the
    sync lag crosses its threshold and at the success that ends such a gap."""
    gaps = np.concatenate([[0.0], h.ok_end])
    nxt = np.concatenate([h.ok_end, [np.inf]])
    crossing = gaps + thresholds.sync_lag
    long_gap = (crossing < nxt) & (crossing < grid[-1])
    # the lag alert fires just past each crossing and resolves at the success ending the gap;
    # other successes change nothing it watches between grid points
    ends_gap = nxt[long_gap]
    times = np.unique(np.concatenate([grid, h.fail_end, ends_gap[np.isfinite(ends_gap)],
                                      np.nextafter(crossing[long_gap], np.inf)]))
    times = times[times <= grid[-1]]
    lag, fresh, iv = h.sync_lag(times), h.age(times), h.interval(times)
    ev = AlertEvaluator(thresholds)
    fails = h.fail_end.tolist()
    k, out = 0, []
    for t, lg, fr, i in zip(times.tolist(), lag.tolist(), fresh.tolist(), iv.tolist(),
                            strict=True):
        while k < len(fails) and fails[k] <= t:
            ev.record_failure(fails[k])
            k += 1
        for e in ev.observe(t, lg, fr, None if i != i else i):
            out.append({"t": e.time, "node": node, "name": e.name, "severity": e.severity,
                        "state": e.state, "value": e.value})
    return out
