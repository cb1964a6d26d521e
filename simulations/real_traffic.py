"""Real-traffic traces from commit histories, and the tuner against hindsight and the oracle.

    .venv/bin/python simulations/real_traffic.py                    # every trace, ~15 min
    .venv/bin/python simulations/real_traffic.py --smoke --out /tmp/rt   # seconds

Traces (deterministic: window, mapping and seed are in each row). From each history in
``../shared/data`` (``<name>-commits.csv``: unix time, author rank), three 7-day windows
(the busiest, a typical one at the median and a quiet one at the 25th percentile of commits per
window, windows starting at 00:00 UTC), each replayed twice: in real time (7 days) and 60x
faster (2.8 h, the same shape at a busier pace). Mapping:

* the three most active authors of the window are writer nodes ``author-1..3`` (delegated
  writes, no reads);
* every other author writes directly on the primary;
* three reader nodes with their own patterns, all following the window's clock of day and week
  (busiest at 14:00 UTC, 0.15x at night, weekends 0.4x): ``api`` (steady Poisson reads,
  0.5/s on average), ``dashboard`` (0.05/s) and ``analyst`` (human sessions: about two an
  hour at peak, ~25 reads a few seconds apart each).

For each trace and freshness target D (30 and 60 s), every strategy runs on the same workload
and seed: ``adaptive``, the longest ``periodic:I`` meeting the SLO on that very run (bisection
in hindsight, as ``hindsight.py``) and the oracle. The table gives syncs over all nodes and at
the reader nodes, and the share of the gap from the best fixed interval to the oracle that the
tuner closes: ``(best fixed - tuner) / (best fixed - oracle)``. The SLO: at most 1 % of reads
older than D and visibility p99 <= 2 D (at the nodes that read).

A second study puts visibility in the SLO (``real_traffic_visibility.md``; ``--visibility-only``
reruns it alone from the last ``real_traffic.csv``): the longest fixed interval meeting both
halves, against both tuners with their cycle capped at 2 D - 5 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synctune.policy import Budgeted, StaleReadBudget
from synctune.sim import SimConfig, best_fixed_interval, simulate
from synctune.sim.elaborate.workload import NodeLoad, Workload
from synctune.sim.reduce.staleness import visible_at

ROOT = Path(__file__).resolve().parent.parent
HISTORIES = ROOT.parent / "shared" / "data"
SEED = 20261127
TARGET_SHARE = 0.01
DAY = 86_400.0
WINDOW_DAYS = 7
SPEEDS = (1.0, 60.0)
WRITER_AUTHORS = 3
READERS = ("api", "dashboard", "analyst")


@dataclass(frozen=True)
class TraceSpec:
    """Where a trace comes from: history, window start (unix s), length (days), speed-up."""

    history: str
    label: str
    start: float
    days: int
    speed: float

    @property
    def name(self) -> str:
        pace = "real time" if self.speed == 1.0 else f"{self.speed:g}x"
        return f"{self.history} {self.label} {self.days} d, {pace}"


def load_history(name: str, root: Path = HISTORIES) -> pd.DataFrame:
    """Commit times (unix s) and author ranks of one history."""
    df = pd.read_csv(root / f"{name}-commits.csv")
    return df.sort_values("unix_time", kind="stable", ignore_index=True)


def windows(history: pd.DataFrame, days: int = WINDOW_DAYS) -> dict[str, float]:
    """Start (unix s, 00:00 UTC) of the busiest, a typical and a quiet window of ``days``."""
    t = history["unix_time"].to_numpy(dtype=np.float64)
    first = np.floor(t[0] / DAY) * DAY
    starts = np.arange(first, t[-1] - days * DAY, DAY)
    counts = np.searchsorted(t, starts + days * DAY) - np.searchsorted(t, starts)
    order = np.argsort(counts, kind="stable")

    def at(q: float) -> float:
        return float(starts[order[int(q * (order.size - 1))]])

    return {"busiest": float(starts[order[-1]]), "typical": at(0.5), "quiet": at(0.25)}


def _activity(clock: np.ndarray) -> np.ndarray:
    """Relative activity at unix times ``clock``: daily bump at 14:00 UTC, quieter weekends."""
    hour = (clock % DAY) / 3600.0
    day = 0.15 + 0.85 * np.exp(-0.5 * ((hour - 14.0) / 3.5) ** 2)
    weekday = ((clock // DAY) + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
    return day * np.where(weekday >= 5, 0.4, 1.0)


def _thinned(mean_rate: float, spec: TraceSpec, duration: float,
             rng: np.random.Generator) -> np.ndarray:
    """Poisson arrivals whose rate follows the window's clock, averaging about ``mean_rate``/s."""
    peak = mean_rate / 0.45  # mean of the activity curve is about 0.45 of its peak
    n = rng.poisson(peak * duration)
    t = np.sort(rng.uniform(0.0, duration, n))
    keep = rng.uniform(size=n) < _activity(spec.start + t * spec.speed)
    return t[keep]


