"""Bounded-staleness reads: a read the replica cannot vouch for waits, briefly, for a pull."""

from __future__ import annotations

import math
import random

from synctune.policy import _check
from synctune.policy.backoff import Backoff
from synctune.policy.strategy import Decision, FailureKind, SyncReport, SyncStrategy

_INF = math.inf
_IDLE = Decision(None, "no read waiting for fresh data")
_REASON = "a read waits for fresh data"


class ReadWait(SyncStrategy):
    """Pull on demand: a read that would be older than ``freshness`` waits for a fresh pull.

    The replica vouches for the primary's data only as of the *start* of its last successful
    sync (or as of what a pull observed at ``on_pull_observed`` reached: for a read-your-writes
    pull, the write's commit). A read arriving more than ``freshness`` seconds after that
    would be older than the target: :meth:`before_read` makes a sync due at once and tells
    the driver to hold the read, at most ``max_wait`` seconds, for a sync that starts at or
    after the read. That sync's data is at least as new
    as the read, so a read served within its wait is never older than the sync's duration.

    The first attempt started at or after a waiting read answers it, whether it succeeds or
    fails (as an app's ``sync()`` call returns or raises); reads that arrive while an attempt
    is in flight wait for the next one. A read does not wait when no sync can start in time:
    while a retry after failures is due only after the read's wait would end, or while the
    attempt in flight has already run longer than ``max_wait`` (a hung primary), it runs at
    once on what the replica has. A failed attempt is retried after a jittered ``backoff``
    only while a read still waits.

    Alone it pulls only when reads need it (and never pushes on its own); combine it with a
    schedule that pushes local writes, e.g. ``Budgeted(D) | ReadWait(D, 1.0)``. Off by
    default: no other strategy makes reads wait.

    Args:
        freshness: the freshness target D, seconds (> 0).
        max_wait: longest a read waits for a pull, seconds (> 0).
        backoff: retry delays after failures; default ``Backoff(base=1, cap=60)``.
        rng: random source for jitter.
    """

    name = "read-wait"

    def __init__(self, freshness: float, max_wait: float, backoff: Backoff | None = None,
                 rng: random.Random | None = None) -> None:
        super().__init__(
            _check.instance_or("backoff", backoff, Backoff, lambda: Backoff(base=1.0, cap=60.0)),
            _check.instance_or("rng", rng, random.Random, random.Random))
        self._freshness = _check.real("freshness", freshness, minimum=0.0, strict=True)
        self._max_wait = _check.real("max_read_wait", max_wait, minimum=0.0, strict=True)
        # the replica's data is the primary's as of _vouch (unknown until the first pull)
        self._vouch = -_INF
        self._waiting: float | None = None  # oldest waiting read no attempt has started for
        self._waiting_next: float | None = None  # first one that came during an attempt
        self._wait_until = -_INF  # when the last waiting read stops waiting
        self._due: Decision | None = None

    @property
    def freshness_target(self) -> float | None:
        """The freshness target D (s) this strategy plans for."""
        return self._freshness

    @property
    def freshness(self) -> float:
        """The freshness target D (s)."""
        return self._freshness

    @property
    def max_read_wait(self) -> float:
        return self._max_wait

    @property
    def vouched(self) -> float:
        """Time (s) as of which the replica holds the primary's data (-inf before a pull)."""
        return self._vouch

    def before_read(self, now: float) -> float:
        # per read: the tick's fast path inlined; a fresh replica costs two compares
        if now.__class__ is not float or not (self._state.now <= now < _INF):
            self._tick_slow("now", now)
        else:
            self._state.now = now
        if now - self._vouch <= self._freshness:
            return 0.0
        wait = self._max_wait
        flight = self._state.in_flight_since
        if flight is not None:
            if flight < now:
                if now - flight > wait:
                    return 0.0  # the attempt in flight looks hung: nothing new can start
                if self._waiting_next is None or self._wait_until <= now:
                    self._waiting_next = now
            # else it started this very instant: it serves the read
        else:
            retry = self._retry_at
            if retry is not None and retry >= now + wait:
                return 0.0  # backing off after failures: no attempt before the wait ends
            if self._waiting is None or self._wait_until <= now:  # none, or all gave up
                self._waiting = now
                self._redecide()
        self._wait_until = now + wait
        return wait

    def _after_sync_started(self, now: float) -> None:
        self._waiting = None  # this attempt answers the reads waiting so far

    def _after_success(self, now: float, started: float, report: SyncReport) -> None:
        if started > self._vouch:
            self._vouch = started
        self._waiting, self._waiting_next = self._waiting_next, None

    def _after_failure(self, now: float, kind: FailureKind, duration: float) -> None:
        self._waiting, self._waiting_next = self._waiting_next, None

    def _after_pull_observed(self, now: float, pulled: int, as_of: float | None) -> None:
        # a read-your-writes pull brings the replica up to the write's commit, not to the
        # acknowledgement: vouch for what the pull reached
        reached = now if as_of is None else as_of
        if reached > self._vouch:
            self._vouch = reached

    def _decide(self, now: float) -> Decision:
        due = self._waiting
        if due is None or now >= self._wait_until:
            return _IDLE
        retry = self._retry_at
        if retry is not None and retry > due:
            due = retry
        if due >= self._wait_until:
            return _IDLE  # every waiting read stops waiting before a sync could start
        last = self._due
        if last is None or last.due != due:
            self._due = last = Decision(due, _REASON)
        return last

    def __repr__(self) -> str:
        return f"ReadWait(freshness={self._freshness:g}, max_wait={self._max_wait:g})"
