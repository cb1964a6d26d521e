"""A read-aware tuner that spends a stale-read budget where it saves the most syncs."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from functools import partial

from synctune.policy import _check
from synctune.policy.backoff import Backoff
from synctune.policy.budgeted_config import BudgetedConfig
from synctune.policy.change_runs import ChangeRuns, changes_behind
from synctune.policy.estimators import LatencyEstimator
from synctune.policy.interval_hedge import IntervalHedge
from synctune.policy.late_reads import LateReads, outran_priced_cycle
from synctune.policy.model_bias import ModelBias
from synctune.policy.stale_budget import StaleReadBudget
from synctune.policy.stale_ledger import StaleLedger
from synctune.policy.staleness_model import (
    SharePrice,
    cycle_cap,
    late_stale_chance,
    priced_cycle,
)
from synctune.policy.strategy import Decision, FailureKind, SyncReport, SyncStrategy
from synctune.policy.traffic_rate import DailyProfile, TrafficRate

_INF = math.inf
_IDLE = "no reads expected and nothing to push: no pull planned"
_LOW = "stale-read budget running low: pull now"


def _cadence_text(interval: float, why: str, lam: float, rho: float, price: float,
                  latency: float, remaining: float, d: float) -> str:
    """The reason of a planned cycle: its interval, what bound it, and the plan's inputs."""
    return (f"every {interval:.4g} s ({why}): changes ~{lam:.3g}/s, reads ~{rho:.3g}/s, stale "
            f"read ~{price:.3g} syncs, sync ~{latency:.3g} s, budget left "
            f"{remaining:.3g} stale reads at D={d:g} s")


