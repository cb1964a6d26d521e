"""The best fixed interval in hindsight, against the adaptive tuner.

    .venv/bin/python simulations/hindsight.py                 # about a minute
    .venv/bin/python simulations/hindsight.py --smoke --out /tmp/h   # seconds

For each workload and freshness target D, bisects the longest ``periodic:I`` that keeps the
share of reads older than D within the target share (1 %) *on that very run* (seed 0): the
best any fixed interval could do if the workload were known in advance. Next to it, the
adaptive tuner (which learns online) and the oracle (which knows every commit). Writes
``hindsight.md`` and ``hindsight.csv`` into ``--out`` (default ``simulations/results/``).

The stale share is not exactly monotone in I on a finite run (a longer interval can happen to
line up better with commits), so the bisection keeps the longest interval it saw that met the
target; the result is a good fixed interval, not a proven optimum.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from headline import DATA, ROOT

from synctune.sim import SimConfig, simulate

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


def _summary(fixed: dict[str, object], strategy: str, freshness: float) -> dict[str, object]:
    return dict(simulate(SimConfig(strategy=strategy, freshness=freshness, seed=0,
                                   detail=False, **fixed)).summary)  # type: ignore[arg-type]


def best_interval(fixed: dict[str, object], freshness: float, *, steps: int = 12,
                  longest: float = 3600.0) -> tuple[float, dict[str, object]]:
    """Longest ``periodic:I`` seen meeting the target share, and its summary."""
    lo, hi = 0.05 * freshness, longest
    best = _summary(fixed, f"periodic:{lo:g}", freshness)
    if best["over_freshness_fraction"] > TARGET_SHARE:  # type: ignore[operator]
        return lo, best  # nothing fixed meets it; report the shortest tried
    best_i = lo
    top = _summary(fixed, f"periodic:{hi:g}", freshness)
    if top["over_freshness_fraction"] <= TARGET_SHARE:  # type: ignore[operator]
        return hi, top
    for _ in range(steps):
        mid = (lo * hi) ** 0.5  # geometric: intervals span orders of magnitude
        s = _summary(fixed, f"periodic:{mid:.6g}", freshness)
        if s["over_freshness_fraction"] <= TARGET_SHARE:  # type: ignore[operator]
            lo, best_i, best = mid, mid, s
        else:
            hi = mid
    return best_i, best


def table(workloads: dict[str, dict[str, object]], targets: tuple[float, ...]) -> pd.DataFrame:
    rows = []
    for name, fixed in workloads.items():
        for d in targets:
            interval, fixed_best = best_interval(fixed, d)
            adaptive = _summary(fixed, "adaptive", d)
            oracle_syncs = adaptive["oracle_syncs"]
            rows.append({
                "workload": name, "freshness": d, "best_interval_s": interval,
                "best_fixed_syncs": fixed_best["syncs"],
                "best_fixed_over": fixed_best["over_freshness_fraction"],
                "adaptive_syncs": adaptive["syncs"],
                "adaptive_over": adaptive["over_freshness_fraction"],
                "oracle_syncs": oracle_syncs,
            })
    return pd.DataFrame(rows)


def markdown(df: pd.DataFrame) -> str:
    lines = ["Seed 0; target: at most 1 % of reads older than D. `best fixed` is the longest "
             "periodic interval meeting the target on this run, found in hindsight.", "",
             "| workload | D (s) | best fixed interval (s) | its syncs / over D | adaptive syncs "
             "/ over D | adaptive ÷ best fixed | oracle syncs |",
             "|---|---|---|---|---|---|---|"]
    for r in df.itertuples():
        ratio = r.adaptive_syncs / r.best_fixed_syncs if r.best_fixed_syncs else float("nan")
        lines.append(
            f"| {r.workload} | {r.freshness:g} | {r.best_interval_s:.3g} | "
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
