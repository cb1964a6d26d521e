"""A tuner that picks the sync interval from a freshness target and what it observes."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from functools import partial

from synctune.policy import _check
from synctune.policy.adaptive_config import AdaptiveConfig
from synctune.policy.backoff import Backoff
from synctune.policy.change_runs import ChangeRuns, binary_upper, changes_behind
from synctune.policy.estimators import ChangeRateEstimator, LatencyEstimator
from synctune.policy.staleness_model import longest_interval
from synctune.policy.strategy import Decision, FailureKind, SyncReport, SyncStrategy

_FIRST_SYNC = "first sync: measure sync duration and change rate"


def _cadence_text(bound: str, i: float, s: float, rate: float, lat: float, share: float,
                  d: float, note: tuple[int, float] | None) -> str:
    """The reason of a planned interval: what bound it, and the estimates it came from."""
    rate_text = "rate unknown" if rate == math.inf else f"rate <= {rate:.3g}/s"
    if bound == "unreachable":
        reason = (f"target out of reach: a sync takes ~{lat:.3g} s >= freshness {d:g} s; "
                  f"syncing every min_interval {i:g} s")
    elif bound == "min":
        reason = (f"target out of reach at {rate_text}: syncing every min_interval "
                  f"{i:g} s (predicted stale share {s:.2%})")
    else:
        cap = " (max_interval)" if bound == "max" else ""
        reason = (f"every {i:.4g} s{cap}: {rate_text}, sync ~{lat:.3g} s, "
                  f"predicted stale share {s:.2%} <= {share:.2%} at D={d:g} s")
    if note is None:
        return reason
    pulled, span = note
    head = ("first pull sets the baseline" if pulled < 0
            else f"burst: {pulled} changes in {span:.3g} s")
    return f"{head}; {reason}"


class Adaptive(SyncStrategy):
    """Keep the share of reads older than ``freshness`` at most ``stale_share``, syncing rarely.

    After each sync the tuner updates two estimates, then re-plans the interval (from the end of
    one sync to the start of the next):

    * the remote change rate, from the changes each pull brought over the time it covered (from
      the start of the previous successful sync to the start of this one), as a decayed
      count/time estimate with an upper confidence bound that the plan uses
      (:class:`~synctune.policy.estimators.ChangeRateEstimator`); a pull far above expectation
      restarts the estimate at once;
    * the sync duration, RFC 6298 style (:class:`~synctune.policy.estimators.LatencyEstimator`);
      the plan spends ``SRTT + latency_margin * RTTVAR`` of the freshness budget, and each sync
      gets ``RTO = SRTT + 4 RTTVAR`` (floored, capped) as its timeout.

    The plan is the largest interval in ``[min_interval, max_interval]`` whose predicted stale
    share (:mod:`synctune.policy.staleness_model`) is at most ``stale_share``. When the target is
    out of reach (the sync alone takes ``freshness`` or more, or the rate is too high for
    ``min_interval``), it syncs every ``min_interval`` and says so in the reason.

    Local writes are pushed at the latest ``max_unpushed_age`` seconds after the oldest unpushed
    one (bursts share one sync). Failures are retried after capped exponential backoff with full
    jitter; the first success restores the planned cadence. The first sync is due at once: the
    replica's age at start is unknown and the estimates need a first sample.

    Args:
        freshness: target D, seconds (> 0).
        stale_share: allowed share of reads older than D, in (0, 1); default 1 %.
        min_interval: shortest interval, seconds (> 0).
        max_interval: longest interval, seconds (>= min_interval).
        max_unpushed_age: seconds a local write may wait for a push (> 0); default D.
        backoff: retry delays after failures; default ``Backoff(base=1, cap=300)``.
        rng: random source for jitter (inject a seeded one for reproducible runs).
        half_life: half-life of the change-rate estimate, seconds (> 0).
        rate_z: normal quantile of the rate's upper bound (>= 0; 1.645 = one-sided 95 %).
        latency_margin: RTTVARs added to SRTT when spending the freshness budget (>= 0).
        min_timeout: floor of the sync timeout, seconds (> 0); generous because a pull that
            brings a large backlog (a cold start) takes far longer than a typical one.
        max_timeout: cap of the sync timeout, seconds (>= min_timeout).
        bool_pulls: read each pull as changed or not (the default), as pyturso and libsql
            report them, a change standing for the expected count given one or more: the
            simulator's counted pulls then drive the decisions a live replica makes. False
            plans with the counts (counting drivers only).
    """

    name = "adaptive"

    def __init__(self, freshness: float, stale_share: float = 0.01, min_interval: float = 1.0,
                 max_interval: float = 3600.0, max_unpushed_age: float | None = None,
                 backoff: Backoff | None = None, rng: random.Random | None = None, *,
                 half_life: float = 300.0, rate_z: float = 1.645, latency_margin: float = 2.0,
                 min_timeout: float = 5.0, max_timeout: float = 120.0,
                 bool_pulls: bool = True) -> None:
        super().__init__(
            _check.instance_or("backoff", backoff, Backoff, lambda: Backoff(base=1.0, cap=300.0)),
            _check.instance_or("rng", rng, random.Random, random.Random))
        self.config = c = AdaptiveConfig(  # the settings, validated and frozen
            freshness, stale_share, min_interval, max_interval, max_unpushed_age, half_life,
            rate_z, latency_margin, min_timeout, max_timeout, bool_pulls)
        self._max_unpushed_age = c.push_age  # read on every decision
        self._rate = ChangeRateEstimator(half_life=c.half_life, z=c.rate_z)
        self._runs = ChangeRuns()  # a burst the last pull saw may go on into the next cycle
        self._span = 0.0  # the last pull's span (s)
        self._latency = LatencyEstimator(min_timeout=min_timeout, max_timeout=max_timeout)
        self._last_snapshot: float | None = None  # start of the last successful sync
        # pulls made outside our syncs (read-your-writes): the replica's age counts from the
        # latest, and their changes join the next rate sample so the rate stays unbiased
        self._fresh_at: float | None = None
        self._observed_pulled = 0
        self._write_reason = f"push local writes within {self._max_unpushed_age:g} s"
        self._last: Decision | None = None
        self._last_reason: str | Callable[[], str] = ""  # what _last was made from
        self._cadence_reason: str | Callable[[], str] = ""
        self._plan(None)

    # ------------------------------------------------------------------ events
    def _after_success(self, now: float, started: float, report: SyncReport) -> None:
        self._latency.observe(report.duration)
        note: tuple[int, float] | None = None  # (changes, seconds) of a burst
        pulled, self._observed_pulled = report.pulled + self._observed_pulled, 0
        if self._last_snapshot is None:
            note = (-1, 0.0)
        else:
            span = self._span = started - self._last_snapshot
            self._runs.observe(pulled > 0, span)
            changes = changes_behind(pulled, span, self._rate.rate, self.config.bool_pulls)
            if self._rate.observe(changes, span):
                note = (pulled, span)
        self._last_snapshot = started
        self._fresh_at = now
        self._plan(note)

    def _after_pull_observed(self, now: float, pulled: int, as_of: float | None) -> None:
        self._observed_pulled += pulled
        if self._fresh_at is not None and now > self._fresh_at:
            self._fresh_at = now

    def _after_failure(self, now: float, kind: FailureKind, duration: float) -> None:
        if kind is FailureKind.TIMEOUT:
            self._latency.expired()

    def _plan(self, note: tuple[int, float] | None) -> None:
        """Re-plan the interval from the current estimates (runs after each sync, not per write)."""
        rate = self.safe_rate
        latency = self._latency.conservative(self.config.latency_margin)
        lat = 0.0 if latency is None else latency
        choice = longest_interval(rate, self.config.freshness, lat, self.config.stale_share,
                                  self.config.min_interval, self.config.max_interval,
                                  self._runs.carried)
        self._interval = choice.interval
        self._predicted = choice.predicted_stale_share
        self._bound = choice.bound
        # formatting costs about as much as the plan: done only when someone reads the reason
        self._cadence_reason = partial(_cadence_text, choice.bound, choice.interval,
                                       choice.predicted_stale_share, rate, lat,
                                       self.config.stale_share, self.config.freshness, note)

    # ---------------------------------------------------------------- decision
    def _decide(self, now: float) -> Decision:
        # hot path (re-run after every local write): a few compares, no formatting
        reason: str | Callable[[], str]
        retry_at = self._retry_at
        if retry_at is not None and self._state.consecutive_failures:
            due, reason = retry_at, self._retry_reason
        elif self._fresh_at is None:
            started = self._state.started_at
            assert started is not None  # decision() checks that start() came first
            due, reason = started, _FIRST_SYNC
        else:
            due, reason = self._fresh_at + self._interval, self._cadence_reason
            st = self._state  # the oldest unpushed write, from the record
            oldest = st.first_unpushed
            if oldest is None:
                oldest = st.first_since_start
            if oldest is not None and oldest + self._max_unpushed_age < due:
                due, reason = oldest + self._max_unpushed_age, self._write_reason
        last = self._last
        if last is not None and last.due == due and self._last_reason is reason:
            return last
        self._last = last = Decision(due, reason, self._interval)
        self._last_reason = reason
        return last

    def sync_timeout(self) -> float | None:
        """RTO (s) for the next sync: ``SRTT + 4 RTTVAR``, floored and capped; ``None`` at first."""
        return self._latency.timeout()

    # ------------------------------------------------------------------ estimates
    @property
    def interval_in_force(self) -> float | None:
        return self._interval

    @property
    def interval(self) -> float:
        """Planned interval (s) from the end of one sync to the start of the next."""
        return self._interval

    @property
    def predicted_stale_share(self) -> float:
        """Stale share the model predicts at the planned interval with the safe estimates."""
        return self._predicted

    @property
    def bound(self) -> str:
        """What set the interval: ``model``, ``max``, ``min`` or ``unreachable``."""
        return self._bound

    @property
    def rate(self) -> float:
        """Point estimate of the remote change rate (changes/s); ``nan`` until two pulls."""
        return self._rate.rate

    @property
    def safe_rate(self) -> float:
        """Upper confidence bound on the change rate (changes/s) the plan uses; ``inf`` at first
        (from changed-or-not pulls, widened by what a yes/no answer loses)."""
        upper = self._rate.upper
        return binary_upper(self._rate.rate, upper, self._span) if self.config.bool_pulls \
            else upper

    @property
    def srtt(self) -> float | None:
        """Smoothed sync duration (s), or ``None`` before the first success."""
        return self._latency.srtt

    @property
    def rttvar(self) -> float | None:
        """Smoothed deviation of the sync duration (s), or ``None`` before the first success."""
        return self._latency.rttvar

    @property
    def planning_latency(self) -> float:
        """Sync duration (s) the plan spends from the budget: ``SRTT + margin * RTTVAR``."""
        latency = self._latency.conservative(self.config.latency_margin)
        return 0.0 if latency is None else latency

    @property
    def freshness_target(self) -> float | None:
        """The freshness target D (s) this strategy plans for."""
        return self.config.freshness

    @property
    def freshness(self) -> float:
        """Freshness target D (s)."""
        return self.config.freshness

    @property
    def stale_share(self) -> float:
        """Allowed share of reads older than D."""
        return self.config.stale_share

    @property
    def min_interval(self) -> float:
        """Shortest interval (s)."""
        return self.config.min_interval

    @property
    def max_interval(self) -> float:
        """Longest interval (s)."""
        return self.config.max_interval

    @property
    def max_unpushed_age(self) -> float:
        """Longest wait (s) of a local write for its push."""
        return self._max_unpushed_age

    def __repr__(self) -> str:
        c = self.config
        return (f"Adaptive(freshness={c.freshness:g}, stale_share={c.stale_share:g}, "
                f"min_interval={c.min_interval:g}, max_interval={c.max_interval:g}, "
                f"max_unpushed_age={c.push_age:g})")

