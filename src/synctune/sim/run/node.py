"""One replica node as a SimPy process: feeds its strategy the app's events and runs its syncs.

App events (writes, manual sync points, cold starts, batches of reads) are delivered to the
strategy in time order without a SimPy event each: they only touch this node's state, so the
process hands them over inline and yields to the simulated clock only for sync phases, where
nodes meet at the primary. What each read saw is evaluated afterwards against the replica
timeline; the strategy only learns when reads happened, except that a strategy that can make
reads wait (bounded-staleness reads) is asked before each read, one read per event (the reads
are still counted in batches), and the reads it holds are recorded with their longest wait.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator

import numpy as np
import simpy

from synctune.policy.driver import SyncDriver
from synctune.policy.strategy import FailureKind, SyncReport, SyncStrategy
from synctune.sim.elaborate.network import Link
from synctune.sim.elaborate.primary import PrimaryLog
from synctune.sim.run.sync_row import SyncRow

WRITE, REQUEST, COLD, READ = 0, 1, 2, 3
_INF = math.inf
# guard against a strategy that asks for syncs forever without time passing
_MAX_INSTANT_SYNCS = 10_000


class ReplicaNode:
    """Drives one strategy over one node's events; records syncs and the replica timeline.

    Args:
        env: the SimPy environment (its clock is the simulated time, s).
        index: node number (its writes carry it as origin in the commit log).
        strategy: a fresh strategy object for this node.
        link: the node's network path.
        log: the shared primary commit log.
        events: ``(times, kinds, refs)``: sorted app-event times, kinds (``WRITE``, ``REQUEST``,
            ``COLD``, ``READ``) and, for writes, the write's index, for reads their count (for
            a strategy that can make reads wait: one read per event, the ref its index).
        end: no sync starts after this time (s), one may start at it (the run covers
            ``[0, end]``); ``events`` hold only what the app did up to it, and every one of
            them is handled, even past it (a write's acknowledgement and read-your-writes pull
            land after the write).
        local_first: writes commit locally and are pushed by syncs; otherwise delegated.
        write_bytes: sizes of this node's writes (local-first pushes send them).
        ryw_reach: for delegated writes with read-your-writes, what the write's pull reaches
            (the write's primary commit time); ``None`` otherwise.
        timeout: sync deadline (s) when the strategy sets none.
        overhead: protocol bytes per sync.
        apply_s: seconds to apply one pulled change.
        base_bytes: replica size at start (a cold start pulls it again).
        interval_check: after writes and successful syncs, the interval in force is re-read
            at most this often (s); after failures and requests always.
        read_batch: for a strategy asked before each read, reads are still counted
            (``on_read``) in batches of at most this span (s), as batched reads are; 0
            counts each read as it happens (as the live controller does).
    """

    def __init__(self, env: simpy.Environment, index: int, strategy: SyncStrategy, link: Link,
                 log: PrimaryLog, events: tuple[list[float], list[int], list[int]], end: float,
                 *, local_first: bool, write_bytes: np.ndarray, ryw_reach: np.ndarray | None,
                 timeout: float, overhead: int, apply_s: float, base_bytes: int,
                 interval_check: float = 1.0, read_batch: float = 1.0) -> None:
        self.env, self.index, self.strategy, self.link, self.log = env, index, strategy, link, log
        #: the step every driver takes (the live controller's too): only the clock differs
        self.driver = SyncDriver(strategy, timeout)
        self._ev_t, self._ev_k, self._ev_j = events
        self._n = len(self._ev_t)
        self._i = 0
        self.end = end
        self.local_first = local_first
        self._wb = write_bytes.tolist()
        self._ryw = ryw_reach.tolist() if ryw_reach is not None else None
        self._overhead, self._apply_s = overhead, apply_s
        self._base = base_bytes
        # replica state
        # the replica starts with the primary as it was before t = 0: whatever commits at
        # t >= 0 (a primary write or another node's push) is visible only once pulled
        self.reach = -_INF
        self._told = 0.0
        self._cold = False
        # local-first: writes [pushed, written) are committed locally and not yet pushed
        self._written = 0
        self._pushed = 0
        self.push_commit = np.full(write_bytes.size, np.nan) if local_first else None
        self.unsynced_max = 0
        # records
        self.vis_t: list[float] = [0.0]
        self.vis_reach: list[float] = [-_INF]
        self.syncs: list[SyncRow] = []
        self.ryw_t: list[float] = []
        self.ryw_reach: list[float] = []
        self.cold_starts = 0
        # reads held for a pull (bounded-staleness reads): their index and longest wait (s)
        self._asks = strategy.max_read_wait > 0.0
        self.held: list[int] = []
        self.held_for: list[float] = []
        # reads asked about but not yet counted: how many, the last one's time and batch slot
        self._batch = read_batch
        self._pend, self._pend_t, self._pend_slot = 0, 0.0, -1.0
        self.intervals: list[tuple[float, float | None]] = []
        #: called as ``on_push(index, landed, sync_start)`` after each push lands (s)
        self.on_push: Callable[[int, float, float], None] | None = None
        # syncs started back to back at one instant (a strategy stuck on a past due time)
        self._instant, self._last_start = 0, -1.0
        self._interval: object = object()
        self._iv_step = interval_check
        self._iv_next = 0.0

    @property
    def unsynced_end(self) -> int:
        """Local-first writes committed here and not pushed (so far; at the end, at risk)."""
        return self._written - self._pushed

    # ------------------------------------------------------------------ process
    def run(self) -> Generator[simpy.events.Event, object, None]:
        """The SimPy process."""
        env, driver = self.env, self.driver
        next_due, handle = driver.next_due, self._handle
        ev_t, n = self._ev_t, self._n
        driver.start(0.0)
        self._note_interval(0.0)
        now, end, i = 0.0, self.end, 0
        local_first = self.local_first
        while True:
            due = next_due(now)
            t_ev = ev_t[i] if i < n else _INF
            # the run is [0, end]: a read at the end may still get its pull, and no attempt
            # starts after the end (test the actual start: a due time can lie in the past)
            start = _INF if due is None else (due if due > now else now)
            if due is not None and due < t_ev and start <= end:
                # delegated syncs meet no one at the primary (its log is known in advance):
                # the clock jumps straight to their end, one SimPy event per sync
                if local_first and start > env.now:
                    yield env.timeout(start - env.now)
                i = yield from self._attempt(start, i)
                # the sync's outcome time as told to the strategy (env.now may differ in the
                # last bit after float arithmetic)
                now = self._told
                continue
            if i >= n:
                break
            now = t_ev
            handle(i, now)
            i += 1
        if self._pend:
            self._count_reads()

    # ------------------------------------------------------------------ events
    def _handle(self, i: int, t: float) -> None:
        kind, d = self._ev_k[i], self.driver
        if kind == READ:
            if self._asks:
                if not self._batch:  # each read counted as it happens, as the live side does
                    self._ask(i, t)
                    d.read(t, 1)
                    return
                # counted in batches, as batched reads are: rates do not need every read
                slot = t // self._batch
                if self._pend and slot != self._pend_slot:
                    self._count_reads()
                self._ask(i, t)
                self._pend += 1
                self._pend_t, self._pend_slot = t, slot
                return
            d.read(t, self._ev_j[i])
            return
        if self._pend:
            self._count_reads()
        if kind == WRITE:
            # delegated writes are already on the primary: seen, but not data at risk
            d.write(t, 1, not self.local_first)
            if self.local_first:
                self._written += 1
                backlog = self._written - self._pushed
                if backlog > self.unsynced_max:
                    self.unsynced_max = backlog
            elif self._ryw is not None:
                # libSQL read-your-writes: after the write, pull up to its frame (bytes are
                # counted afterwards from the timeline)
                upto = self._ryw[self._ev_j[i]]
                if upto > self.reach:
                    # the pull reached the write's commit, before the acknowledgement
                    d.pull_observed(t, self.log.count_between(self.reach, upto), upto)
                    self.reach = upto
                self.ryw_t.append(t)
                self.ryw_reach.append(upto)
            if t >= self._iv_next:
                self._note_interval(t)
            return
        if kind == REQUEST:
            d.request(t)
        else:
            self._cold = True
            self.cold_starts += 1
            d.request(t)
        self._note_interval(t)

    def _ask(self, i: int, t: float) -> None:
        """Ask before read ``i`` at ``t`` whether it waits; record it when it does."""
        wait = self.driver.before_read(t)
        if wait > 0.0:
            self.held.append(self._ev_j[i])
            self.held_for.append(wait)

    def _count_reads(self) -> None:
        """Tell the strategy about the reads asked about since the last count."""
        self.driver.read(self._pend_t, self._pend)
        self._pend = 0

    def _note_interval(self, t: float) -> None:
        # writes and successful syncs re-check at most every interval_check seconds
        self._iv_next = t + self._iv_step
        iv = self.strategy.interval_in_force
        if iv != self._interval:
            self._interval = iv
            self.intervals.append((t, iv))

    def _advance(self, t: float) -> Generator[simpy.events.Event, object, None]:
        # hand over the app events before t, then let the clock reach t
        ev_t, n, i = self._ev_t, self._n, self._i
        while i < n and ev_t[i] < t:
            self._handle(i, ev_t[i])
            i += 1
        self._i = i
        if t > self.env.now:
            yield self.env.timeout(t - self.env.now)

    # -------------------------------------------------------------------- sync
    def _attempt(self, start: float, i: int) -> Generator[simpy.events.Event, object, int]:
        """Run the sync that starts at ``start`` (s) with the app's events before ``i`` handed
        over; returns the index of the next app event. Refuses a strategy that keeps asking
        for syncs without time passing."""
        self._instant = self._instant + 1 if start == self._last_start else 0
        if self._instant > _MAX_INSTANT_SYNCS:
            raise RuntimeError(f"strategy {self.strategy!r} keeps asking for a sync at "
                               f"t={start:g} without time passing")
        self._last_start = start
        self._i = i
        if self._pend:
            self._count_reads()
        yield from self._sync(start)
        return self._i

    def _sync(self, start: float) -> Generator[simpy.events.Event, object, None]:
        link = self.link
        deadline = start + self.driver.begin(start)
        rtt, fault = link.attempt()
        one = rtt / 2.0
        if link.down(start):
            # packets go nowhere: the attempt waits for its deadline
            yield from self._advance(deadline)
            return self._failed(start, deadline, FailureKind.TIMEOUT, 0)
        if fault is not None:
            broke = start + fault * rtt
            yield from self._advance(broke)
            return self._failed(start, broke, FailureKind.NETWORK, 0)
        if not self.local_first:
            # delegated: the log is known in advance, so the pull needs no meeting point
            return (yield from self._pull(start, deadline, one, start + one, 0, 0))
        pushed_to = yield from self._push(start, deadline, one)
        if pushed_to is None:
            return None
        reach, pushed, push_bytes = pushed_to
        return (yield from self._pull(start, deadline, one, reach, pushed, push_bytes))

    def _push(self, start: float, deadline: float, one: float
              ) -> Generator[simpy.events.Event, object, tuple[float, int, int] | None]:
        """Local-first: push the backlog, then meet the other nodes at the primary; returns
        what the pull will reach with what was pushed, or ``None`` when the attempt failed."""
        t, pushed, push_bytes, link = start, 0, 0, self.link
        if self._written > self._pushed:
            a, b = self._pushed, self._written
            push_bytes = sum(self._wb[a:b]) + self._overhead
            arrive = t + one + link.transfer(push_bytes)
            if arrive > deadline:
                yield from self._advance(deadline)
                self._failed(start, deadline, FailureKind.TIMEOUT, 0)
                return None
            yield from self._advance(arrive)
            self.log.push(arrive, b - a, push_bytes - self._overhead)
            self.push_commit[a:b] = arrive  # type: ignore[index]
            if self.on_push is not None:
                self.on_push(self.index, arrive, start)
            self._pushed, pushed = b, b - a
            t = arrive + one
        reach = t + one
        if reach > deadline:
            yield from self._advance(deadline)
            self._failed(start, deadline, FailureKind.TIMEOUT, push_bytes, pushed)
            return None
        # other nodes push: meet them at the primary, after pushes landing this instant
        yield from self._advance(reach)
        yield self.env.timeout(0)
        return reach, pushed, push_bytes

    def _pull(self, start: float, deadline: float, one: float, reach: float, pushed: int,
              push_bytes: int) -> Generator[simpy.events.Event, object, None]:
        """Pull what the primary holds up to ``reach``, apply it, and report the sync."""
        count, nbytes = self.log.between(self.reach, reach)
        if self._cold:
            nbytes = self._base + self.log.bytes_upto(reach)
        pull_bytes = nbytes + self._overhead
        apply = count * self._apply_s
        done = reach + one + self.link.transfer(pull_bytes) + apply
        if done > deadline:
            yield from self._advance(deadline)
            return self._failed(start, deadline, FailureKind.TIMEOUT, push_bytes, pushed)
        # inline _advance(done): this path runs once per sync
        ev_t, n, i, handle = self._ev_t, self._n, self._i, self._handle
        while i < n and ev_t[i] < done:
            handle(i, ev_t[i])
            i += 1
        self._i = i
        env = self.env
        if done > env.now:
            yield env.timeout(done - env.now)
        self._cold = False
        if reach > self.reach:
            self.reach = reach
        self.vis_t.append(done)
        self.vis_reach.append(reach)
        total = push_bytes + pull_bytes
        self.syncs.append(SyncRow(start, done, True, "", count, pushed, total, reach, done - apply))
        self._told = done
        if self._pend:
            self._count_reads()
        self.driver.finished(done, SyncReport(done - start, count, pushed, total))
        if done >= self._iv_next:
            self._note_interval(done)
        return None

    def _failed(self, start: float, now: float, kind: FailureKind, nbytes: int,
                pushed: int = 0) -> None:
        # a push that landed before the attempt failed stays committed: it is counted
        self._told = now
        self.syncs.append(SyncRow(start, now, False, kind.value, 0, pushed, nbytes, math.nan,
                                  math.nan))
        if self._pend:
            self._count_reads()
        self.driver.failed(now, kind, now - start)
        self._note_interval(now)
