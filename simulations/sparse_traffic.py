"""The sparse family: readers with a daily cycle, sparse commits, writers that rarely read.

    .venv/bin/python simulations/sparse_traffic.py                      # 6 seeds x 2 D, ~6 min
    .venv/bin/python simulations/sparse_traffic.py --seeds 1 --days 1 --out /tmp/sp

Each trace (seeded: same seed, same workload) lasts ``--days`` days in real time:

* four reader nodes ``reader-1..4``, each reading at 0.01 reads/s at night rising to 0.4 in
  the afternoon (a Gaussian bump centred on 15:00, 3 h wide);
* sparse commits, on working days only: a few work sessions a day between 09:00 and 19:00
  (Poisson, 4 a day on average), each a burst of a few commits (geometric, mean 3) minutes
  apart (exponential, mean 4 min); 70 % are made at three writer nodes ``writer-1..3``
  (delegated writes), the rest directly on the primary;
* the writers read rarely: about one read an hour during the working day.

For each trace and freshness target D, at the read SLO (at most 1 % of reads older than D):
the longest fixed interval meeting it on that very run (found in hindsight), ``budgeted``
with its own budget per replica and with one pooled budget, ``budgeted+read-wait:1`` (reads
that would be older than D wait for a pull), and the oracle. Syncs over all nodes and at the
nodes that read (here every node reads), the share of reads older than D, the share of the
stale-read budget spent, the share of reads held and their wait p50/p99, and the gap closed
from the best fixed interval to the oracle. Writes ``sparse_traffic.md`` and ``.csv``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from real_traffic import POOLED, gap_closed, run

from synctune.sim import SimConfig, best_fixed_interval, simulate
from synctune.sim.elaborate import generators as gen
from synctune.sim.elaborate.workload import NodeLoad, Workload

ROOT = Path(__file__).resolve().parent
SEED = 20261204
DAY = 86_400.0
TARGET_SHARE = 0.01
READERS, WRITERS = 4, 3
NIGHT_READS, PEAK_READS = 0.01, 0.4  # reads/s per reader
STRATEGIES = ("budgeted", POOLED, "budgeted+read-wait:1")


def read_rate(t: np.ndarray) -> np.ndarray:
    """Reads/s of one reader at ``t`` s from midnight of day 0: night to afternoon peak."""
    hour = (t % DAY) / 3600.0
    return NIGHT_READS + (PEAK_READS - NIGHT_READS) * np.exp(-0.5 * ((hour - 15.0) / 3.0) ** 2)


def _commits(days: int, rng: np.random.Generator) -> np.ndarray:
    """Work sessions of a few commits each, 09:00-19:00 on working days (day 0 a Monday)."""
    out = []
    for day in range(days):
        if day % 7 >= 5:
            continue
        for start in rng.uniform(9 * 3600.0, 19 * 3600.0, rng.poisson(4.0)):
            k = rng.geometric(1 / 3.0)
            out.append(day * DAY + start + np.cumsum(rng.exponential(240.0, k)))
    t = np.sort(np.concatenate(out)) if out else np.empty(0)
    return t[t < days * DAY]


def sparse_trace(seed: int, days: int = 3) -> Workload:
    """One trace of the sparse family (see the module docstring); deterministic in ``seed``."""
    rng = np.random.default_rng([SEED, seed])
    duration = days * DAY
    nodes = {f"reader-{i + 1}": NodeLoad(gen.thinned(read_rate, PEAK_READS, duration, rng))
             for i in range(READERS)}
    commits = _commits(days, rng)
    who = rng.choice(WRITERS + 1, size=commits.size, p=[0.35, 0.2, 0.15, 0.3])
    for w in range(WRITERS):
        reads = gen.thinned(lambda t: np.where((t % DAY >= 9 * 3600) & (t % DAY < 19 * 3600),
                                               1 / 3600.0, 0.0), 1 / 3600.0, duration, rng)
        nodes[f"writer-{w + 1}"] = NodeLoad(reads=reads, writes=commits[who == w])
    return Workload(nodes, duration, primary_writes=commits[who == WRITERS])


def _waits(wl: Workload, strategy: str, d: float) -> dict[str, float]:
    cfg = SimConfig(freshness=d, seed=0, scenario="web", duration=wl.duration, detail=False,
                    strategy=strategy)
    s = simulate(cfg, workload=wl).summary
    return {"held": s.read_waits / max(1, s.reads), "wait_p50_ms": s.read_wait_p50_ms,
            "wait_p99_ms": s.read_wait_p99_ms}


def evaluate(seeds: list[int], days: int, targets: tuple[float, ...],
             strategies: tuple[str, ...]) -> pd.DataFrame:
    rows = []
    for seed in seeds:
        wl = sparse_trace(seed, days)
        commits = wl.primary_writes.size + sum(ld.writes.size for ld in wl.nodes.values())
        reads = sum(ld.reads.size for ld in wl.nodes.values())
        for d in targets:
            config = SimConfig(freshness=d, seed=0, detail=False, scenario="web",
                               duration=wl.duration)
            found = best_fixed_interval(config, TARGET_SHARE, workload=wl, steps=10,
                                        longest=40.0 * d)
            fixed = run(wl, f"periodic:{found.interval:.6g}", d)
            base = {"seed": seed, "days": days, "commits": commits, "reads": reads,
                    "freshness": d, "best_interval_s": found.interval,
                    "fixed_syncs": fixed.syncs, "fixed_reader_syncs": fixed.reader_syncs,
                    "fixed_over": fixed.over, "oracle_syncs": fixed.oracle}
            for strategy in strategies:
                o = run(wl, strategy, d)
                row = {**base, "strategy": strategy, "syncs": o.syncs,
                       "reader_syncs": o.reader_syncs, "over": o.over,
                       "budget_spent": o.over / TARGET_SHARE,
                       "gap_all": gap_closed(fixed.syncs, o.syncs, o.oracle),
                       "gap_readers": gap_closed(fixed.reader_syncs, o.reader_syncs, o.oracle),
                       "vs_fixed_readers": o.reader_syncs / max(1, fixed.reader_syncs)}
                row.update(_waits(wl, strategy, d) if "read-wait" in strategy else
                           {"held": 0.0, "wait_p50_ms": float("nan"),
                            "wait_p99_ms": float("nan")})
                rows.append(row)
                print(f"seed {seed} D={d:<3g} {strategy:<22} {o.syncs:>7,} ({o.reader_syncs:,})"
                      f" over {100 * o.over:.2f} % held {100 * row['held']:.2f} % | fixed "
                      f"{found.interval:.3g} s {fixed.syncs:,} ({fixed.reader_syncs:,}) "
                      f"over {100 * fixed.over:.2f} % | oracle {o.oracle:,} | x fixed "
                      f"{row['vs_fixed_readers']:.3f} | gap {row['gap_all']:.2f} / "
                      f"{row['gap_readers']:.2f}", flush=True)
    return pd.DataFrame(rows)


def markdown(df: pd.DataFrame) -> str:
    lines = ["Sparse family (`simulations/sparse_traffic.py`), seed 0 network of the `web` "
             "scenario; target: <= 1 % of reads older than D. Syncs over all nodes (at readers; "
             "every node reads here) / reads older than D (share of the budget spent) / reads "
             "held, wait p50-p99; syncs at readers over the best fixed interval's; gap closed "
             "all / readers.", "",
             "| seed | D (s) | commits / reads | best fixed interval | strategy | syncs | "
             "x best fixed | gap closed | oracle |", "|---|---|---|---|---|---|---|---|---|"]
    for r in df.itertuples():
        held = (f" / held {100 * r.held:.2f} %, {r.wait_p50_ms:.0f}-{r.wait_p99_ms:.0f} ms"
                if r.held > 0 else "")
        lines.append(
            f"| {r.seed} | {r.freshness:g} | {r.commits:,} / {r.reads:,} | "
            f"{r.best_interval_s:.3g} s: {r.fixed_syncs:,} ({r.fixed_reader_syncs:,}) / "
            f"{100 * r.fixed_over:.2f} % | `{r.strategy}` | {r.syncs:,} ({r.reader_syncs:,}) "
            f"/ {100 * r.over:.2f} % ({100 * r.budget_spent:.0f} %){held} | "
            f"{r.vs_fixed_readers:.3f} | {r.gap_all:.2f} / {r.gap_readers:.2f} | "
            f"{r.oracle_syncs:,} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    parser.add_argument("--seeds", type=int, default=6, help="traces in the family")
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--targets", default="30,60", help="freshness targets D (s)")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    args = parser.parse_args()
    targets = tuple(float(x) for x in args.targets.split(","))
    strategies = tuple(s.strip() for s in args.strategies.split(","))
    df = evaluate(list(range(args.seeds)), args.days, targets, strategies)
    args.out.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out / "sparse_traffic.csv", index=False, float_format="%.6g")
    (args.out / "sparse_traffic.md").write_text(markdown(df))
    print(markdown(df))


if __name__ == "__main__":
    main()
