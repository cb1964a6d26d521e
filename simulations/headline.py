"""The headline comparison: every strategy on the guide's scenarios and two sample traces.

    .venv/bin/python simulations/headline.py                 # full run, a few minutes
    .venv/bin/python simulations/headline.py --smoke --out /tmp/smoke   # seconds

Writes into ``--out`` (default ``simulations/results/``):

* ``results.csv``: one row per workload x strategy x freshness cell, each figure's mean over
  the seeds with its 95 % t-interval (``<figure>``, ``<figure>_ci``: half-width, ``n``);
* ``results.md``: the same at freshness 30 s, ``mean ± half-width``;
* ``headline.md``: the README's compact table (syncs and reads older than D, every D);
* ``staleness_cdf.png``: distribution of read staleness per strategy (one run);
* ``pareto.png``: syncs against the share of reads older than the freshness target, per
  workload, with the non-dominated front and the oracle's point;
* ``adaptive_interval.png``: the adaptive tuner's interval over the diurnal day, with the
  guide's seed rule and the load;
* ``data_at_risk.png``: local-first writes not yet pushed, over time, through an outage.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from synctune.sim import Outage, SimConfig, load_trace, simulate
from synctune.sim.curves import coincident_labels, line_style
from synctune.sweep import Grid, open_executor, run_sweep, summarize

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"

#: figures in the table, in order
FIGURES = ("syncs", "syncs_per_oracle", "over_freshness_fraction", "stale_read_fraction",
           "staleness_p99_s", "visibility_p99_s", "bytes")
TABLE_FRESHNESS = 30.0


@dataclass(frozen=True)
class Plan:
    """What to simulate: workloads (label -> fixed parameters), strategies, targets, seeds."""

    workloads: dict[str, dict[str, object]]
    strategies: tuple[str, ...]
    freshness: tuple[float, ...]
    seeds: int
    figure_duration: float | None  # horizon of the single-run figures (None = workload's)

    def runs(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for fixed in self.workloads.values():
            grid = Grid({"strategy": list(self.strategies), "freshness": list(self.freshness)},
                        seeds=self.seeds, fixed={**fixed, "detail": False})
            out.extend(grid.runs())
        return out

    def label(self, row: pd.Series) -> str:
        for name, fixed in self.workloads.items():
            if all(row.get(k) == v for k, v in fixed.items()):
                return name
        raise KeyError(f"no workload for run {row.get('run_key')}")


STRATEGIES = ("periodic:10", "periodic:30", "periodic:60", "periodic:300", "on-write",
              "manual", "seed-rule", "adaptive", "oracle")


def full_plan() -> Plan:
    return Plan(
        workloads={
            "web": {"scenario": "web", "duration": 6 * 3600.0},
            "serverless": {"scenario": "serverless"},
            "microservice": {"scenario": "microservice"},
            "diurnal": {"trace": str(DATA / "diurnal-day.csv")},
            "bursty": {"trace": str(DATA / "bursty-ingest.csv")},
        },
        strategies=STRATEGIES, freshness=(10.0, 30.0, 60.0), seeds=5, figure_duration=None)


def smoke_plan() -> Plan:
    return Plan(
        workloads={"microservice": {"scenario": "microservice", "duration": 900.0},
                   "diurnal": {"trace": str(DATA / "diurnal-day.csv"), "duration": 3600.0}},
        strategies=("periodic:60", "adaptive", "oracle"), freshness=(30.0,), seeds=2,
        figure_duration=900.0)


# ---------------------------------------------------------------------------------- table
def results_table(runs: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """One row per workload x strategy x freshness: mean, CI half-width and n per figure."""
    runs = runs.assign(workload=[plan.label(r) for _, r in runs.iterrows()])
    by = ["workload", "strategy", "freshness"]
    summary = summarize(runs, by, list(FIGURES))
    wide = summary.pivot_table(index=by, columns="metric", values=["mean", "half_width"],
                               dropna=False, sort=False)
    table = pd.DataFrame(index=wide.index)
    for fig in FIGURES:
        table[fig] = wide[("mean", fig)]
        table[f"{fig}_ci"] = wide[("half_width", fig)]
    table["n"] = summary.groupby(by, sort=False)["n"].max()
    order = {w: i for i, w in enumerate(plan.workloads)}
    sorder = {s: i for i, s in enumerate(plan.strategies)}
    table = table.reset_index()
    return table.sort_values(["workload", "freshness", "strategy"],
                             key=lambda c: c.map(order) if c.name == "workload"
                             else c.map(sorder) if c.name == "strategy" else c,
                             ignore_index=True)


def _cell(mean: float, half: float) -> str:
    def fmt(x: float) -> str:
        if math.isnan(x):
            return "–"
        if x != 0 and abs(x) < 0.01:
            return f"{x:.2e}"
        return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"
    # half-widths far below the mean's precision are rounding noise between equal seeds
    if math.isnan(half) or half <= 1e-9 * max(1.0, abs(mean)):
        return fmt(mean)
    return f"{fmt(mean)} ± {fmt(half)}"


def markdown(table: pd.DataFrame, freshness: float) -> str:
    """The table at one freshness target as GitHub markdown."""
    part = table[table["freshness"] == freshness]
    if part.empty:
        freshness = float(table["freshness"].iloc[0])
        part = table[table["freshness"] == freshness]
    heads = ["workload", "strategy", *("MB" if f == "bytes" else f for f in FIGURES)]
    lines = [f"Freshness target D = {freshness:g} s; mean ± half-width of the 95 % "
             f"t-interval over {int(part['n'].max())} seeds.", "",
             "| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for _, r in part.iterrows():
        cells = [str(r["workload"]), f"`{r['strategy']}`"]
        # bytes in MB: 64.0, not 6.40e+07
        cells += [_cell(r[f] / 1e6, r[f"{f}_ci"] / 1e6) if f == "bytes"
                  else _cell(r[f], r[f"{f}_ci"]) for f in FIGURES]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


#: strategies in the README's compact table: the guide's set-ups, the safe fixed interval
#: for D = 30 s, the tuner and the bound
HEADLINE_STRATEGIES = ("periodic:60", "periodic:30", "seed-rule", "adaptive", "oracle")


def headline_markdown(table: pd.DataFrame) -> str:
    """Compact table: per workload and D, each strategy's syncs and share of reads older than D."""
    shown = [s for s in HEADLINE_STRATEGIES if s in set(table["strategy"])]
    heads = ["workload", "D (s)", *(f"`{s}`" for s in shown)]
    lines = ["Syncs (mean over seeds) / share of reads older than D. Target: at most 1 %.", "",
             "| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    cells = table.set_index(["workload", "freshness", "strategy"])
    for (workload, freshness), _ in table.groupby(["workload", "freshness"], sort=False):
        row = [str(workload), f"{freshness:g}"]
        for s in shown:
            r = cells.loc[(workload, freshness, s)]
            over = 100 * r["over_freshness_fraction"]
            row.append(f"{r['syncs']:,.0f} / {over:.2f} %" if over < 1 else
                       f"{r['syncs']:,.0f} / **{over:.1f} %**")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------- figures
def _style(ax: plt.Axes) -> None:
    ax.grid(True, alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def staleness_cdf(out: Path, plan: Plan) -> None:
    """Read staleness per strategy (microservice scenario, D = 30 s, seed 0): the CDF, and its
    tail (share of reads older than x) on a log scale, where the strategies differ."""
    freshness = 30.0
    fig, (ax, tail) = plt.subplots(1, 2, figsize=(11, 4.5))
    curves = {}
    for spec in plan.strategies:
        res = simulate(SimConfig(scenario="microservice", strategy=spec, freshness=freshness,
                                 duration=plan.figure_duration, seed=0))
        s = np.sort(res.reads["staleness_s"].to_numpy())
        if s.size:
            curves[spec] = s
    labels = coincident_labels({k: (v,) for k, v in curves.items()}, atol=1.0)
    # curves that nearly coincide stay visible: a line style each, thinner ones on top
    for i, (spec, s) in enumerate(curves.items()):
        share = np.arange(1, s.size + 1) / s.size
        style = line_style(i)
        ax.step(s, share, where="post", label=labels[spec], zorder=2 + i, **style)
        tail.step(s, 1.0 - share, where="post", label=labels[spec], zorder=2 + i, **style)
    for a in (ax, tail):
        a.axvline(freshness, color="k", ls="--", lw=1)
        a.set_xlabel("read staleness (s)")
        _style(a)
    ax.set_xlim(0, 2 * freshness)
    ax.set_ylim(0, 1.01)
    ax.set_ylabel("share of reads at most this stale (CDF)")
    tail.set_xlim(0, 4 * freshness)
    tail.set_yscale("log")
    tail.set_ylim(1e-5, 1)
    tail.set_ylabel("share of reads more stale than this")
    tail.text(freshness, 2e-5, " D = 30 s")
    tail.legend(fontsize=8, ncol=2, loc="upper right")
    fig.suptitle("Read staleness per strategy (microservice scenario, D = 30 s, one run; "
                 "staleness: age of the oldest commit the read could not see)", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "staleness_cdf.png", dpi=120)
    plt.close(fig)


def _front(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # non-dominated points (fewer syncs and fewer stale reads), by ascending syncs
    order = np.lexsort((y, x))
    keep, best = [], math.inf
    for i in order:
        if y[i] < best:
            keep.append(i)
            best = y[i]
    return np.asarray(keep, dtype=int)


def pareto(out: Path, table: pd.DataFrame, plan: Plan) -> None:
    """Syncs vs share of reads older than D, one panel per workload, at D = 30 s."""
    part = table[table["freshness"] == TABLE_FRESHNESS]
    if part.empty:
        part = table[table["freshness"] == table["freshness"].iloc[0]]
    names = list(plan.workloads)
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 4.2 * rows), squeeze=False)
    colors = {s: plt.cm.tab10(i % 10) for i, s in enumerate(plan.strategies)}
    for ax, name in zip(axes.flat, names, strict=False):
        cell = part[part["workload"] == name]
        x = np.maximum(cell["syncs"].to_numpy(dtype=float), 1.0)  # log axis: 0 syncs -> 1
        y = cell["over_freshness_fraction"].to_numpy(dtype=float)
        for (_, r), xi, yi in zip(cell.iterrows(), x, y, strict=True):
            oracle = r["strategy"] == "oracle"
            half = r["over_freshness_fraction_ci"]
            # a share is never negative: the interval's lower arm stops at 0
            yerr = None if half != half else [[min(half, yi)], [half]]
            ax.errorbar(xi, yi, xerr=r["syncs_ci"] if r["syncs_ci"] == r["syncs_ci"] else None,
                        yerr=yerr,
                        fmt="*" if oracle else "o", ms=14 if oracle else 6,
                        color="k" if oracle else colors[r["strategy"]], label=r["strategy"],
                        capsize=2, zorder=3)
        idx = _front(x, y)
        ax.step(x[idx], y[idx], where="post", color="0.5", lw=1, ls=":", zorder=1,
                label="Pareto front")
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=1e-4)
        ax.set_ylim(0, 1.5)
        ax.set_title(name)
        ax.set_xlabel("syncs (all nodes, whole run; 0 drawn at 1)")
        ax.set_ylabel("share of reads older than D")
        _style(ax)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize=8)
    fig.suptitle("Cost against staleness at D = 30 s (mean and 95 % CI over seeds; "
                 "star: offline-optimal oracle)")
    fig.tight_layout(rect=(0, 0.08, 1, 0.96))
    fig.savefig(out / "pareto.png", dpi=110)
    plt.close(fig)


