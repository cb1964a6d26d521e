"""The guide's ``adjustSyncInterval`` rule, fed with inputs it measures itself."""

from __future__ import annotations

import math
import random

from synctune.policy import _check
from synctune.policy.any_of import AnyOf
from synctune.policy.backoff import Backoff
from synctune.policy.estimators import ChangeRateEstimator, LatencyEstimator
from synctune.policy.on_write import OnWrite
from synctune.policy.periodic import Periodic
from synctune.policy.seed_rule import (
    MIN_INTERVAL_S,
    NETWORK_LATENCY_THRESHOLD_MS,
    ON_WRITE_FRESHNESS_THRESHOLD_S,
    WRITE_FREQUENCY_THRESHOLD,
    seed_rule,
)
from synctune.policy.settings import SyncSettings
from synctune.policy.strategy import Decision, SyncReport

#: shortest span (s) a write-frequency sample may cover
_MIN_SPAN = 1e-3


class SeedRule(AnyOf):
    """Re-apply :func:`~synctune.policy.seed_rule.seed_rule` after every sync, on measured inputs.

    * write frequency (writes/min): local writes plus remote changes pulled, over a decaying
      window: a count/time estimate whose weights decay as ``exp(-age / window)``;
    * network latency (ms): the RFC 6298 SRTT of sync durations (0 until the first sync);
    * data freshness (s): given.

    It is ``Periodic(interval) | OnWrite()`` whose interval, and whether the on-write part
    counts, the rule re-picks after every sync: periodic syncs count from the end of the last
    attempt (failed attempts retried one interval later); on-write syncs follow the first
    unsynced write, retried with jittered backoff after failures. App requests are honoured.
    The decision's reason names the branch of the rule that fired.

    Args:
        data_freshness: required freshness, seconds (>= 0; 0 means "as fresh as possible").
        window: time constant of the write-frequency window, seconds (> 0).
        rng: random source for the on-write retry jitter.
    """

    name = "seed-rule"

    def __init__(self, data_freshness: float, window: float = 600.0,
                 rng: random.Random | None = None) -> None:
        freshness = _check.real("data_freshness", data_freshness, minimum=0.0)
        self._periodic = Periodic(max(freshness, MIN_INTERVAL_S))
        self._on_write = OnWrite(backoff=Backoff(base=1.0, cap=60.0), rng=_check.instance_or(
            "rng", rng, random.Random, random.Random))
        super().__init__(self._periodic, self._on_write)
        self.name = "seed-rule"
        self._freshness = freshness
        self._window = _check.real("window", window, minimum=0.0, strict=True)
        # exp(-age / window) weights: half-life window * ln 2; z = 0: we want the point estimate
        self._writes = ChangeRateEstimator(half_life=self._window * math.log(2.0), z=0.0,
                                           surprise_z=None)
        self._latency = LatencyEstimator()
        self._writes_since = 0
        self._folded_at: float | None = None
        self._apply()

    # ------------------------------------------------------------------ events
    def _after_start(self, now: float) -> None:
        super()._after_start(now)
        self._folded_at = self._state.now

    def _after_write(self, now: float, count: int, pushed: bool) -> None:
        super()._after_write(now, count, pushed)
        self._writes_since += count

    def _after_success(self, now: float, started: float, report: SyncReport) -> None:
        super()._after_success(now, started, report)
        self._latency.observe(report.duration)
        if self._folded_at is None:  # driven without start(): count from this sync's start
            self._folded_at = now - report.duration
        # rule inputs are only read after a sync: fold the writes seen since the last one now
        self._writes_since += report.pulled
        # a (near-)zero span would make the rate overflow: carry the count to the next sync
        if now - self._folded_at >= _MIN_SPAN:
            self._writes.observe(self._writes_since, now - self._folded_at)
            self._writes_since = 0
            self._folded_at = now
        self._apply()

    def _apply(self) -> None:
        wf, lat = self.write_frequency, self.network_latency
        self._settings: SyncSettings = seed_rule(wf, lat, self._freshness)
        self._reason = self._branch(wf, lat)
        interval = self._settings.sync_interval
        assert interval is not None  # the rule always sets one
        self._periodic.retune(interval)
        self._decision = None

    def _branch(self, wf: float, lat: float) -> str:
        s = self._settings
        if wf > WRITE_FREQUENCY_THRESHOLD:
            return (f"seed rule: {wf:.3g} writes/min > {WRITE_FREQUENCY_THRESHOLD:g}: "
                    f"every {s.sync_interval:g} s + on write")
        if lat > NETWORK_LATENCY_THRESHOLD_MS:
            return (f"seed rule: latency {lat:.3g} ms > {NETWORK_LATENCY_THRESHOLD_MS:g} ms: "
                    f"every {s.sync_interval:g} s")
        extra = (f" + on write (freshness < {ON_WRITE_FRESHNESS_THRESHOLD_S:g} s)"
                 if s.sync_on_write else "")
        return (f"seed rule: freshness {self._freshness:g} s: every max(D, "
                f"{MIN_INTERVAL_S:g}) = {s.sync_interval:g} s{extra}")

    # ---------------------------------------------------------------- decision
    def _decide(self, now: float) -> Decision:
        interval = self._settings.sync_interval
        due, reason = self._periodic.decide(now).due, self._reason
        if self._settings.sync_on_write:
            push = self._on_write.decide(now).due
            if push is not None and (due is None or push < due):
                due, reason = push, self._reason + "; push unpushed writes"
        return Decision(due, reason, interval)

    # ----------------------------------------------------------------- inputs
    @property
    def settings(self) -> SyncSettings:
        """Settings the rule picked after the last sync."""
        return self._settings

    @property
    def write_frequency(self) -> float:
        """Measured writes per minute (local plus pulled) over the window; 0 before data."""
        rate = self._writes.rate
        return 0.0 if math.isnan(rate) else rate * 60.0

    @property
    def network_latency(self) -> float:
        """Measured network latency in ms (SRTT of sync durations); 0 before the first sync."""
        srtt = self._latency.srtt
        return 0.0 if srtt is None else srtt * 1000.0

    @property
    def freshness_target(self) -> float | None:
        """The required freshness D (s), ``None`` for 0 ("as fresh as possible")."""
        return self._freshness if self._freshness > 0.0 else None

    @property
    def data_freshness(self) -> float:
        """Required freshness (s)."""
        return self._freshness

    @property
    def interval_in_force(self) -> float | None:
        return self._settings.sync_interval

    def __repr__(self) -> str:
        return f"SeedRule(data_freshness={self._freshness:g}, window={self._window:g})"