def _sessions(spec: TraceSpec, duration: float, rng: np.random.Generator) -> np.ndarray:
    """Human reading: sessions (about 2/h at peak), each ~25 reads a few seconds apart."""
    starts = _thinned(0.9 / 3600.0, spec, duration, rng)
    reads = []
    for s in starts:
        k = 1 + rng.geometric(1 / 25.0)
        reads.append(s + np.cumsum(rng.exponential(6.0, k)))
    out = np.sort(np.concatenate(reads)) if reads else np.empty(0)
    return out[out < duration]


def build(history: pd.DataFrame, spec: TraceSpec, seed: int = SEED) -> Workload:
    """The workload of one trace (see the module docstring for the mapping)."""
    t = history["unix_time"].to_numpy(dtype=np.float64)
    rank = history["author_rank"].to_numpy()
    span = spec.days * DAY
    sel = (t >= spec.start) & (t < spec.start + span)
    ct, authors = (t[sel] - spec.start) / spec.speed, rank[sel]
    # rank the window's authors by their commits in it (ties: the history's rank)
    ids, n = np.unique(authors, return_counts=True)
    top = ids[np.lexsort((ids, -n))][:WRITER_AUTHORS]
    cr = np.full(authors.size, WRITER_AUTHORS + 1)
    for a, author in enumerate(top, start=1):
        cr[authors == author] = a
    duration = span / spec.speed
    rng = np.random.default_rng([seed, int(spec.start), int(spec.speed)])
    nodes: dict[str, NodeLoad] = {}
    for a in range(1, WRITER_AUTHORS + 1):
        nodes[f"author-{a}"] = NodeLoad(writes=ct[cr == a])
    nodes["api"] = NodeLoad(reads=_thinned(0.5, spec, duration, rng))
    nodes["dashboard"] = NodeLoad(reads=_thinned(0.05, spec, duration, rng))
    nodes["analyst"] = NodeLoad(reads=_sessions(spec, duration, rng))
    return Workload(nodes, duration, primary_writes=ct[cr > WRITER_AUTHORS])


def trace_specs(names: tuple[str, ...] = ("libsql", "polars")) -> list[TraceSpec]:
    out = []
    for name in names:
        for label, start in windows(load_history(name)).items():
            for speed in SPEEDS:
                out.append(TraceSpec(name, label, start, WINDOW_DAYS, speed))
    return out


# ------------------------------------------------------------------------ evaluation
@dataclass(frozen=True)
class Outcome:
    """One strategy on one trace: syncs (all nodes, at readers) and the SLO figures."""

    syncs: int
    reader_syncs: int
    over: float
    visibility_p99: float
    oracle: int


def reader_visibility_p99(wl: Workload, syncs: pd.DataFrame) -> float:
    """p99 delay (s) from each commit to its visibility at the nodes that read (commit times
    taken at the write; a delegated write reaches the primary half a round trip later)."""
    commits = np.sort(np.concatenate([wl.primary_writes]
                                     + [ld.writes for ld in wl.nodes.values()]))
    delays = []
    for name, ld in wl.nodes.items():
        if not ld.reads.size:
            continue
        mine = syncs[(syncs["node"] == name) & syncs["ok"]].sort_values("end")
        vis_t = np.concatenate([[0.0], mine["end"].to_numpy(dtype=np.float64)])
        reach = np.maximum.accumulate(np.concatenate([[0.0],
                                                      mine["reach"].to_numpy(np.float64)]))
        seen = visible_at(commits, vis_t, reach)
        delays.append((seen - commits)[~np.isnan(seen)])
    d = np.concatenate(delays) if delays else np.empty(0)
    return float(np.percentile(d, 99)) if d.size else 0.0


