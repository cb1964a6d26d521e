"""The read SLO replica by replica: each reader of the real-traffic traces on its own budget.

    .venv/bin/python simulations/per_replica.py              # 24 cells x 3 readers, ~1 min
    .venv/bin/python simulations/per_replica.py --history libsql --out /tmp/pr

A replica on a budget of its own promises its own reads the SLO, yet the fleet tables count
the share of *all* reads older than D, where the api's many fresh reads hide a session reader
that went over. Here each reader node of ``real_traffic.py``'s traces runs alone with
``budgeted`` (every commit of the trace on the primary, as its own traffic), and the table
gives its reads, syncs and share of reads older than D. Writes ``per_replica.md`` and ``.csv``.
"""

from __future__ import annotations

import argparse
import multiprocessing
from pathlib import Path

import numpy as np
import pandas as pd
import real_traffic as rt

from synctune.sim.elaborate.workload import NodeLoad, Workload

ROOT = Path(__file__).resolve().parent
#: fewer reads than this: one stale read is over a fifth of the share (a 60x analyst has 16)
FEW_READS = 500


def alone(wl: Workload, name: str) -> Workload:
    """Node ``name``'s reads alone, every commit of ``wl`` on the primary."""
    commits = np.sort(np.concatenate([wl.primary_writes]
                                     + [ld.writes for ld in wl.nodes.values()]))
    return Workload({name: NodeLoad(reads=wl.nodes[name].reads)}, wl.duration,
                    primary_writes=commits)


def _one(job: tuple[rt.TraceSpec, float, str]) -> dict[str, object]:
    spec, d, name = job
    wl = alone(rt.build(rt.load_history(spec.history), spec), name)
    o = rt.run(wl, "budgeted", d)
    return {"trace": spec.name, "freshness": d, "replica": name,
            "reads": int(wl.nodes[name].reads.size), "syncs": o.syncs, "over": o.over}


def evaluate(histories: tuple[str, ...], workers: int) -> pd.DataFrame:
    jobs = [(spec, d, name) for spec in rt.trace_specs(histories) for d in (30.0, 60.0)
            for name in rt.READERS]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        return pd.DataFrame(pool.map(_one, jobs))


def markdown(df: pd.DataFrame) -> str:
    many = df[df["reads"] >= FEW_READS]
    over = many[many["over"] > rt.TARGET_SHARE]
    lines = ["Each reader of the real-traffic traces alone with `budgeted` on its own budget "
             f"(`simulations/per_replica.py`). Replicas with at least {FEW_READS} reads: "
             f"{len(many)} of {len(df)}, {len(over)} over 1 %, at most "
             f"{100 * many['over'].max():.2f} % older than D.", "",
             "| trace | D (s) | replica | reads | syncs | reads older than D |",
             "|---|---|---|---|---|---|"]
    for r in df.itertuples():
        mark = "**" if r.over > rt.TARGET_SHARE else ""
        few = " (few reads)" if r.reads < FEW_READS else ""
        lines.append(f"| {r.trace} | {r.freshness:g} | {r.replica} | {r.reads:,}{few} | "
                     f"{r.syncs:,} | {mark}{100 * r.over:.2f} %{mark} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    parser.add_argument("--history", action="append", help="only these histories")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    df = evaluate(tuple(args.history or ("libsql", "polars")), args.workers)
    args.out.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out / "per_replica.csv", index=False, float_format="%.6g")
    (args.out / "per_replica.md").write_text(markdown(df))
    print(markdown(df))


if __name__ == "__main__":
    main()
