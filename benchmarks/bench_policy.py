"""Decision cost of the policy core: per observed write, per sync, and memory over many writes.

Run: ``.venv/bin/python benchmarks/bench_policy.py [--writes N] [--repeats R]``

Prints, for each strategy, the median cost of one observed write (``on_local_write`` then
``next_sync_due``, as a driver does), of one observed read (``on_read`` alone, and with
``next_sync_due``; and with ``before_read`` first, as a driver of bounded-staleness reads
asks), the median cost of a full decision after a sync
(``on_sync_started``, ``on_sync_finished``, ``next_sync_due``, with 30 reads in the minute
before each sync, and for ``budgeted`` also with none), both as ratios to ``Periodic``
measured in the same run, and the memory traced by ``tracemalloc`` before and after 1e5 and 1e6
writes (O(1): the difference does not grow with the number of writes).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable

from synctune.policy import (
    Adaptive,
    Announced,
    AnyOf,
    Budgeted,
    OnWrite,
    Periodic,
    ReadWait,
    SeedRule,
    SyncReport,
    SyncStrategy,
    Watcher,
)

BATCH = 1000  # writes per timed batch; the median over batches is reported
SYNC_EVERY = 5000  # writes between syncs while timing writes (keeps states realistic)


def factories() -> dict[str, Callable[[], SyncStrategy]]:
    return {
        "periodic": lambda: Periodic(60.0),
        "on-write": lambda: OnWrite(coalesce=1.0, rng=random.Random(1)),
        "seed-rule": lambda: SeedRule(45.0, rng=random.Random(1)),
        "adaptive": lambda: Adaptive(60.0, rng=random.Random(1)),
        "budgeted": lambda: Budgeted(60.0, rng=random.Random(1)),
    }


def _sync(s: SyncStrategy, t: float, pulled: int) -> float:
    s.on_sync_started(t)
    s.on_sync_finished(t + 0.25, SyncReport(0.25, pulled=pulled))
    return t + 0.25


def per_write_ns(make: Callable[[], SyncStrategy], writes: int) -> float:
    """Median ns of on_local_write + next_sync_due over batches of BATCH writes."""
    s = make()
    s.start(0.0)
    t = _sync(s, 0.0, 0)
    step = 0.001
    times = []
    perf = time.perf_counter_ns
    write, due = s.on_local_write, s.next_sync_due
    done = 0
    while done < writes:
        begin = perf()
        for _ in range(BATCH):
            t += step
            write(t)
            due(t)
        times.append((perf() - begin) / BATCH)
        done += BATCH
        if done % SYNC_EVERY == 0:
            t = _sync(s, t, 3)
    return statistics.median(times)


def per_read_ns(make: Callable[[], SyncStrategy], reads: int,
                decide: bool, ask: bool = False) -> float:
    """Median ns of on_read (and next_sync_due when ``decide``; with ``before_read`` first when
    ``ask``, as a driver of bounded-staleness reads does) over batches of BATCH reads; a sync
    every SYNC_EVERY reads, every read past the freshness target of the last one."""
    s = make()
    s.start(0.0)
    t = _sync(s, 0.0, 0)
    step = 0.02
    times = []
    perf = time.perf_counter_ns
    read, due, before = s.on_read, s.next_sync_due, s.before_read
    done = 0
    while done < reads:
        begin = perf()
        if ask:
            for _ in range(BATCH):
                t += step
                before(t)
                read(t)
                due(t)
        elif decide:
            for _ in range(BATCH):
                t += step
                read(t)
                due(t)
        else:
            for _ in range(BATCH):
                t += step
                read(t)
        times.append((perf() - begin) / BATCH)
        done += BATCH
        if done % SYNC_EVERY == 0:
            t = _sync(s, t, 1)
    return statistics.median(times)


def per_sync_us(make: Callable[[], SyncStrategy], syncs: int, reads: int = 30) -> float:
    """Median us of a full decision after a sync (start, finish with a report, next due).

    ``reads`` reads come in (untimed) over the minute before each sync: a read-aware
    strategy plans a cycle only for a replica that serves reads, so without them it would
    skip the work it does in an app.
    """
    s = make()
    s.start(0.0)
    rng = random.Random(2)
    t, times = 0.0, []
    perf = time.perf_counter_ns
    gap = 60.0 / (reads + 1)
    for _ in range(syncs):
        for _ in range(reads):
            t += gap
            s.on_read(t)
        t += gap
        report = SyncReport(rng.uniform(0.1, 0.5), pulled=rng.randrange(0, 20))
        begin = perf()
        s.on_sync_started(t)
        s.on_sync_finished(t + report.duration, report)
        s.next_sync_due(t + report.duration)
        times.append((perf() - begin) / 1000.0)
        t += report.duration
    return statistics.median(times)


def announcement_ns(make: Callable[[], SyncStrategy], events: int, kind: str) -> float:
    """Median ns of one announcement-channel event and ``next_sync_due``, as a driver calls
    them: ``kind`` ``hint`` (a commit announced, most of them within one burst), ``beat`` (a
    heartbeat) or ``read``; a pull whenever one is due (untimed)."""
    s = make()
    s.start(0.0)
    s.on_channel(0.0, True)
    s.on_read(0.0)
    t = _sync(s, 0.0, 0)
    rng = random.Random(5)
    times = []
    perf = time.perf_counter_ns
    hint, beat, read, due = s.on_announcement, s.on_channel, s.on_read, s.next_sync_due
    done = 0
    while done < events:
        begin = perf()
        for _ in range(BATCH):
            t += 0.01
            if kind == "hint":
                hint(t, t - rng.random())
            elif kind == "beat":
                beat(t, True)
            else:
                read(t)
            due(t)
        times.append((perf() - begin) / BATCH)
        done += BATCH
        d = s.next_sync_due(t)
        if d is not None and d <= t:
            t = _sync(s, t, 1)
        s.on_channel(t, True)
    return statistics.median(times)


def traced_bytes(make: Callable[[], SyncStrategy], writes: int) -> tuple[int, int]:
    """(bytes held after warm-up, growth after ``writes`` more writes with periodic syncs)."""
    gc.collect()
    tracemalloc.start()
    s = make()
    s.start(0.0)
    t = _sync(s, 0.0, 0)
    for _ in range(2 * SYNC_EVERY):  # warm-up: caches, first decisions
        t += 0.001
        s.on_local_write(t)
        s.next_sync_due(t)
    t = _sync(s, t, 3)
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(1, writes + 1):
        t += 0.001
        s.on_local_write(t)
        s.next_sync_due(t)
        if i % SYNC_EVERY == 0:
            t = _sync(s, t, 3)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return before, after - before


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--writes", type=int, default=200_000, help="writes per timing run")
    ap.add_argument("--syncs", type=int, default=20_000, help="syncs per timing run")
    ap.add_argument("--repeats", type=int, default=3, help="timing runs; the best is kept")
    ap.add_argument("--memory", type=int, nargs="+", default=[100_000, 1_000_000],
                    help="write counts for the memory check")
    args = ap.parse_args()
    makers = factories()

    write_ns = {n: min(per_write_ns(m, args.writes) for _ in range(args.repeats))
                for n, m in makers.items()}
    sync_us = {n: min(per_sync_us(m, args.syncs) for _ in range(args.repeats))
               for n, m in makers.items()}
    # the same without reads: a replica nobody reads plans no cycle
    idle_us = min(per_sync_us(makers["budgeted"], args.syncs, reads=0)
                  for _ in range(args.repeats))
    read_ns = {n: min(per_read_ns(m, args.writes, False) for _ in range(args.repeats))
               for n, m in makers.items()}
    read_due_ns = {n: min(per_read_ns(m, args.writes, True) for _ in range(args.repeats))
                   for n, m in makers.items()}
    base_w, base_s = write_ns["periodic"], sync_us["periodic"]
    print(f"decision cost (median; best of {args.repeats} runs)")
    print(f"{'strategy':<10} {'per write (us)':>15} {'x periodic':>11} "
          f"{'after sync (us)':>16} {'x periodic':>11}")
    for n in makers:
        print(f"{n:<10} {write_ns[n] / 1000:>15.3f} {write_ns[n] / base_w:>11.2f} "
              f"{sync_us[n]:>16.2f} {sync_us[n] / base_s:>11.2f}")
    goal = write_ns["adaptive"] / 1000
    print(f"adaptive per-write goal <= 5 us median: {'met' if goal <= 5 else 'MISSED'} "
          f"({goal:.3f} us)")
    base_r = read_ns["periodic"]
    print(f"\n{'strategy':<10} {'on_read (us)':>13} {'x periodic':>11} "
          f"{'+ next_sync_due (us)':>21}")
    for n in makers:
        print(f"{n:<10} {read_ns[n] / 1000:>13.3f} {read_ns[n] / base_r:>11.2f} "
              f"{read_due_ns[n] / 1000:>21.3f}")
    r = read_ns["budgeted"] / 1000
    print(f"budgeted per-read goal <= 1 us median: {'met' if r <= 1 else 'MISSED'} ({r:.3f} us)")
    worst = max(write_ns["budgeted"] / 1000, read_due_ns["budgeted"] / 1000,
                sync_us["budgeted"])
    print(f"budgeted per-event goal (write, read, sync) <= 5 us median: "
          f"{'met' if worst <= 5 else 'MISSED'} (worst {worst:.3f} us)")
    print(f"budgeted after a sync at a replica with no reads: {idle_us:.2f} us")

    waiting = {"periodic": lambda: Periodic(60.0),
               "budgeted": lambda: Budgeted(60.0, rng=random.Random(1)),
               "budgeted+read-wait": lambda: AnyOf(Budgeted(60.0, rng=random.Random(1)),
                                                   ReadWait(60.0, 1.0, rng=random.Random(1)))}
    wait_ns = {n: min(per_read_ns(m, args.writes, True, ask=True) for _ in range(args.repeats))
               for n, m in waiting.items()}
    print(f"\n{'strategy':<19} {'before_read + on_read + next_sync_due (us)':>43} "
          f"{'x periodic':>11}")
    for n in waiting:
        print(f"{n:<19} {wait_ns[n] / 1000:>43.3f} {wait_ns[n] / wait_ns['periodic']:>11.2f}")
    rw = wait_ns["budgeted+read-wait"] / 1000
    print(f"read-wait per-read goal <= 5 us median: {'met' if rw <= 5 else 'MISSED'} "
          f"({rw:.3f} us)")

    announcing = {
        "announced": lambda: Announced(60.0, rng=random.Random(1)),
        "watcher": lambda: Watcher(60.0, rng=random.Random(1)),
    }
    print(f"\n{'strategy':<10} {'event + next_sync_due (us)':>27} {'hint':>7} {'beat':>7} "
          f"{'read':>7} {'after sync (us)':>16}")
    worst_hint = 0.0
    for n, m in announcing.items():
        cost = {k: min(announcement_ns(m, args.writes, k) for _ in range(args.repeats)) / 1000
                for k in ("hint", "beat", "read")}
        after = min(per_sync_us(m, args.syncs) for _ in range(args.repeats))
        print(f"{n:<10} {'':>27} {cost['hint']:>7.3f} {cost['beat']:>7.3f} "
              f"{cost['read']:>7.3f} {after:>16.2f}")
        if n == "announced":
            worst_hint = max(cost.values())
    print(f"announced per-event goal (hint, heartbeat, read) <= 1 us median: "
          f"{'met' if worst_hint <= 1 else 'MISSED'} (worst {worst_hint:.3f} us)")

    print("\nmemory traced by tracemalloc (bytes): held after warm-up, growth after N writes")
    print(f"{'strategy':<10} {'N writes':>10} {'held':>8} {'growth':>8}")
    for n in ("periodic", "adaptive", "seed-rule", "budgeted"):
        for count in args.memory:
            held, growth = traced_bytes(makers[n], count)
            print(f"{n:<10} {count:>10} {held:>8} {growth:>8}")


if __name__ == "__main__":
    main()