#: strategies the table can name besides specs: the budgeted tuner with one budget shared by all
#: replicas of the run (a fleet that pools its reads), built fresh for each run
POOLED = "budgeted-pooled"
#: both tuners with their cycle capped so that visibility can hold: 2 D less CAP_MARGIN
CAPPED, POOLED_CAPPED = "budgeted-capped", "budgeted-pooled-capped"
#: seconds left under 2 D for the pulls at both ends of a cycle
CAP_MARGIN = 5.0


def _tuner(freshness: float, rng: random.Random, pool: StaleReadBudget | None = None,
           capped: bool = False) -> Budgeted:
    cap = {"max_interval": 2.0 * freshness - CAP_MARGIN} if capped else {}
    return Budgeted(freshness, rng=rng, budget=pool, **cap)


def run(wl: Workload, strategy: str, freshness: float, seed: int = 0,
        base: SimConfig | None = None) -> Outcome:
    """``strategy`` on ``wl`` with the network and seed of ``base`` (default: the ``web``
    scenario's network, seed ``seed``)."""
    choice: object = strategy
    if strategy in (POOLED, CAPPED, POOLED_CAPPED):
        pool = StaleReadBudget(TARGET_SHARE) if strategy != CAPPED else None
        choice = functools.partial(_tuner, pool=pool, capped=strategy != POOLED)
    if base is None:
        base = SimConfig(freshness=freshness, seed=seed, scenario="web", duration=wl.duration)
    # detail: the per-node sync table (written to parquet, read back once)
    config = dataclasses.replace(base, strategy=choice, freshness=freshness, detail=True)
    res = simulate(config, workload=wl)
    syncs = res.syncs
    ok = syncs[syncs["ok"]]
    readers = [n for n, ld in wl.nodes.items() if ld.reads.size]
    s = res.summary
    return Outcome(int(s.syncs), int(ok["node"].isin(readers).sum()),
                   float(s.over_freshness_fraction), reader_visibility_p99(wl, syncs),
                   int(s.oracle_syncs))


def best_fixed(wl: Workload, freshness: float, steps: int = 10) -> tuple[float, Outcome]:
    """Longest ``periodic:I`` seen meeting the stale-share target on this run (the simulator's
    hindsight search), with its per-node figures."""
    config = SimConfig(freshness=freshness, seed=0, detail=False, scenario="web",
                       duration=wl.duration)
    found = best_fixed_interval(config, TARGET_SHARE, workload=wl, steps=steps,
                                longest=20.0 * freshness)
    return found.interval, run(wl, f"periodic:{found.interval:.6g}", freshness)


def best_fixed_visible(wl: Workload, freshness: float, longest: float,
                       steps: int = 8) -> tuple[float, Outcome]:
    """Longest ``periodic:I`` (up to ``longest`` s, the read-only hindsight interval) meeting
    the whole SLO on this run: the stale-share target and visibility p99 <= 2 D at the nodes
    that read. Both fall as ``I`` shrinks, so a bisection finds it."""
    def meets(o: Outcome) -> bool:
        return o.over <= TARGET_SHARE and o.visibility_p99 <= 2.0 * freshness

    hi = min(longest, 2.0 * freshness)
    top = run(wl, f"periodic:{hi:.6g}", freshness)
    if meets(top):
        return hi, top
    lo = 0.5 * freshness
    best_i, best = lo, run(wl, f"periodic:{lo:.6g}", freshness)
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        o = run(wl, f"periodic:{mid:.6g}", freshness)
        if meets(o):
            lo, best_i, best = mid, mid, o
        else:
            hi = mid
    return float(f"{best_i:.6g}"), best


def gap_closed(fixed: float, tuner: float, oracle: float) -> float:
    """Share of the way from the best fixed interval to the oracle: 1 = oracle, 0 = fixed."""
    return (fixed - tuner) / (fixed - oracle) if fixed > oracle else float("nan")


