"""The best fixed interval in hindsight, against the adaptive tuner.

    .venv/bin/python simulations/hindsight.py                 # about a minute
    .venv/bin/python simulations/hindsight.py --smoke --out /tmp/h   # seconds

For each workload and freshness target D, :func:`synctune.sim.best_fixed_interval` finds the
longest ``periodic:I`` that keeps the share of reads older than D within the target share (1 %)
*on that very run* (seed 0): the best any fixed interval could do if the workload were known in
advance (``synctune recommend --trace`` runs the same search on the user's traffic). Next to
it, the adaptive tuner (which learns online) and the oracle (which knows every commit). Writes
``hindsight.md`` and ``hindsight.csv`` into ``--out`` (default ``simulations/results/``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from headline import DATA, ROOT

from synctune.sim import SimConfig, best_fixed_interval
from synctune.sim.engine import build_workload
from synctune.sim.hindsight import run_spec

TARGET_SHARE = 0.01

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
            rows.append({
                "workload": name, "freshness": d, "best_interval_s": best.interval,
                "best_fixed_syncs": best.syncs,
                "best_fixed_over": best.over_freshness_fraction,
                "adaptive_syncs": adaptive["syncs"],
                "adaptive_over": adaptive["over_freshness_fraction"],
                "oracle_syncs": oracle_syncs,
            })
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