def adaptive_interval(out: Path, plan: Plan) -> None:
    """The interval the adaptive tuner (and the seed rule) keeps over the diurnal day."""
    trace = DATA / "diurnal-day.csv"
    freshness = 30.0
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for spec, color in (("adaptive", "C0"), ("seed-rule", "C1")):
        res = simulate(SimConfig(trace=str(trace), strategy=spec, freshness=freshness,
                                 duration=plan.figure_duration, seed=0))
        m = res.metrics.groupby("t", as_index=False)["sync_interval"].mean()
        ax.plot(m["t"] / 3600, m["sync_interval"], color=color, lw=1.2,
                label=f"{spec}: interval in force (mean over nodes)")
    ax.axhline(freshness, color="k", ls="--", lw=1, label="freshness target D")
    ax.set_xlabel("hour of the day")
    ax.set_ylabel("sync interval (s)")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)  # room for the legend above the lines
    _style(ax)
    load = load_trace(trace)
    if plan.figure_duration is not None:
        load = load.clipped(plan.figure_duration)
    writes = np.concatenate([load.primary_writes,
                             *[ld.writes for ld in load.nodes.values()]])
    edges = np.arange(0.0, load.duration + 1800.0, 1800.0)
    counts, _ = np.histogram(writes, edges)
    twin = ax.twinx()
    twin.bar(edges[:-1] / 3600, counts / 1800 * 3600, width=0.5, align="edge", color="0.85",
             zorder=0, label="writes per hour (all nodes and primary)")
    twin.set_ylabel("writes per hour")
    ax.set_zorder(twin.get_zorder() + 1)
    ax.patch.set_visible(False)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper left")
    ax.set_title("Adaptive tuner over a diurnal day (data/diurnal-day.csv, D = 30 s)")
    fig.tight_layout()
    fig.savefig(out / "adaptive_interval.png", dpi=120)
    plt.close(fig)