class Budgeted(SyncStrategy):
    """Keep at most ``stale_share`` of the reads of each ``window`` older than ``freshness``.

    Staleness costs nothing until a read sees it, so the tuner plans from the node's own reads
    as well as the remote changes (the reasoning: ``docs/adaptive.md``):

    * **rates** (:class:`~synctune.policy.traffic_rate.TrafficRate`) of remote changes and
      reads, at two time scales, shrunk towards a learned daily profile;
    * **a price per stale read** (syncs), the one that meets the share at the window's average
      rates; each cycle minimises syncs plus the price of its expected stale reads
      (:func:`~synctune.policy.staleness_model.priced_cycle`), so cycles grow where reads are
      few or changes rare, and a node that serves no reads pulls only to push;
    * **a budget that is not overspent** (:class:`~synctune.policy.stale_budget.StaleReadBudget`):
      each pull judges the cycle's late reads (none stale if nothing came; all of them when a
      burst carried on, :class:`~synctune.policy.change_runs.ChangeRuns`). A cycle may spend its
      share plus half the window's surplus if the day's ledger, with a margin for stale reads
      that come in lumps, allows (:class:`~synctune.policy.stale_ledger.StaleLedger`); reads
      past that, or coming so fast that the cycle outran the priced one for them
      (:class:`~synctune.policy.late_reads.LateReads`), pull at once;
    * **a model that learns its own error** (:class:`~synctune.policy.model_bias.ModelBias`):
      a factor (>= 1) on the change rate, booked stale reads over the Poisson model's.

    Local writes are pushed at the latest ``max_unpushed_age`` seconds after the oldest unpushed
    one. Failures are retried after capped exponential backoff with full jitter while there is
    something to pull or push. The sync timeout is RFC 6298 style, as :class:`Adaptive`'s.

    Args:
        freshness: target D, seconds (> 0).
        stale_share: allowed share of reads older than D per window, in (0, 1); default 1 %.
        min_interval: shortest interval between syncs, seconds (> 0).
        max_interval: longest interval while reads are expected, seconds (>= min_interval).
        max_unpushed_age: seconds a local write may wait for a push (> 0); default D.
        backoff: retry delays after failures; default ``Backoff(base=1, cap=300)``.
        rng: random source for jitter.
        window: the budget's rolling window, seconds (> 0); default one hour.
        half_life: half-life of the fast rate estimates, seconds (> 0).
        day: period of the daily profile, seconds (> 0); default one day.
        latency_margin: RTTVARs added to SRTT when spending the freshness target (>= 0).
        min_timeout: floor of the sync timeout, seconds (> 0).
        max_timeout: cap of the sync timeout, seconds (>= min_timeout).
        budget: a stale-read budget shared with other replicas' strategies (their reads and
            the price pool); default one of this strategy's own (``stale_share``, ``window``).
        use: share of the budget the plan aims to spend (in (0, 1]); the rest is a margin for
            model error and for stale reads that come in lumps (one commit makes a busy
            cycle's late reads stale together), since a stale read is only known at the next
            pull.
        bool_pulls: read each pull as changed or not (default), as pyturso and libsql report
            them, whatever the driver counts (the simulator then makes the live decisions);
            False plans with the counts (counting drivers only).
        learn: scale the priced cycle by a multiplier learned online (:mod:`.interval_hedge`).
    """

    name = "budgeted"

    # some forty fields, read on every pull: past about thirty, an instance dict loses
    # CPython's fast attribute layout
    __slots__ = ("_allow", "_bias", "_bool_pulls", "_budget", "_cadence_reason", "_change_profile",
                 "_changes", "_folded_at", "_fresh_at", "_freshness", "_hedge", "_interval", "_key",
                 "_lam", "_lam_model", "_last", "_last_reason", "_late", "_late_from", "_latency",
                 "_latency_margin", "_ledger", "_max_interval", "_max_unpushed_age",
                 "_min_interval", "_own_price", "_pend_reads", "_plan_share", "_pull_now",
                 "_read_cost", "_read_rate", "_runs", "_share", "_snap", "_window", "_write_reason",
                 "config", "pooled")

    def __init__(self, freshness: float, stale_share: float = 0.01, min_interval: float = 1.0,
                 max_interval: float = 3600.0, max_unpushed_age: float | None = None,
                 backoff: Backoff | None = None, rng: random.Random | None = None, *,
                 window: float = 3600.0, half_life: float = 300.0, day: float = 86_400.0,
                 latency_margin: float = 2.0, min_timeout: float = 5.0,
                 max_timeout: float = 120.0, budget: StaleReadBudget | None = None,
                 bool_pulls: bool = True, use: float = 0.5, learn: bool = False) -> None:
        super().__init__(
            _check.instance_or("backoff", backoff, Backoff, lambda: Backoff(base=1.0, cap=300.0)),
            _check.instance_or("rng", rng, random.Random, random.Random))
        self.config = c = BudgetedConfig(  # the settings, validated and frozen
            freshness, stale_share, min_interval, max_interval, max_unpushed_age, window,
            half_life, day, latency_margin, min_timeout, max_timeout, bool_pulls, use, learn)
        # read on every decision or plan: kept at hand
        self._freshness, self._share, self._window = c.freshness, c.stale_share, c.window
        self._min_interval, self._max_interval = c.min_interval, c.max_interval
        self._max_unpushed_age, self._latency_margin, self._bool_pulls = (
            c.push_age, c.latency_margin, c.bool_pulls)
        slow = max(c.window, c.half_life)
        self._change_profile = DailyProfile(c.day)  # its long-run mean floors the plan
        self._changes = TrafficRate(c.half_life, slow, profile=self._change_profile)
        # reads are counted exactly and plenty: a light prior lets a quiet spell show at once
        self._read_rate = TrafficRate(c.half_life, slow, prior_weight=0.1 * c.half_life,
                                      profile=DailyProfile(c.day))
        # plan to spend this part of the share: the Poisson model errs on real, clustered
        # traffic, stale reads come in lumps, and a stale read is only known at the next pull
        self._plan_share = c.stale_share * c.use
        self._key = id(self)  # this replica's entry in a shared budget
        self._budget = _check.instance_or("budget", budget, StaleReadBudget,
                                          lambda: StaleReadBudget(self._share, self._window))
        self.pooled = budget is not None  # type: ignore[misc]  # a slot over the base's property
        self._latency = LatencyEstimator(min_timeout=min_timeout, max_timeout=max_timeout)
        # the replica reflects the primary as of _snap; reads after _late_from may be stale
        self._snap: float | None = None
        self._fresh_at: float | None = None  # end of the last pull (schedules count from it)
        self._late_from, self._late = _INF, LateReads()
        self._pend_reads = 0  # reads not yet folded into the read rate
        self._folded_at: float | None = None
        # the plan: interval (inf = no pull planned), and the per-read budget check
        self._interval = _INF
        self._lam = self._lam_model = 0.0  # the plan's change rate, with the bias and without
        self._bias, self._hedge = ModelBias(), (IntervalHedge() if c.learn else None)
        self._runs, self._ledger = ChangeRuns(), StaleLedger(c.stale_share)
        self._own_price = SharePrice(self._plan_share)
        self._allow = 0.0  # surplus the current cycle may spend beyond its own share
        self._read_cost, self._pull_now = 0.0, False  # read_cost: price x change rate (/s)
        self._cadence_reason: str | Callable[[], str] = _IDLE
        self._write_reason = f"push local writes within {self._max_unpushed_age:g} s"
        self._last: Decision | None = None
        self._last_reason: str | Callable[[], str] = ""

    # ------------------------------------------------------------------ events
    def _after_start(self, now: float) -> None:
        # unknown age: judge reads as if the replica were as of the start
        self._snap = self._folded_at = self._state.now
        self._late_from = self._state.now + self._freshness
        self._lam = self._changes.fast_at(self._state.now)

    def _after_read(self, now: float, count: int) -> None:
        self._pend_reads += count
        if now > self._late_from:
            past = now - self._late_from
            x = self._late.add(now, count, past)
            if self._pull_now or not self._interval > 0.0:
                return
            # expected stale reads of this cycle against what it may spend; or reads come so
            # fast that the cycle has outrun the priced cycle for them (reads resuming in a
            # cycle stretched for a quiet spell: one commit would make them all stale)
            age = past + self._freshness
            cost = self._read_cost  # 0 on a pooled budget: no rate worth working out
            if (x * self._lam > self._allow + self._plan_share * self._pend_reads
                    or (cost > 0.0 and outran_priced_cycle(
                        cost, self._late.rate(now, self._pend_reads, age), age, past))):
                self._pull_now = True
                self._redecide()

    def _after_success(self, now: float, started: float, report: SyncReport) -> None:
        self._latency.observe(report.duration)
        self._caught_up(now, started, report.pulled)
        self._fresh_at = now

    def _after_pull_observed(self, now: float, pulled: int, as_of: float | None) -> None:
        if self._snap is not None and now > self._snap:
            self._caught_up(now, now, pulled)
            if self._fresh_at is None or now > self._fresh_at:
                self._fresh_at = now

    def _after_failure(self, now: float, kind: FailureKind, duration: float) -> None:
        if kind is FailureKind.TIMEOUT:
            self._latency.expired()

    def _caught_up(self, now: float, snap: float, pulled: int) -> None:
        """The replica now reflects the primary as of ``snap``: judge the cycle, re-plan."""
        span = snap - (self._snap if self._snap is not None else snap)
        if pulled > 1 and self._bool_pulls:
            pulled = 1  # changed or not: the same decisions whether the driver counts or not
        late, late_n = self._late, self._late.n
        judge = pulled > 0 and late_n
        # a reported 1 from a yes/no driver is read with the rate as it was before this pull
        n = changes_behind(pulled, span, self._changes.fast_at(snap),
                           self._bool_pulls) if judge else 0.0
        self._changes.observe(pulled, span, snap)
        carried = self._runs.observe(pulled > 0, span)
        stale = p = 0.0
        if judge:  # the cycle's mean excess bounds its late reads' stale chance from above
            p = late_stale_chance(n, late.excess / late_n, span, carried)
            stale = late_n * p
        self._ledger.book(self._pend_reads, late_n, p, span)
        # what the model expected of the cycle's late reads against what they cost
        self._bias.observe(self._lam_model * late.excess, stale, span)
        if self._hedge is not None:  # every multiplier judged on this cycle's reads and answer
            self._hedge.judge(span, self._pend_reads, n if judge else float(pulled))
        # the cycle's reads fold into the read rate and, with its stale reads, into the budget
        reads, since = self._pend_reads, self._folded_at
        self._read_rate.observe(reads, now - (since if since is not None else now), now)
        self._budget.book(now, float(reads), stale)
        self._pend_reads, self._folded_at, self._snap = 0, now, snap
        self._late_from = snap + self._freshness
        late.clear()
        self._pull_now = False
        self._plan(now)

    # ---------------------------------------------------------------- planning
    def _plan(self, now: float) -> None:
        """Re-plan the cycle from the current estimates (after each pull, not per event)."""
        latency = self._latency.conservative(self._latency_margin) or 0.0
        a = self._freshness - latency
        # human changes cluster: a quiet hour says little about the next change, so the plan
        # never assumes less than half the long-run rate
        lam_fast, lam_slow = self._changes.rates_at(now)
        floor = 0.5 * self._change_profile.mean
        lam = lam_fast if lam_fast > floor else floor
        self._lam_model = lam
        # clustered human commits cost more stale reads than a Poisson source of the same
        # rate: plan with the rate the reads have been seeing
        lam *= self._bias.factor
        self._lam = lam
        self._read_cost = 0.0
        if self._state.reads == 0:
            # no reads, so no share of the window's surplus either
            self._allow = 0.0
            self._interval, self._cadence_reason = _INF, _IDLE
            return
        budget = self._budget
        pool, remaining = budget.reads_and_remaining(now)
        rho, rho_avg = self._read_rate.rates_at(now)
        # this replica's part of the (possibly shared) window's reads and surplus
        part = 1.0
        if pool > 0.0:
            part = rho_avg * self._window / pool
            if not part < 1.0:
                part = 1.0
        # half the window's surplus; a replica on its own budget also needs its day's, less a
        # margin for lumps (a pool spreads its replicas' lumps over its own surplus)
        spare = part * remaining
        if not budget.shared:
            day = self._ledger.surplus()
            spare = day if day < spare else spare
        allow = self._allow = 0.5 * spare if spare > 0.0 else 0.0
        if a <= 0.0:
            self._out_of_reach(latency)
            return
        lam_avg = lam_slow if lam_slow > floor else floor
        # syncs one stale read is worth: the price that meets the share (0 when none)
        if budget.register(self._key, rho_avg):
            # replicas pooling their reads: one price for all, set by the pooled reads
            price = budget.common_price(now, lam_avg, a, self._plan_share)
            self._cycle(lam, a, rho, rho_avg, price, latency, remaining, allow, True)
            return
        # the price that meets the share at this replica's average rates
        price = self._own_price.at(lam_avg, a, rho_avg)
        self._cycle(lam, a, rho, rho_avg, price, latency, remaining, allow, False)

    def _out_of_reach(self, latency: float) -> None:
        self._interval = self._min_interval
        self._cadence_reason = (f"target out of reach: a sync takes ~{latency:.3g} s >= freshness "
                                f"{self._freshness:g} s; syncing every {self._min_interval:g} s")

    def _cycle(self, lam: float, a: float, rho: float, rho_avg: float, price: float,
               latency: float, remaining: float, allow: float, shared: bool) -> None:
        """Set the interval: the priced cycle, capped by what the budget allows."""
        cycle = priced_cycle(lam, a, price * rho)
        # a replica's own share only: a pool's price already prices its replicas' lumps
        self._read_cost = 0.0 if shared else price * lam
        if self._hedge is not None:
            cycle *= self._hedge.planned(price, a, lam)
        limit = self._max_interval + latency
        if not limit < cycle:
            limit = cycle
        # never plan a cycle that expects to spend more than what its reads add to the budget
        # (at their average rate: a quiet spell may spend what a busy one saved) plus this
        # replica's part of the surplus (none when overspent). A replica sharing a budget
        # spends at the common price while the pool has a surplus: that a replica with few
        # reads goes over its own share is the point of pooling. The cap is sought only when
        # the priced cycle overspends (stale time is convex: then the cap is below it).
        why = "price"
        if not shared or remaining <= 0.0:
            cap = cycle_cap(lam, a, rho, self._plan_share * rho_avg, allow, limit)
            if cap < limit:
                limit = cap
                why = "budget running low" if remaining > 0.0 else "budget spent"
        interval = limit - latency
        if interval < self._min_interval:
            interval = self._min_interval
        elif interval > self._max_interval:
            interval = self._max_interval
        self._interval = interval
        # seven numbers cost about a µs to format, a fifth of the plan: done only when read
        self._cadence_reason = partial(_cadence_text, interval, why, lam, rho, price, latency,
                                       remaining, self._freshness)

    # ---------------------------------------------------------------- decision
    def _decide(self, now: float) -> Decision:
        due: float | None = None
        reason: str | Callable[[], str] = self._cadence_reason
        if self._pull_now:
            due, reason = now, _LOW
        elif self._interval < _INF:
            due = (self._fresh_at if self._fresh_at is not None else self._snap or 0.0) \
                + self._interval
        st = self._state  # the oldest unpushed write, from the record
        oldest = st.first_unpushed
        if oldest is None:
            oldest = st.first_since_start
        if oldest is not None and (due is None or oldest + self._max_unpushed_age < due):
            due, reason = oldest + self._max_unpushed_age, self._write_reason
        retry_at = self._retry_at
        if retry_at is not None and self._state.consecutive_failures and due is not None:
            due, reason = retry_at, self._retry_reason
        interval = None if self._interval == _INF else self._interval
        last = self._last
        if last is not None and last.due == due and self._last_reason is reason:
            return last
        self._last = last = Decision(due, reason, interval)
        self._last_reason = reason  # what it was made from (reading .reason formats it)
        return last

    def sync_timeout(self) -> float | None:
        """RTO (s) for the next sync: ``SRTT + 4 RTTVAR``, floored and capped; ``None`` at first."""
        return self._latency.timeout()

    # ------------------------------------------------------------------ estimates
    @property
    def interval_in_force(self) -> float | None:
        return None if self._interval == _INF else self._interval

    @property
    def interval(self) -> float:
        """Planned interval (s) from the end of one pull to the next; ``inf`` when none."""
        return self._interval

    @property
    def change_rate(self) -> float:
        """Estimated remote changes per second for the coming minutes."""
        return self._changes.fast_at(self._state.now)

    @property
    def model_bias(self) -> float:
        """Factor (>= 1) on the change rate the plan assumes: stale reads booked over those the
        Poisson model expected (see :class:`~synctune.policy.model_bias.ModelBias`)."""
        return self._bias.factor

    @property
    def read_rate(self) -> float:
        """Estimated reads per second for the coming minutes (as of the last plan)."""
        return self._read_rate.fast_at(self._state.now) if self._state.reads else 0.0

    @property
    def budget_left(self) -> float:
        """Stale reads the window still allows (negative: overspent)."""
        return self._budget.remaining(self._state.now)

    @property
    def freshness_target(self) -> float | None:
        """The freshness target D (s) this strategy plans for."""
        return self._freshness

    @property
    def freshness(self) -> float:
        """Freshness target D (s)."""
        return self._freshness

    @property
    def stale_share(self) -> float:
        """Allowed share of reads older than D per window."""
        return self._share

    def __repr__(self) -> str:
        return (f"Budgeted(freshness={self._freshness:g}, stale_share={self._share:g}, "
                f"window={self._window:g}, min_interval={self._min_interval:g}, "
                f"max_interval={self._max_interval:g})")
