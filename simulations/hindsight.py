"""The best fixed interval in hindsight, against the tuners.

    .venv/bin/python simulations/hindsight.py                 # about a minute
    .venv/bin/python simulations/hindsight.py --smoke --out /tmp/h   # seconds

For each workload and freshness target D, :func:`synctune.sim.best_fixed_interval` finds the
longest ``periodic:I`` that keeps the share of reads older than D within the target share (1 %)
*on that very run* (seed 0): the best any fixed interval could do if the workload were known in
advance (``synctune recommend --trace`` runs the same search on the user's traffic). Next to
it, the tuners, which learn online (``adaptive``; the read-aware ``budgeted``, with its own
budget per replica and with one budget pooled by all of them), and the oracle (which knows every
commit), with the share of the gap from the fixed interval to the oracle each tuner closes, over
all nodes and at the nodes that read (as ``real_traffic.py``). Writes
``hindsight.md`` and ``hindsight.csv`` into ``--out`` (default ``simulations/results/``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from headline import DATA, ROOT
from real_traffic import POOLED, gap_closed, run

from synctune.sim import SimConfig, best_fixed_interval
from synctune.sim.engine import build_workload
from synctune.sim.hindsight import run_spec

TARGET_SHARE = 0.01
READ_AWARE = ("budgeted", POOLED)

WORKLOADS: dict[str, dict[str, object]] = {
    "web": {"scenario": "web", "duration": 6 * 3600.0},
    "microservice": {"scenario": "microservice"},
    "diurnal": {"trace": str(DATA / "diurnal-day.csv")},
    "bursty": {"trace": str(DATA / "bursty-ingest.csv")},
}
SMOKE: dict[str, dict[str, object]] = {
    "microservice": {"scenario": "microservice", "duration": 900.0},
}


def table(workloads: dict[str, dict[str, object]], targets: tuple[float, ...]) -> pd.DataFrame:
    rows = []
    for name, fixed in workloads.items():
        for d in targets:
            config = SimConfig(freshness=d, seed=0, detail=False, **fixed)  # type: ignore[arg-type]
            workload = build_workload(config)
            best = best_fixed_interval(config, TARGET_SHARE, workload=workload)
            adaptive = run_spec(config, "adaptive", workload)
            oracle_syncs = adaptive["oracle_syncs"]
            row = {
                "workload": name, "freshness": d, "best_interval_s": best.interval,
                "best_fixed_syncs": best.syncs,
                "best_fixed_over": best.over_freshness_fraction,
                "adaptive_syncs": adaptive["syncs"],
                "adaptive_over": adaptive["over_freshness_fraction"],
                "oracle_syncs": oracle_syncs,
            }
            fixed_run = run(workload, f"periodic:{best.interval:.6g}", d, base=config)
            row["best_fixed_reader_syncs"] = fixed_run.reader_syncs
            row["best_fixed_visibility_p99_s"] = fixed_run.visibility_p99
            for tuner in READ_AWARE:
                o = run(workload, tuner, d, base=config)
                key = tuner.replace("-", "_")
                row.update({
                    f"{key}_syncs": o.syncs, f"{key}_reader_syncs": o.reader_syncs,
                    f"{key}_over": o.over, f"{key}_visibility_p99_s": o.visibility_p99,
                    f"{key}_gap_all": gap_closed(fixed_run.syncs, o.syncs, oracle_syncs),
                    f"{key}_gap_readers": gap_closed(fixed_run.reader_syncs, o.reader_syncs,
                                                     oracle_syncs),
                })
            rows.append(row)
    return pd.DataFrame(rows)


def _seconds(x: float) -> str:
    # 3,600 rather than 3.6e+03
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def markdown(df: pd.DataFrame) -> str:
    lines = ["Seed 0; target: at most 1 % of reads older than D. `best fixed` is the longest "
             "periodic interval meeting the target on this run, found in hindsight.", "",
             "| workload | D (s) | best fixed interval (s) | its syncs / over D | adaptive syncs "
             "/ over D | adaptive ÷ best fixed | oracle syncs |",
             "|---|---|---|---|---|---|---|"]
    for r in df.itertuples():
        ratio = r.adaptive_syncs / r.best_fixed_syncs if r.best_fixed_syncs else float("nan")
        lines.append(
            f"| {r.workload} | {r.freshness:g} | {_seconds(r.best_interval_s)} | "
            f"{r.best_fixed_syncs:,} / {100 * r.best_fixed_over:.2f} % | "
            f"{r.adaptive_syncs:,} / {100 * r.adaptive_over:.2f} % | {ratio:.2f} | "
            f"{r.oracle_syncs:,} |")
    lines += ["", "The read-aware tuner on the same runs: syncs over all nodes (at the nodes that "
              "read) / reads older than D / visibility p99 at the reading nodes; gap closed from "
              "the best fixed interval to the oracle, over all nodes / at readers.", "",
              "| workload | D (s) | best fixed interval | `budgeted` | `budgeted-pooled` |",
              "|---|---|---|---|---|"]
    for row in df.to_dict("records"):
        cells = []
        for tuner in READ_AWARE:
            k = tuner.replace("-", "_")
            cells.append(f"{row[k + '_syncs']:,} ({row[k + '_reader_syncs']:,}) / "
                         f"{100 * row[k + '_over']:.2f} % / {row[k + '_visibility_p99_s']:.3g} s; "
                         f"{row[k + '_gap_all']:.2f} / {row[k + '_gap_readers']:.2f}")
        lines.append(f"| {row['workload']} | {row['freshness']:g} | "
                     f"{_seconds(row['best_interval_s'])} s: {row['best_fixed_syncs']:,} "
                     f"({row['best_fixed_reader_syncs']:,}) / "
                     f"{row['best_fixed_visibility_p99_s']:.3g} s | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "simulations" / "results")
    parser.add_argument("--smoke", action="store_true", help="tiny plan, for tests")
    args = parser.parse_args()
    workloads, targets = (SMOKE, (30.0,)) if args.smoke else (WORKLOADS, (10.0, 30.0, 60.0))
    df = table(workloads, targets)
    args.out.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out / "hindsight.csv", index=False, float_format="%.6g")
    (args.out / "hindsight.md").write_text(markdown(df))
    print(markdown(df))


if __name__ == "__main__":
    main()
