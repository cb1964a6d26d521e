"""Generate the sample traces in data/ (deterministic: same seed, same bytes).

    python simulations/make_traces.py            # writes data/*.csv and data/traces.json
    python simulations/make_traces.py --out DIR --seed 7

Each trace is a CSV with columns t (s from the start), node, op (read/write/sync) and bytes
(write size), built from the simulator's arrival generators with one seed per trace.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from synctune.sim.elaborate import generators as gen
from synctune.sim.elaborate.trace import save_trace
from synctune.sim.elaborate.workload import NodeLoad, Workload

SEED = 20261126
ROOT = Path(__file__).resolve().parent.parent


def _sizes(rng: np.random.Generator, n: int, median: float) -> np.ndarray:
    return np.maximum(1, rng.lognormal(np.log(median), 0.6, n)).astype(np.int64)


def diurnal_day(rng: np.random.Generator) -> Workload:
    """24 h, two app nodes; reads, local writes and primary writes all follow the day
    (busiest at 14:00, 9x quieter at night)."""
    day = 86_400.0
    nodes = {}
    for name in ("app-1", "app-2"):
        reads = gen.diurnal(0.06, day, rng, amplitude=0.8)
        writes = gen.diurnal(0.004, day, rng, amplitude=0.8)
        nodes[name] = NodeLoad(reads, writes, _sizes(rng, writes.size, 300.0))
    primary = gen.diurnal(0.02, day, rng, amplitude=0.8)
    return Workload(nodes, day, primary, _sizes(rng, primary.size, 300.0))


def bursty_ingest(rng: np.random.Generator) -> Workload:
    """6 h; a batch job writes to the primary in bursts (about 2/s for ~1 min, every ~20 min)
    while two readers query their replicas steadily."""
    duration = 6 * 3600.0
    nodes = {name: NodeLoad(gen.poisson(0.25, duration, rng)) for name in ("reader-1",
                                                                          "reader-2")}
    primary = gen.bursty(2.0, 0.005, 60.0, 1200.0, duration, rng)
    return Workload(nodes, duration, primary, _sizes(rng, primary.size, 1200.0))


def flash_crowd(rng: np.random.Generator) -> Workload:
    """2 h; a flash crowd peaks at t = 1 h: reads and writes jump 20x within a minute and decay
    over ~10 min; the app syncs manually every 5 minutes."""
    duration = 7200.0
    nodes = {}
    for name in ("edge-1", "edge-2"):
        reads = gen.flash_crowd(0.1, 2.0, 3600.0, duration, rng)
        writes = gen.flash_crowd(0.005, 0.1, 3600.0, duration, rng)
        nodes[name] = NodeLoad(reads, writes, _sizes(rng, writes.size, 250.0),
                               syncs=np.arange(300.0, duration, 300.0))
    primary = gen.poisson(0.01, duration, rng)
    return Workload(nodes, duration, primary, _sizes(rng, primary.size, 250.0))


#: trace name -> builder; the index in this table is part of each trace's seed
TRACES: dict[str, Callable[[np.random.Generator], Workload]] = {
    "diurnal-day": diurnal_day,
    "bursty-ingest": bursty_ingest,
    "flash-crowd": flash_crowd,
}


def make_traces(out: Path, seed: int = SEED) -> dict[str, dict[str, object]]:
    """Write every trace to ``out/NAME.csv`` and a manifest ``out/traces.json``; return it."""
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, object]] = {}
    for index, (name, build) in enumerate(TRACES.items()):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))
        path = out / f"{name}.csv"
        save_trace(build(rng), path)
        data = path.read_bytes()
        manifest[name] = {
            "file": path.name, "seed": seed, "spawn_key": [index],
            "description": " ".join((build.__doc__ or "").split()),
            "rows": data.count(b"\n") - 1, "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    (out / "traces.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data", help="output directory")
    parser.add_argument("--seed", type=int, default=SEED, help=f"root seed [{SEED}]")
    args = parser.parse_args()
    for info in make_traces(args.out, args.seed).values():
        print(f"{args.out / str(info['file'])}: {info['rows']} rows, "
              f"{int(info['bytes']) / 1024:.0f} KiB, seed {info['seed']}")


if __name__ == "__main__":
    main()
