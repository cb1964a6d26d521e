"""What bounded-staleness reads cost and save, by how often a node reads.

    python simulations/read_wait.py                  # writes results/read_wait.md and .csv
    python simulations/read_wait.py --hours 1 --out /tmp/rw

Four replica nodes read at a steady Poisson rate (from one read every 10 minutes to one a
second each) while other clients write to the primary (Poisson, 0.05/s); delegated writes, the
simulator's default network (50 ms round trip), D = 30 s, seed 0. Every strategy runs on the
same workload; the table gives syncs, the share of reads older than D, and for the read-wait
strategies the reads held for a pull and how long they waited.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from synctune.sim import NodeLoad, SimConfig, Workload, simulate
from synctune.sim.elaborate import generators as gen

ROOT = Path(__file__).resolve().parent
FRESHNESS = 30.0
NODES = 4
PRIMARY_RATE = 0.05  # writes/s by other clients on the primary
READ_GAPS = (600.0, 60.0, 10.0, 1.0)  # mean seconds between a node's reads
STRATEGIES = ("periodic:30", "budgeted", "budgeted+read-wait:1", "manual+read-wait:1",
              "oracle")
COLUMNS = ("read_gap_s", "strategy", "syncs", "oracle_syncs", "reads",
           "over_freshness_fraction", "read_waits", "read_wait_timeout_fraction",
           "read_wait_p50_ms", "read_wait_p99_ms", "read_latency_p99_ms")


def workload(gap: float, duration: float, seed: int) -> Workload:
    """``NODES`` readers at one read per ``gap`` s each, and the primary's writes."""
    rng = np.random.default_rng(seed)
    nodes = {f"reader-{i + 1}": NodeLoad(gen.poisson(1.0 / gap, duration, rng))
             for i in range(NODES)}
    primary = gen.poisson(PRIMARY_RATE, duration, rng)
    return Workload(nodes, duration, primary, np.full(primary.size, 300, dtype=np.int64))


def run(hours: float, seed: int) -> pd.DataFrame:
    duration = hours * 3600.0
    parts = []
    for gap in READ_GAPS:
        cfg = SimConfig(freshness=FRESHNESS, duration=duration, seed=seed, detail=False,
                        rtt_ms=50.0)
        wl = workload(gap, duration, seed)
        table = pd.DataFrame([simulate(dataclasses.replace(cfg, strategy=spec), workload=wl)
                              .summary.as_dict() for spec in STRATEGIES])
        table.insert(0, "read_gap_s", gap)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)[list(COLUMNS)]


def markdown(table: pd.DataFrame, hours: float) -> str:
    lines = [f"Bounded-staleness reads: {NODES} reader nodes, primary writes {PRIMARY_RATE}/s, "
             f"D = {FRESHNESS:g} s, {hours:g} h, seed 0 (`simulations/read_wait.py`).", "",
             "| a read every | strategy | syncs | oracle | reads | > D | held reads | "
             "waited out | wait p50 | wait p99 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        held = r.read_waits > 0
        lines.append(
            f"| {r.read_gap_s:g} s | `{r.strategy}` | {r.syncs:,} | {r.oracle_syncs:,} | "
            f"{r.reads:,} | {100 * r.over_freshness_fraction:.2f} % | "
            + (f"{r.read_waits:,} | {100 * r.read_wait_timeout_fraction:.1f} % | "
               f"{r.read_wait_p50_ms:.0f} ms | {r.read_wait_p99_ms:.0f} ms |" if held
               else "- | - | - | - |"))
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=6.0, help="simulated hours per run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "results")
    args = ap.parse_args()
    table = run(args.hours, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "read_wait.csv", index=False)
    text = markdown(table, args.hours)
    (args.out / "read_wait.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