def evaluate(specs: list[TraceSpec], targets: tuple[float, ...],
             strategies: tuple[str, ...]) -> pd.DataFrame:
    rows = []
    histories = {s.history: load_history(s.history) for s in specs}
    for spec in specs:
        wl = build(histories[spec.history], spec)
        commits = wl.primary_writes.size + sum(ld.writes.size for ld in wl.nodes.values())
        reads = sum(ld.reads.size for ld in wl.nodes.values())
        for d in targets:
            interval, fixed = best_fixed(wl, d)
            for strategy in strategies:
                o = run(wl, strategy, d)
                rows.append({
                    "trace": spec.name, "history": spec.history, "window": spec.label,
                    "window_start": int(spec.start), "speed": spec.speed, "seed": SEED,
                    "commits": commits, "reads": reads, "freshness": d, "strategy": strategy,
                    "syncs": o.syncs, "reader_syncs": o.reader_syncs, "over": o.over,
                    "visibility_p99_s": o.visibility_p99,
                    "best_interval_s": interval, "fixed_syncs": fixed.syncs,
                    "fixed_reader_syncs": fixed.reader_syncs, "fixed_over": fixed.over,
                    "oracle_syncs": o.oracle,
                    "gap_all": gap_closed(fixed.syncs, o.syncs, o.oracle),
                    # writer nodes never read: the oracle's pulls are all at reader nodes
                    "gap_readers": gap_closed(fixed.reader_syncs, o.reader_syncs, o.oracle),
                })
                print(f"{spec.name:<32} D={d:<3g} {strategy:<10} {o.syncs:>7,} "
                      f"({o.reader_syncs:,}) over {100 * o.over:.2f} % vis p99 "
                      f"{o.visibility_p99:.3g} s | fixed {interval:.3g} s {fixed.syncs:,} "
                      f"({fixed.reader_syncs:,}) | oracle {o.oracle:,} | gap "
                      f"{rows[-1]['gap_all']:.2f} / {rows[-1]['gap_readers']:.2f}", flush=True)
    return pd.DataFrame(rows)


def evaluate_visible(specs: list[TraceSpec], targets: tuple[float, ...],
                     read_only: pd.DataFrame) -> pd.DataFrame:
    """The whole SLO, visibility included: the longest fixed interval meeting it (no longer
    than the read-only one in ``read_only``) against both tuners capped at 2 D - CAP_MARGIN."""
    rows = []
    histories = {s.history: load_history(s.history) for s in specs}
    for spec in specs:
        wl = build(histories[spec.history], spec)
        for d in targets:
            mine = read_only[(read_only["trace"] == spec.name) & (read_only["freshness"] == d)]
            interval, fixed = best_fixed_visible(wl, d, float(mine["best_interval_s"].iloc[0]))
            for strategy in (CAPPED, POOLED_CAPPED):
                o = run(wl, strategy, d)
                rows.append({
                    "trace": spec.name, "freshness": d, "strategy": strategy,
                    "syncs": o.syncs, "reader_syncs": o.reader_syncs, "over": o.over,
                    "visibility_p99_s": o.visibility_p99,
                    "fixed_interval_s": interval, "fixed_syncs": fixed.syncs,
                    "fixed_reader_syncs": fixed.reader_syncs, "fixed_over": fixed.over,
                    "fixed_visibility_p99_s": fixed.visibility_p99, "oracle_syncs": o.oracle,
                    "gap_all": gap_closed(fixed.syncs, o.syncs, o.oracle),
                    "gap_readers": gap_closed(fixed.reader_syncs, o.reader_syncs, o.oracle),
                })
                print(f"{spec.name:<32} D={d:<3g} {strategy:<22} {o.syncs:>7,} "
                      f"({o.reader_syncs:,}) over {100 * o.over:.2f} % vis p99 "
                      f"{o.visibility_p99:.3g} s | fixed (whole SLO) {interval:.3g} s "
                      f"{fixed.syncs:,} ({fixed.reader_syncs:,}) | gap "
                      f"{rows[-1]['gap_all']:.2f} / {rows[-1]['gap_readers']:.2f}", flush=True)
    return pd.DataFrame(rows)