def at_risk(writes: pd.DataFrame, grid: np.ndarray) -> np.ndarray:
    """Local writes committed on a node but not yet on the primary, at each time of ``grid``."""
    own = writes[writes["node"] != "primary"]
    start = np.sort(own["t"].to_numpy(dtype=float))
    end = np.sort(own["commit_t"].fillna(np.inf).to_numpy(dtype=float))
    return (np.searchsorted(start, grid, side="right")
            - np.searchsorted(end, grid, side="right"))


def data_at_risk(out: Path, plan: Plan) -> None:
    """Unpushed local-first writes over time through a 10-minute outage (microservice)."""
    duration = plan.figure_duration or 7200.0
    outage = Outage(start=duration * 0.4, end=duration * 0.4 + min(600.0, duration / 6))
    grid = np.arange(0.0, duration, 1.0)
    minutes = grid.size // 60
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for spec in ("periodic:60", "on-write", "seed-rule", "adaptive"):
        res = simulate(SimConfig(scenario="microservice", strategy=spec, freshness=30.0,
                                 write_model="local-first", duration=duration,
                                 outages=(outage,), seed=0))
        worst = at_risk(res.writes, grid)[: minutes * 60].reshape(minutes, 60).max(axis=1)
        ax.step(np.arange(minutes), worst, where="post", lw=1, label=spec)
    ax.axvspan(outage.start / 60, outage.end / 60, color="r", alpha=0.1,
               label="primary unreachable")
    ax.set_xlabel("time (min)")
    ax.set_ylabel("local writes not yet on the primary\n(most in each minute)")
    ax.set_yscale("symlog", linthresh=10)
    ax.set_title("Data at risk: local-first writes awaiting a push (microservice, D = 30 s)")
    ax.legend(fontsize=8)
    _style(ax)
    fig.tight_layout()
    fig.savefig(out / "data_at_risk.png", dpi=120)
    plt.close(fig)


