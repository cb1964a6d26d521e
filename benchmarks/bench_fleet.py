"""Fleet-scale simulation: time and memory against the number of nodes, shards on Dask.

Every run is the ``microservice`` scenario with the ``adaptive`` strategy (seed 0, no detail)
and runs in a fresh process, so its peak RSS is its own. Prints:

  * the machine's load (1-minute load average) before and after: the cores are shared, so
    wall times are compared only with baselines measured in the same run;
  * 100 nodes x 1 h (the baseline) and 1,000 nodes x 1 h in one process: wall time, peak RSS,
    and their ratios (goals: 1,000 nodes within 2 GiB and within 15x the 100-node time);
  * the per-node costs those two runs imply (a part per node, a part per node pair: each node
    measures the visibility of every other node's writes);
  * on a Dask LocalCluster: 1,000 nodes x ``--speedup-hours`` on 1 and on 2 workers,
    alternated ``--repeats`` times (the median speed-up: other work on the machine comes and
    goes), and 1,000 nodes x ``--dask-hours`` on 2 workers (wall time, peak RSS per worker);
  * a plan for 10,000 nodes x 1 h from the measured costs: events, memory per worker, and the
    wall time on N workers.

Usage: ``.venv/bin/python benchmarks/bench_fleet.py [--dask-hours 24] [--skip-dask]
[--skip-one-process] [--speedup-hours 0.25] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

from synctune.sim import SimConfig, simulate
from synctune.sim.cost import estimate

GIB = 2**30


def _config(nodes: int, hours: float) -> SimConfig:
    return SimConfig(scenario="microservice", nodes=nodes, duration=hours * 3600.0,
                     strategy="adaptive", seed=0, detail=False)


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _one_process(nodes: int, hours: float) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    res = simulate(_config(nodes, hours))
    return time.perf_counter() - t0, _peak_rss(), res.summary.reads


def measure(nodes: int, hours: float) -> tuple[float, int, int]:
    """Wall time (s), peak RSS (bytes) and reads of one run in a fresh process."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx) as pool:
        return pool.submit(_one_process, nodes, hours).result()


def on_dask(nodes: int, hours: float, workers: int) -> tuple[float, list[int], int]:
    """Wall time (s), each worker's peak RSS (bytes) and reads, sharded on a LocalCluster."""
    import logging

    from distributed import Client, LocalCluster

    from synctune.sim.shards import simulate_sharded

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR,
                      memory_limit=0) as cluster, Client(cluster) as client:
        t0 = time.perf_counter()
        res = simulate_sharded(_config(nodes, hours), client.get_executor(pure=False),
                               workers=workers)
        wall = time.perf_counter() - t0
        rss = sorted(client.run(_peak_rss).values())
    return wall, rss, res.summary.reads


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dask-hours", type=float, default=24.0,
                        help="simulated hours of the long 2-worker run")
    parser.add_argument("--skip-dask", action="store_true", help="one-process runs only")
    parser.add_argument("--skip-one-process", action="store_true",
                        help="Dask runs only (no per-node costs, no plan)")
    parser.add_argument("--speedup-hours", type=float, default=0.25,
                        help="simulated hours of the 1 vs 2 worker runs")
    parser.add_argument("--repeats", type=int, default=3, help="1 vs 2 worker pairs")
    args = parser.parse_args()
    print(f"before: {_load()}")
    if not args.skip_one_process:
        one_process(args)
    if not args.skip_dask:
        dask_runs(args)
    print(f"after: {_load()}")


def dask_runs(args: argparse.Namespace) -> None:
    """The 1 vs 2 worker speed-up (alternated, median) and the long 2-worker run."""
    h = args.speedup_hours
    ratios = []
    for _ in range(args.repeats):
        w1, _, _ = on_dask(1000, h, 1)
        w2, _, _ = on_dask(1000, h, 2)
        ratios.append(w1 / w2)
        print(f"Dask LocalCluster, 1,000 nodes x {h:g} h: 1 worker {w1:.1f} s, 2 workers "
              f"{w2:.1f} s (x{w1 / w2:.2f}); {_load()}")
    print(f"  speed-up of 2 workers over 1: median x{statistics.median(ratios):.2f} over "
          f"{len(ratios)} pairs")
    if args.dask_hours > 0:
        hl = args.dask_hours
        wl, rss_wl, reads_l = on_dask(1000, hl, 2)
        print(f"Dask LocalCluster, 1,000 nodes x {hl:g} h on 2 workers: {wl:.0f} s "
              f"({reads_l:,} reads), peak RSS per worker "
              f"{', '.join(f'{r / GIB:.2f}' for r in rss_wl)} GiB")


def one_process(args: argparse.Namespace) -> None:
    """100 and 1,000 nodes in one process each, the per-node costs and the 10,000-node plan."""
    t100, rss100, reads100 = measure(100, 1.0)
    print(f"100 nodes x 1 h, one process: {t100:.1f} s, peak RSS {rss100 / GIB:.2f} GiB, "
          f"{reads100:,} reads")
    t1k, rss1k, reads1k = measure(1000, 1.0)
    print(f"1,000 nodes x 1 h, one process: {t1k:.1f} s, peak RSS {rss1k / GIB:.2f} GiB, "
          f"{reads1k:,} reads")
    print(f"  ratio to 100 nodes: time x{t1k / t100:.1f} (goal <= 15), memory "
          f"x{rss1k / rss100:.1f}; peak {rss1k / GIB:.2f} GiB (goal <= 2)")

    # per node-hour: T(N) = N (a + b N) through both runs (b: the node pairs of visibility)
    b = (t1k / 1000 - t100 / 100) / 900
    a = t100 / 100 - b * 100
    print(f"  per node-hour: {a * 1000:.1f} ms + {b * 1e6:.2f} us per other node")

    # the 10,000-node plan, from the costs measured above
    n = 10_000
    cost = estimate(_config(n, 1.0))
    seconds = n * (a + b * n)
    # memory: the estimate's model (the log grows with nodes, reads are held a chunk at a
    # time), scaled by how it compared with the 1,000-node run measured above
    model_1k = estimate(_config(1000, 1.0)).memory_bytes
    memory = cost.memory_bytes * rss1k / model_1k
    print(f"  memory model at 1,000 nodes: {model_1k / GIB:.2f} GiB estimated, "
          f"{rss1k / GIB:.2f} GiB measured")
    print(f"plan, 10,000 nodes x 1 h: {cost.events:,} events ({cost.reads:,} reads, "
          f"{cost.writes:,} writes), {cost.visibility_pairs:,} visibility pairs; "
          f"about {memory / GIB:.1f} GiB per worker; one worker {seconds / 3600:.1f} h")
    for workers in (2, 8, 32, 128):
        print(f"  {workers:>3} workers: {seconds / workers / 60:,.0f} min "
              f"(nodes split evenly; every worker holds the whole commit log)")


if __name__ == "__main__":
    main()