def markdown_visible(df: pd.DataFrame) -> str:
    """The table of :func:`evaluate_visible`: one row per trace and D."""
    lines = [f"Visibility included in the SLO: the longest fixed interval meeting both halves "
             f"(<= 1 % of reads older than D, visibility p99 <= 2 D at the nodes that read), "
             f"against the tuners with their cycle capped at 2 D - {CAP_MARGIN:g} s. Syncs "
             f"over all nodes (at readers) / reads older than D / visibility p99; gap closed "
             f"over all nodes / at readers.", "",
             "| trace | D (s) | fixed interval (whole SLO) | `budgeted`, capped | "
             "`budgeted-pooled`, capped | oracle |", "|---|---|---|---|---|---|"]
    for (trace, d), g in df.groupby(["trace", "freshness"], sort=False):
        r0 = g.iloc[0]
        cells = []
        for strategy in (CAPPED, POOLED_CAPPED):
            r = g[g["strategy"] == strategy].iloc[0]
            vis = f"{r.visibility_p99_s:.3g} s"
            if r.visibility_p99_s > 2 * d:
                vis = f"**{vis}**"
            cells.append(f"{r.syncs:,} ({r.reader_syncs:,}) / {100 * r.over:.2f} % / {vis}; "
                         f"{r.gap_all:.2f} / {r.gap_readers:.2f}")
        lines.append(f"| {trace} | {d:g} | {r0.fixed_interval_s:.3g} s: {r0.fixed_syncs:,} "
                     f"({r0.fixed_reader_syncs:,}) / {100 * r0.fixed_over:.2f} % / "
                     f"{r0.fixed_visibility_p99_s:.3g} s | " + " | ".join(cells)
                     + f" | {r0.oracle_syncs:,} |")
    return "\n".join(lines) + "\n"