# ------------------------------------------------------------------------------------ main
def run(out: Path, plan: Plan, *, store: Path | None = None, workers: int | None = None,
        progress: bool = True) -> pd.DataFrame:
    """Run the sweep and draw everything into ``out``; return the results table."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, open_executor(workers=workers) as executor:
        runs = run_sweep(plan.runs(), executor=executor, store=store or Path(tmp),
                         progress=progress)
    table = results_table(runs, plan)
    table.to_csv(out / "results.csv", index=False, float_format="%.6g")
    (out / "results.md").write_text(markdown(table, TABLE_FRESHNESS))
    (out / "headline.md").write_text(headline_markdown(table))
    pareto(out, table, plan)
    staleness_cdf(out, plan)
    adaptive_interval(out, plan)
    data_at_risk(out, plan)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "simulations" / "results")
    parser.add_argument("--smoke", action="store_true", help="tiny plan, for tests")
    parser.add_argument("--store", type=Path,
                        help="keep the runs here; rerunning resumes (default: temporary)")
    parser.add_argument("--workers", type=int, help="worker processes [CPU count]")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    plan = smoke_plan() if args.smoke else full_plan()
    start = time.perf_counter()
    table = run(args.out, plan, store=args.store, workers=args.workers,
                progress=not args.no_progress)
    print(f"{len(plan.runs())} runs, {len(table)} cells in {time.perf_counter() - start:.0f} s; "
          f"results in {args.out}")


if __name__ == "__main__":
    main()
