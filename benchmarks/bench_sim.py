"""Simulator speed, as ratios against bare SimPy measured in the same process.

Prints:
  * bare SimPy: timeout events per second (one process yielding ``env.timeout``);
  * the simulator: workload operations (reads, writes, sync points) simulated per second on the
    ``web`` scenario, and its ratio to the bare SimPy event rate (goal >= 2: reads are evaluated
    vectorised, never one event each);
  * wall time of the 24 h ``web`` scenario for five strategies (goal <= 30 s on 2 cores).

Usage: ``.venv/bin/python benchmarks/bench_sim.py [--hours H]`` (default 24).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import simpy

from synctune.sim import SimConfig, build_workload, simulate

STRATEGIES = ("periodic:60", "on-write", "periodic:60+on-write", "seed-rule", "adaptive")


def bare_simpy_rate(events: int = 500_000) -> float:
    """Timeout events per second for a bare SimPy process."""
    env = simpy.Environment()

    def proc(env: simpy.Environment):
        for _ in range(events):
            yield env.timeout(1.0)

    env.process(proc(env))
    t0 = time.perf_counter()
    env.run()
    return events / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours of web")
    args = parser.parse_args()
    duration = args.hours * 3600.0

    # the machine's speed drifts (shared cores): measure bare SimPy next to each strategy and
    # compare each with the baseline measured beside it
    bare_first = max(bare_simpy_rate() for _ in range(3))
    print(f"bare SimPy: {bare_first:,.0f} timeout events/s")

    cfg = SimConfig(scenario="web", duration=duration, detail=False)
    t0 = time.perf_counter()
    workload = build_workload(cfg)
    t_workload = time.perf_counter() - t0
    ops = workload.operations
    print(f"web workload, {args.hours:g} h: {ops:,} operations, built in {t_workload:.2f} s")

    total = t_workload
    ratios, bares = [], []
    for spec in STRATEGIES:
        bare = max(bare_simpy_rate(200_000) for _ in range(2))
        t0 = time.perf_counter()
        res = simulate(dataclasses.replace(cfg, strategy=spec), workload=workload)
        wall = time.perf_counter() - t0
        total += wall
        bares.append(bare)
        ratios.append(ops / wall / bare)
        print(f"  {spec:<22} {wall:6.2f} s  {ops / wall:>12,.0f} ops/s  "
              f"(x{ops / wall / bare:.1f} bare SimPy at {bare:,.0f}/s)  "
              f"syncs={res.summary['syncs']:,}  oracle={res.summary['oracle_syncs']:,}")
    sim_wall = total - t_workload
    overall = ops * len(STRATEGIES) / sim_wall
    bare_mean = statistics.fmean(bares)
    print(f"all five: {overall:,.0f} simulated ops/s = x{overall / bare_mean:.1f} the bare SimPy "
          f"event rate measured beside them (goal >= 2); slowest strategy x{min(ratios):.1f}")
    print(f"wall time, web {args.hours:g} h, {len(STRATEGIES)} strategies (workload built once): "
          f"{total:.1f} s (goal <= 30 s for 24 h)")

if __name__ == "__main__":
    main()