def markdown(df: pd.DataFrame) -> str:
    lines = ["| trace | commits / reads | D (s) | strategy | syncs (at readers) | reads > D | "
             "visibility p99 (s) | best fixed interval: syncs (at readers) | oracle | "
             "gap closed, all / readers |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in df.itertuples():
        lines.append(
            f"| {r.trace} | {r.commits:,} / {r.reads:,} | {r.freshness:g} | `{r.strategy}` | "
            f"{r.syncs:,} ({r.reader_syncs:,}) | {100 * r.over:.2f} % | "
            f"{r.visibility_p99_s:.3g} | {r.best_interval_s:.3g} s: {r.fixed_syncs:,} "
            f"({r.fixed_reader_syncs:,}) | {r.oracle_syncs:,} | "
            f"{r.gap_all:.2f} / {r.gap_readers:.2f} |")
    return "\n".join(lines) + "\n"


class _Logged(Budgeted):
    """The budgeted tuner, noting the interval it plans at each sync start (for the figure)."""

    def __init__(self, freshness: float, rng: random.Random) -> None:
        super().__init__(freshness, rng=rng)
        self.planned: list[tuple[float, float]] = []

    def on_sync_started(self, now: float) -> None:
        iv = self.interval_in_force
        self.planned.append((now, math.nan if iv is None else iv))
        super().on_sync_started(now)


def figure(out: Path, history: str = "polars", label: str = "typical",
           freshness: float = 30.0, node: str = "api") -> Path:
    """The tuner's interval at one reader over two days of a real-time trace, against that
    node's read rate and the commit rate (per hour)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = next(s for s in trace_specs((history,)) if s.label == label and s.speed == 1.0)
    wl = build(load_history(history), spec).clipped(2 * DAY)
    made: list[_Logged] = []

    def factory(f: float, rng: random.Random) -> _Logged:
        made.append(_Logged(f, rng))
        return made[-1]

    simulate(SimConfig(strategy=factory, freshness=freshness, seed=0, detail=False,
                       scenario="web", duration=wl.duration), workload=wl)
    tuner = made[wl.names.index(node)]
    t, iv = np.array(tuner.planned).T
    commits = np.sort(np.concatenate([wl.primary_writes]
                                     + [ld.writes for ld in wl.nodes.values()]))
    edges = np.arange(0.0, wl.duration + 3600.0, 3600.0)
    reads_h = np.histogram(wl.nodes[node].reads, edges)[0]
    commits_h = np.histogram(commits, edges)[0]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True)
    ax1.plot(t / 3600.0, iv, ".", ms=2, color="C0")
    ax1.set_yscale("log")
    ax1.set_ylabel(f"interval at {node} (s)")
    ax1.set_title(f"budgeted tuner, {spec.name}, D = {freshness:g} s: first two days")
    ax2.step(edges[:-1] / 3600.0, reads_h, where="post", color="C1", label="reads at this node")
    ax2.set_ylabel("reads per hour")
    ax3 = ax2.twinx()
    ax3.step(edges[:-1] / 3600.0, commits_h, where="post", color="C2", label="commits")
    ax3.set_ylabel("commits per hour")
    ax2.set_xlabel("hours from the window's start (00:00 UTC)")
    fig.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path = out / "budgeted_interval.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def compact(df: pd.DataFrame) -> str:
    """The README's table: one row per trace and D, the strategies side by side."""
    order = [x for x in ("adaptive", "budgeted", POOLED, "notify") if x in set(df["strategy"])]
    head = " | ".join(f"`{x}`" for x in order)
    lines = ["Syncs over all nodes (at the reader nodes) / reads older than D; gap closed over "
             "all nodes / at readers, for the tuners. Target: <= 1 % of reads older than D.", "",
             f"| trace | D (s) | best fixed interval (hindsight) | {head} | oracle |",
             "|---|---|---|" + "---|" * len(order) + "---|"]
    for (trace, d), g in df.groupby(["trace", "freshness"], sort=False):
        r0 = g.iloc[0]
        cells = []
        for x in order:
            r = g[g["strategy"] == x].iloc[0]
            over = f"{100 * r.over:.2f} %"
            if r.over > TARGET_SHARE:
                over = f"**{over}**"
            gap = "" if x == "notify" else f"; {r.gap_all:.2f} / {r.gap_readers:.2f}"
            cells.append(f"{r.syncs:,} ({r.reader_syncs:,}) / {over}{gap}")
        lines.append(f"| {trace} | {d:g} | {r0.best_interval_s:.3g} s: {r0.fixed_syncs:,} "
                     f"({r0.fixed_reader_syncs:,}) / {100 * r0.fixed_over:.2f} % | "
                     + " | ".join(cells) + f" | {r0.oracle_syncs:,} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "simulations" / "results")
    parser.add_argument("--smoke", action="store_true", help="one small trace, for tests")
    parser.add_argument("--strategies", default=f"adaptive,budgeted,{POOLED},notify",
                        help="comma-separated specs (and budgeted-pooled, notify)")
    parser.add_argument("--history", action="append", help="only these histories")
    parser.add_argument("--no-visibility", action="store_true",
                        help="skip the study with visibility in the SLO")
    parser.add_argument("--visibility-only", action="store_true",
                        help="only the visibility study, from the real_traffic.csv in --out")
    parser.add_argument("--figure-only", action="store_true",
                        help="only draw budgeted_interval.png")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.figure_only or not (args.smoke or args.visibility_only):
        print(f"figure: {figure(args.out)}")
    if args.figure_only:
        return
    strategies = tuple(s.strip() for s in args.strategies.split(","))
    names = tuple(args.history) if args.history else ("libsql", "polars")
    specs = trace_specs(names)
    targets: tuple[float, ...] = (30.0, 60.0)
    if args.smoke:
        specs = [s for s in specs if s.label == "quiet" and s.speed == 60.0][:1]
        specs = [TraceSpec(s.history, s.label, s.start, 1, s.speed) for s in specs]
        targets = (30.0,)
    if args.visibility_only:
        # the read-only intervals bound the search: take them from the last full run
        df = pd.read_csv(args.out / "real_traffic.csv")
    else:
        df = evaluate(specs, targets, strategies)
        df.to_csv(args.out / "real_traffic.csv", index=False, float_format="%.6g")
        (args.out / "real_traffic.md").write_text(compact(df) + "\nEvery run:\n\n"
                                                  + markdown(df))
        print(compact(df))
    if not args.no_visibility:
        vis = evaluate_visible(specs, targets, df)
        vis.to_csv(args.out / "real_traffic_visibility.csv", index=False, float_format="%.6g")
        (args.out / "real_traffic_visibility.md").write_text(markdown_visible(vis))
        print(markdown_visible(vis))


if __name__ == "__main__":
    main()
