"""The watcher's cadence: one replica per primary that pulls so the fleet keeps D, and
announces what it finds."""

from __future__ import annotations

import math
import random

from synctune.policy import _check
from synctune.policy.backoff import Backoff
from synctune.policy.change_runs import ChangeRuns, binary_upper, changes_behind
from synctune.policy.estimators import ChangeRateEstimator, LatencyEstimator
from synctune.policy.staleness_model import longest_interval
from synctune.policy.strategy import Decision, FailureKind, SyncReport, SyncStrategy

_INF = math.inf
#: a long-poll pull that took at least this share of the hold was held by the primary (the
#: turso adapter tells an ignored long-poll by the same rule)
HELD_SHARE = 0.1
#: one under a tenth of that was not held, and tells how long a pull takes (those between
#: may have been held a little)
_QUICK_SHARE = 0.01


class Watcher(SyncStrategy):
    """Pull on a cadence that lets every subscribed replica keep ``freshness``.

    A commit that lands just after a watcher pull started is found by the next one, announced
    ``announce_delay`` seconds later, and pulled by a replica in ``lead`` seconds: so polls
    start at most ``freshness - (watcher pull + announce_delay + lead)`` seconds apart (not
    less than ``min_interval``), and every commit is visible at the replicas that read within
    D of landing.

    With ``stale_share`` it spends part of the fleet's stale-read budget where commits are
    rare: it polls at the longest interval (up to ``max_interval``) at which, at the change rate
    its pulls show (an upper estimate), reads spread over time would be older than D at most
    that share of the time; never more often than the strict cadence above. The replicas'
    reads then meet an SLO of "at most that share older than D" rather than "never".

    With ``long_poll`` the primary holds each pull until a commit lands (or
    ``long_poll_timeout`` passes): a pull that brought nothing is re-armed as soon as it
    returns, or a poll interval after it started if that is later; one that brought changes
    ``rearm_share`` of the poll interval after it started (the replicas need not hear of every
    commit of a burst at once: they pull once for it). An idle primary sees at most one request
    per ``long_poll_timeout`` (fewer where the stale share stretches the interval), a busy one
    one per ``rearm_share`` poll intervals, and a commit during a hold is announced as it
    lands.

    After each successful pull, :attr:`commit_floor` tells the driver what to announce: the
    earliest time the commits it brought can have landed (the start of the previous
    successful pull), ``None`` when it brought nothing or there was no earlier pull ("something
    may have changed"). A long-poll pull held by the primary (it took a tenth of the hold or
    more) found nothing when it arrived, so what it brought landed as the primary answered:
    its end less a quick pull's time (smoothed duration of the pulls under a hundredth of the
    hold, plus two deviations), and never before its own start (its start while no pull was
    that quick).

    Args:
        freshness: the fleet's target D, seconds (> 0).
        long_poll: the primary holds pulls until a commit lands.
        announce_delay: seconds (>= 0) allowed for an announcement to reach the replicas.
        lead: seconds (>= 0) a replica's pull needs; default ``None``: the watcher's own
            (smoothed pull duration plus two deviations), the replicas being alike.
        min_interval: shortest gap (s, > 0) between the starts of two pulls.
        long_poll_timeout: seconds (> 0) the primary holds a long-poll pull at most.
        stale_share: share (in [0, 1)) of reads the cadence may leave older than D where
            commits are rare; 0 keeps D for every commit.
        max_interval: longest poll interval (s) the stale share may lead to.
        rearm_share: share (in (0, 1]) of the poll interval a long-poll that brought
            changes waits before it is re-armed (counted from its start).
        backoff: retry delays after failures; default ``Backoff(base=1, cap=60)``.
        rng: random source for jitter.
        bool_pulls: read each pull as changed or not (the default), as pyturso and libsql
            report them, so the simulator's counted pulls drive the live decisions; False
            plans with the counts.
    """

    name = "watcher"

    def __init__(self, freshness: float, long_poll: bool = False, announce_delay: float = 0.005,
                 lead: float | None = None, min_interval: float = 0.5,
                 long_poll_timeout: float = 60.0, backoff: Backoff | None = None,
                 rng: random.Random | None = None, rearm_share: float = 1.0,
                 stale_share: float = 0.005, max_interval: float = 3600.0,
                 bool_pulls: bool = True) -> None:
        super().__init__(
            _check.instance_or("backoff", backoff, Backoff, lambda: Backoff(base=1.0, cap=60.0)),
            _check.instance_or("rng", rng, random.Random, random.Random))
        self._d = _check.real("freshness", freshness, minimum=0.0, strict=True)
        self._long_poll = _check.flag("long_poll", long_poll)
        self._delay = _check.real("announce_delay", announce_delay, minimum=0.0)
        self._lead = None if lead is None else _check.real("lead", lead, minimum=0.0)
        self._min_interval = _check.real("min_interval", min_interval, minimum=0.0, strict=True)
        self._hold = _check.real("long_poll_timeout", long_poll_timeout, minimum=0.0,
                                 strict=True)
        self._rearm = _check.real("rearm_share", rearm_share, minimum=0.0, strict=True,
                                  maximum=1.0)
        self._share = _check.real("stale_share", stale_share, minimum=0.0, maximum=1.0,
                                  strict_maximum=True)
        self._max_interval = _check.real("max_interval", max_interval, minimum=0.0, strict=True)
        self._changes = ChangeRateEstimator(half_life=6 * 3600.0)  # quiet nights count
        self._runs = ChangeRuns()  # a burst the last pull saw may go on into the next cycle
        self._bool_pulls = _check.flag("bool_pulls", bool_pulls)
        self._span = 0.0  # the last pull's span (s)
        self._planned = 0.0  # the stale share's interval (s), 0 until a pull shows the rate
        self._found = False  # the latest pull brought changes
        self._latency = LatencyEstimator(min_timeout=5.0)
        self._quick = LatencyEstimator(min_timeout=5.0)  # long-poll pulls that were not held
        self._per_byte = self._per_change = 0.0  # an answer's costs at most (s), from quick pulls
        self._last_start: float | None = None
        self._prev_ok_start: float | None = None
        self._floor: float | None = None
        self._last: Decision | None = None

    def _after_sync_started(self, now: float) -> None:
        self._last_start = now

    def _after_success(self, now: float, started: float, report: SyncReport) -> None:
        held = self._long_poll and report.duration >= HELD_SHARE * self._hold
        if not self._long_poll:
            self._latency.observe(report.duration)
        elif report.duration < _QUICK_SHARE * self._hold:
            self._quick.observe(report.duration)  # a held pull's says nothing of a pull's
            if report.pulled > 0 and report.nbytes > 0:
                # a quick pull's whole time, over its bytes and over its changes, bounds what a
                # byte (transfer) and a change (apply) of an answer cost from above
                per_byte, per_change = (report.duration / report.nbytes,
                                        report.duration / report.pulled)
                if per_byte > self._per_byte:
                    self._per_byte = per_byte
                if per_change > self._per_change:
                    self._per_change = per_change
        self._found = report.pulled > 0
        if self._prev_ok_start is not None and self._share > 0.0:
            span = self._span = started - self._prev_ok_start
            self._runs.observe(self._found, span)
            self._changes.observe(changes_behind(report.pulled, span, self._changes.rate,
                                                 self._bool_pulls), span)
            self._plan()
        floor = self._prev_ok_start if self._found else None
        if held and self._found:
            # nothing was there when it arrived: what it brought landed during the hold, as
            # the primary answered, less the answer's way back (a quick pull's time) and its
            # own transfer and apply (its bytes and changes at the dearest costs quick pulls
            # showed); with those unknown yet, no later than the pull's start
            quick = self._quick.conservative(2.0)
            back = _INF if quick is None or self._per_byte <= 0.0 else (
                quick + self._per_byte * report.nbytes + self._per_change * report.pulled)
            landed = started if now - back < started else now - back
            floor = landed if floor is None or landed > floor else floor
        self._floor = floor
        self._prev_ok_start = started

    def _after_failure(self, now: float, kind: FailureKind, duration: float) -> None:
        self._floor = None

    def _margin(self) -> float:
        """A commit's way to the replicas past a poll: this pull, the hint, their pull (s)."""
        own = self._latency.conservative(2.0) or 0.0
        return own + self._delay + (own if self._lead is None else self._lead)

    def _plan(self) -> None:
        strict = self._d - self._margin()
        if strict < self._min_interval:
            strict = self._min_interval
        top = self._max_interval if self._max_interval > strict else strict
        rate = self._changes.upper
        if self._bool_pulls:
            rate = binary_upper(self._changes.rate, rate, self._span)
        choice = longest_interval(rate, self._d, self._margin(), self._share, strict, top,
                                  self._runs.carried)
        self._planned = choice.interval

    @property
    def poll_interval(self) -> float:
        """Seconds between the starts of two polls (without long-poll)."""
        gap = self._d - self._margin()
        if gap < self._planned:
            gap = self._planned
        return gap if gap > self._min_interval else self._min_interval

    def _decide(self, now: float) -> Decision:
        last = self._last_start
        if last is None:
            due, reason = self._state.started_at or 0.0, "first pull"
        elif self._long_poll:
            end = self._state.last_attempt_end
            if end is None:
                end = last
            # a held pull costs one request per hold; past it, a quiet primary waits out the
            # poll interval as a polling watcher does (commits then wait for the next pull)
            wait = self.poll_interval * (self._rearm if self._found else 1.0)
            floor = last + (wait if wait > self._min_interval else self._min_interval)
            due, reason = (end if end > floor else floor), "re-arm the long-poll"
        else:
            due, reason = last + self.poll_interval, "poll so the fleet keeps D"
        if self._state.consecutive_failures and self._retry_at is not None:
            due, reason = self._retry_at, self._retry_reason
        prev = self._last
        if prev is None or prev.due != due or prev.reason != reason:
            self._last = prev = Decision(due, reason,
                                         None if self._long_poll else self.poll_interval)
        return prev

    def sync_timeout(self) -> float | None:
        t = self._latency.timeout()
        return (self._hold + (t if t is not None else 5.0)) if self._long_poll else t

    @property
    def commit_floor(self) -> float | None:
        """Earliest commit time (s) of what the latest successful pull brought, or ``None``."""
        return self._floor

    @property
    def long_poll(self) -> bool:
        """Whether the primary holds this watcher's pulls."""
        return self._long_poll

    @property
    def long_poll_timeout(self) -> float:
        """Seconds the primary holds a long-poll pull at most."""
        return self._hold

    @property
    def freshness_target(self) -> float | None:
        """The freshness target D (s) this strategy plans for."""
        return self._d

    @property
    def freshness(self) -> float:
        """The fleet's freshness target D (s)."""
        return self._d

    @property
    def interval_in_force(self) -> float | None:
        return None if self._long_poll else self.poll_interval

    def __repr__(self) -> str:
        return (f"Watcher(freshness={self._d:g}, long_poll={self._long_poll}, "
                f"announce_delay={self._delay:g}, min_interval={self._min_interval:g})")
