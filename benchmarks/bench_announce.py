"""Requests at the primary in an idle hour, against fleet size: replicas that poll vs replicas
that hear announcements (one watcher per primary).

Run: ``.venv/bin/python benchmarks/bench_announce.py [--sizes 1 10 100] [--freshness 30]``

Every replica reads (0.05 reads/s, each its own Poisson stream); nobody writes. The simulator
runs two hours and counts the attempts (successful or not) that start in the second one, so
the first hour's start-up (each replica's catch-up pull on connecting) is left out: the
steady state of an idle primary. Printed against the baseline measured in the same run: one
replica polling at D (``periodic:D``). ``announced`` must stay O(1) in fleet size: at most
about one replica polling at D with a polling watcher, one request per long-poll hold (60 s)
with a long-poll watcher.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from synctune.sim import NodeLoad, SimConfig, Workload, simulate

HOUR = 3600.0
READ_RATE = 0.05


def fleet(n: int, seed: int = 7) -> Workload:
    rng = np.random.default_rng(seed)
    nodes = {f"r{i}": NodeLoad(reads=np.sort(rng.uniform(0.0, 2 * HOUR,
                                                          rng.poisson(READ_RATE * 2 * HOUR))))
             for i in range(n)}
    return Workload(nodes, 2 * HOUR, np.empty(0))


def second_hour_requests(wl: Workload, strategy: str, d: float, **kw: object) -> int:
    """Attempts at the primary that start in the second hour (replicas' and watcher's)."""
    def run(duration: float, detail: bool) -> tuple[int, int]:
        cfg = SimConfig(strategy=strategy, freshness=d, seed=0, duration=duration,
                        detail=detail, **kw)  # type: ignore[arg-type]
        res = simulate(cfg, workload=wl)
        nodes = int((res.syncs["start"] >= HOUR).sum()) if detail else 0
        return nodes, res.summary.watcher_syncs

    nodes, watcher_two = run(2 * HOUR, True)
    _, watcher_one = run(HOUR, False)
    return nodes + watcher_two - watcher_one


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    ap.add_argument("--freshness", type=float, default=30.0)
    args = ap.parse_args()
    d = args.freshness
    began = time.perf_counter()
    base = second_hour_requests(fleet(1), f"periodic:{d:g}", d)
    print(f"primary requests in an idle hour (steady state), D = {d:g} s; baseline: one "
          f"replica polling at D = {base}")
    print(f"{'replicas':>8} {'periodic:D':>11} {'announced':>10} {'x base':>7} "
          f"{'long-poll':>10} {'x base':>7}")
    worst = 0.0
    for n in args.sizes:
        wl = fleet(n)
        poll = second_hour_requests(wl, f"periodic:{d:g}", d)
        ann = second_hour_requests(wl, "announced", d)
        held = second_hour_requests(wl, "announced", d, watcher_long_poll=True)
        worst = max(worst, ann / base)
        print(f"{n:>8} {poll:>11,} {ann:>10,} {ann / base:>7.3f} {held:>10,} "
              f"{held / base:>7.3f}")
    print(f"announced, polling watcher: at most {worst:.3f}x one replica polling at D "
          f"at every fleet size (O(1)); {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
