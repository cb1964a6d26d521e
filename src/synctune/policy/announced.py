"""Pull when a commit is announced; fall back to a tuner while the channel is down or silent."""

from __future__ import annotations

import math
import random

from synctune.policy import _check
from synctune.policy.backoff import Backoff
from synctune.policy.budgeted import Budgeted
from synctune.policy.channel_liveness import SILENT, ChannelLiveness
from synctune.policy.errors import InvalidInput, InvalidType
from synctune.policy.estimators import LatencyEstimator
from synctune.policy.strategy import Decision, FailureKind, SyncReport, SyncStrategy

_INF = math.inf
_GROW = 256.0  # the quiet spell's factor on a read known stale: back near idle_after at once
_IDLE = Decision(None, "channel alive, no announced commit to pull")
_HINT = "an announced commit turns D old: pull now"
_PUSH = "push local writes"
_WAIT = "a read knows an announced commit is older than D: pull now"
_RETRY = "retry the pull after backoff"


class Announced(ChannelLiveness):
    """Pull before an announced commit is ``freshness`` old; a tuner while hints cannot come.

    A hint (:meth:`on_announcement`) says the primary has a commit as of ``commit_time`` (the
    earliest it can have landed). The replica pulls when the oldest commit announced and not
    yet pulled turns ``freshness`` old, less ``lead`` seconds for the pull itself, so one pull
    covers a whole burst. A pull covers the hints that arrived before it started (their commits
    were on the primary by then); hints that arrive during a pull wait for the next one.

    * **No reads, no pulls**: a replica that has served no read (counted by ``on_read``, so
      learned as it runs), or none for a quiet spell, does not pull on hints; the hints are
      kept, and its next read makes the pull due at once (that read may be older than D,
      unless reads known stale wait: see below).
    * **The quiet spell spends a stale-read budget**: from ``idle_after``, tuned by the
      replica's reads so that about ``stale_share`` of them find an announced commit older
      than D unpulled: each such read multiplies it by 256 (up to ``idle_after``), each other
      shrinks it a little (to D after about 80 at the default share). Readers in sessions skip
      the pulls after them; a steady reader pulls at each deadline (deferring trades about one
      stale read per pull saved).
    * **What the replica has**: it holds every commit up to the start of its last successful
      pull (or a pull observed, read-your-writes), so a commit it does not have landed after
      that: a hint naming an earlier time counts from then (a late or doubled hint of a
      commit already pulled does not make a pull due at once).
    * **Floods**: hints may be lost, doubled, late, reordered or forged. A hint-driven pull
      starts no sooner than ``min_interval`` seconds after the previous attempt started, so a
      flood costs at most one pull per ``min_interval``. A commit time in the future counts as
      now; ``None`` ("something may have changed") makes one pull due at once.
    * **Channel down or silent**: the driver calls ``on_channel(now, True)`` on (re)connect and
      on every heartbeat. Before the first one, after ``on_channel(now, False)``, or when none
      came for ``heartbeat_timeout`` seconds, the decision is ``fallback``'s, which sees every
      event except hints throughout (so it keeps its rates and its schedule counts from the
      latest pull). On return the replica makes one catch-up pull.
    * **Pushes**: local writes are pushed at the latest ``max_unpushed_age`` seconds after the
      oldest unpushed one (a push is what makes a write's announcement possible).
    * **Read-wait backstop** (``max_read_wait`` > 0, or a fallback whose reads may wait): a read
      that arrives when an announced commit is older than ``freshness`` and not pulled (so the
      replica *knows* the read would be stale) waits up to that long for a pull that starts at
      once. While the channel is down, the fallback's own read wait applies.

    Args:
        freshness: target D, seconds (> 0).
        fallback: the strategy in force while hints cannot come; default ``Budgeted(freshness)``.
        min_interval: shortest gap (s, > 0) between the starts of an attempt and of a
            hint-driven pull.
        heartbeat_timeout: seconds (> 0) without ``on_channel(now, True)`` after which the
            channel counts as down.
        lead: seconds (>= 0) a pull needs before what it brings is visible; default ``None``:
            learned from the syncs (smoothed duration plus two deviations).
        max_unpushed_age: seconds (> 0) a local write may wait for a push; default D.
        idle_after: longest quiet spell (s, > 0): seconds without a read after which hints
            wait for the next read (which then pulls at once, or waits for the pull with
            ``max_read_wait``); default ``None``: ten times ``freshness``.
        stale_share: share of reads (0 <= x < 1) the quiet spell may leave older than D
            (known stale when they come); default 0.005, half the usual 1 % SLO, the rest a
            margin for lost hints and outages. 0 keeps the spell at ``idle_after``.
        max_read_wait: longest wait (s, >= 0) of a read known to be stale; default ``None``:
            the fallback's ``max_read_wait`` (0 for ``Budgeted``: reads never wait).
        backoff: retry delays after failed pulls; default ``Backoff(base=1, cap=60)``.
        rng: random source for jitter.
    """

    name = "announced"
    # some thirty fields, read on every event: past about thirty, an instance dict loses
    # CPython's fast attribute layout
    __slots__ = ("_d", "_fallback", "_fallback_syncs", "_fb_seen", "_fb_wrapped", "_floor",
                 "_hint_from", "_idle_after", "_known_stale", "_last_hint_at", "_last_read",
                 "_latency", "_lead", "_lead_s", "_max_wait", "_min_interval", "_own",
                 "_own_flight", "_pend", "_pend_flight", "_push_age", "_quiet", "_shrink",
                 "_vouch", "_wait_until", "_waiting")

    def __init__(self, freshness: float, fallback: SyncStrategy | None = None,
                 min_interval: float = 1.0, heartbeat_timeout: float = 15.0,
                 lead: float | None = None, max_unpushed_age: float | None = None,
                 max_read_wait: float | None = None, backoff: Backoff | None = None,
                 rng: random.Random | None = None, idle_after: float | None = None,
                 stale_share: float = 0.005) -> None:
        rng = _check.instance_or("rng", rng, random.Random, random.Random)
        super().__init__(
            _check.instance_or("backoff", backoff, Backoff, lambda: Backoff(base=1.0, cap=60.0)),
            rng)
        self._d = _check.real("freshness", freshness, minimum=0.0, strict=True)
        if fallback is not None and not isinstance(fallback, SyncStrategy):
            raise InvalidType(f"fallback must be a SyncStrategy or None, got {fallback!r}")
        self._fallback = fallback if fallback is not None else Budgeted(self._d, rng=rng)
        self._adopt(self._fallback)
        self._min_interval = _check.real("min_interval", min_interval, minimum=0.0, strict=True)
        self._liveness(heartbeat_timeout)
        self._lead = None if lead is None else _check.real("lead", lead, minimum=0.0)
        self._lead_s = 0.0 if self._lead is None else self._lead  # kept current: read per event
        self._push_age = (self._d if max_unpushed_age is None else _check.real(
            "max_unpushed_age", max_unpushed_age, minimum=0.0, strict=True))
        self._max_wait = (self._fallback.max_read_wait if max_read_wait is None
                          else _check.real("max_read_wait", max_read_wait, minimum=0.0))
        self._idle_after = 10.0 * self._d if idle_after is None else _check.real(
            "idle_after", idle_after, minimum=0.0, strict=True)
        self._budget(stale_share)
        self._last_read = -_INF
        self._latency = LatencyEstimator(min_timeout=5.0)
        # oldest commit announced and not pulled: of hints before the attempt in flight (or
        # with none in flight), and of hints that came during it (not covered by it)
        self._pend = _INF
        self._pend_flight = _INF
        self._vouch = -_INF  # the replica holds every commit up to this time (s)
        self._last_hint_at = -_INF  # when the latest hint arrived (s)
        self._own = self._own_flight = _INF  # oldest own delegated write not pulled: the same
        self._hint_from = -_INF  # a hint-driven pull starts no sooner than this
        self._waiting: float | None = None  # a read waits for a pull from this time
        self._wait_until = -_INF
        self._fb_seen: Decision | None = None
        self._fb_wrapped: Decision | None = None
        self._fallback_syncs = 0

    def _budget(self, stale_share: float) -> None:
        share = _check.real("stale_share", stale_share, minimum=0.0)
        if share >= 1.0:
            raise InvalidInput(f"stale_share must be below 1, got {stale_share!r}")
        # the quiet spell (s), from idle_after: x_GROW on a read known stale, x_shrink on any
        # other one, so that at equilibrium a share `stale_share` of reads are known stale
        self._quiet = self._idle_after
        self._shrink = _GROW ** (-share / (1.0 - share))
        self._floor = self._idle_after / _GROW ** 1.25  # a stale read or two restore it
        self._known_stale = 0

    # ------------------------------------------------------------------ events
    def _after_write(self, now: float, count: int, pushed: bool) -> None:
        super()._after_write(now, count, pushed)
        if pushed:
            # a delegated write is on the primary, not yet here (its announcement is not
            # for this replica): pull it as an announced commit, unless a pull observed
            # after it (read-your-writes) brings it first
            if self._state.in_flight_since is None:
                if now < self._own:
                    self._own = now
            elif now < self._own_flight:
                self._own_flight = now

    def _after_read(self, now: float, count: int) -> None:
        # per read: the combination's loop inlined
        self._fallback._after_read(now, count)  # the fallback re-deciding makes this re-decide
        pend = self._pend if self._pend < self._own else self._own
        if pend == _INF:  # nothing announced to pull: a fresh read, nothing deferred
            stale = False
        else:
            due = self._hint_due(pend)
            was = self._last_read == -_INF or due > self._last_read + self._quiet
            stale = now - pend > self._d and self._up and now <= self._alive_until
        if stale:
            self._known_stale += count
            q = self._quiet * _GROW ** (count if count < 8 else 8)
            self._quiet = q if q < self._idle_after else self._idle_after
        else:
            q = self._quiet * (self._shrink if count == 1 else self._shrink ** count)
            self._quiet = q if q > self._floor else self._floor
        self._last_read = now
        if pend != _INF and (was or due > now + self._quiet):
            self._redecide()  # hints count again, or no longer (the spell moved)

    def _hint_due(self, pend: float) -> float:
        """When a pull for the announced commit at ``pend`` (s) is due, floods aside."""
        due = pend + self._d - self._lead_s
        return due if due > self._hint_from else self._hint_from

    def _after_sync_started(self, now: float) -> None:
        super()._after_sync_started(now)
        if not self.live_at(now):
            self._fallback_syncs += 1
        self._hint_from = now + self._min_interval
        self._waiting = None  # this attempt answers the reads waiting so far

    def _after_success(self, now: float, started: float, report: SyncReport) -> None:
        self._latency.observe(report.duration)
        if self._lead is None:
            learned = self._latency.conservative(2.0)
            self._lead_s = 0.0 if learned is None else learned
        if started > self._vouch:
            self._vouch = started
        self._pend, self._pend_flight = self._pend_flight, _INF
        self._own, self._own_flight = self._own_flight, _INF
        super()._after_success(now, started, report)

    def _after_failure(self, now: float, kind: FailureKind, duration: float) -> None:
        self._pend = min(self._pend, self._pend_flight)
        self._own = min(self._own, self._own_flight)
        self._pend_flight = self._own_flight = _INF
        super()._after_failure(now, kind, duration)

    def _after_pull_observed(self, now: float, pulled: int, as_of: float | None) -> None:
        # the replica caught up with the primary as of `reached` (a read-your-writes pull
        # reaches the write's commit, not its acknowledgement): commits announced up to then
        # are here. A hint heard after `reached` may name a later commit, so what is pending
        # then counts from `reached` (never later than the truth).
        reached = now if as_of is None else as_of
        if self._last_hint_at > reached:
            if self._pend < _INF:
                self._pend = max(self._pend, reached)
            if self._pend_flight < _INF:
                self._pend_flight = max(self._pend_flight, reached)
        else:
            self._pend = self._pend_flight = _INF
        self._own = self._own_flight = _INF
        if reached > self._vouch:
            self._vouch = reached
        super()._after_pull_observed(now, pulled, as_of)

    def _after_announcement(self, now: float, commit_time: float | None) -> None:
        self._last_hint_at = now
        # None ("something may have changed"): a commit as old as D, so a pull is due now
        c = now - self._d if commit_time is None or commit_time != commit_time else (
            commit_time if commit_time < now else now)
        # a commit this replica does not have landed after what it has: a hint's time is the
        # earliest the commit can have landed, and the replica holds everything up to _vouch
        if c < self._vouch:
            c = self._vouch
        if self._state.in_flight_since is None:
            if c < self._pend:
                self._pend = c
                self._redecide()
        elif c < self._pend_flight:
            self._pend_flight = c
            self._redecide()

    def before_read(self, now: float) -> float:
        if not self.live_at(now):
            return self._fallback.before_read(now)
        self._tick("now", now)
        if (self._max_wait <= 0.0 or self._pend == _INF or now - self._pend <= self._d
                or self._state.in_flight_since is not None):
            return 0.0
        if self._waiting is None or self._wait_until <= now:
            self._waiting = now
            self._redecide()
        self._wait_until = now + self._max_wait
        return self._max_wait

    # ---------------------------------------------------------------- decision
    def _decide(self, now: float) -> Decision:
        fb = self._fallback.decide(now)
        if not (self._up and now <= self._alive_until):
            if fb is not self._fb_seen:
                self._fb_seen = fb
                self._fb_wrapped = Decision(fb.due, f"fallback: {fb.reason}", fb.interval)
            assert self._fb_wrapped is not None
            return self._fb_wrapped
        due, reason = _INF, _IDLE.reason
        pend = self._pend if self._pend < self._own else self._own
        if pend < _INF:
            due = self._hint_due(pend)
            reason = _HINT
            if self._last_read == -_INF or due > self._last_read + self._quiet:
                due, reason = _INF, _IDLE.reason  # no reads lately: the next one pulls
        if self._state.consecutive_failures and self._retry_at is not None and due < self._retry_at:
            due, reason = self._retry_at, _RETRY
        st = self._state  # the oldest unpushed write, from the record
        oldest = st.first_unpushed
        if oldest is None:
            oldest = st.first_since_start
        if oldest is not None and oldest + self._push_age < due:
            due, reason = oldest + self._push_age, _PUSH
        if self._waiting is not None and now < self._wait_until and self._waiting < due:
            due, reason = self._waiting, _WAIT
        # silence past the heartbeat hands over to the fallback then: plan for it now
        self._runner_up = due
        if fb.due is not None:
            silent = fb.due if fb.due > self._alive_until else self._alive_until
            if silent < due:
                due, reason = silent, SILENT
        if due == _INF:
            return _IDLE
        last = self._last
        if last is None or last.due != due or last._reason is not reason:
            self._last = last = Decision(due, reason)
        return last

    # ----------------------------------------------------------------- queries
    @property
    def lead(self) -> float:
        """Seconds (s) a pull is started before the announced commit turns D old."""
        return self._lead_s

    @property
    def fallback(self) -> SyncStrategy:
        """The strategy in force while the channel is down or silent."""
        return self._fallback

    @property
    def fallback_active(self) -> bool:
        """Whether the fallback decides, as of the latest event."""
        return not self.live_at(self._state.now)

    @property
    def pending_since(self) -> float | None:
        """Commit time (s) of the oldest announced commit not yet pulled, or ``None``."""
        p = min(self._pend, self._pend_flight, self._own, self._own_flight)
        return None if p == _INF else p

    @property
    def fallback_syncs(self) -> int:
        """Attempts started while the fallback decided (channel down or silent)."""
        return self._fallback_syncs

    @property
    def idle_after(self) -> float:
        """Longest quiet spell (s) without a read after which hints wait for the next one."""
        return self._idle_after

    @property
    def quiet_spell(self) -> float:
        """Seconds (s) without a read after which hints wait for the next read, as tuned by
        the stale-read budget (at most ``idle_after``)."""
        return self._quiet

    @property
    def known_stale_reads(self) -> int:
        """Reads that came while an announced commit older than D was not pulled."""
        return self._known_stale

    @property
    def freshness_target(self) -> float | None:
        """The freshness target D (s) this strategy plans for."""
        return self._d

    @property
    def freshness(self) -> float:
        """Freshness target D (s)."""
        return self._d

    @property
    def max_read_wait(self) -> float:
        return max(self._max_wait, self._fallback.max_read_wait)

    def sync_timeout(self) -> float | None:
        t = self._fallback.sync_timeout()
        return t if t is not None else self._latency.timeout()

    @property
    def interval_in_force(self) -> float | None:
        return self._fallback.interval_in_force if self.fallback_active else None

    def __repr__(self) -> str:
        return (f"Announced(freshness={self._d:g}, fallback={self._fallback!r}, min_interval="
                f"{self._min_interval:g}, heartbeat_timeout={self._heartbeat:g})")
