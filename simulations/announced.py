"""Commit announcements on the real-traffic traces and the scenarios: ``announced`` against the
best fixed interval in hindsight and the oracle, with the watcher's pulls counted.

    .venv/bin/python simulations/announced.py --data ../shared/data        # ~10 min
    .venv/bin/python simulations/announced.py --smoke --out /tmp/ann        # seconds

The channel has the simulator's realistic defaults (median delay 1 ms, log-normal, rare 200 ms
retransmits; docs/fleet.md). For each real-traffic cell (12 traces x D = 30, 60 s; the traces
of ``real_traffic.py``, same seed and network):

* **as they are** (3 writer nodes, 3 reader nodes): ``announced`` with a polling watcher, with
  a long-poll watcher, and with a polling watcher through a 10-minute channel outage (mid-run)
  and 1 % loss. The best fixed interval and its syncs come from ``real_traffic.csv`` (the same
  runs' hindsight bisection); the oracle from each run.
* **widened**: the readers widened to 10 reading replicas (4 ``api``, 3 ``dashboard``, 3
  ``analyst``, independent reads of the same patterns). The fixed interval is the cell's best
  one (the same read patterns, so the same stale share: checked, the table gives its share),
  run once on the widened fleet.

Gap closed = ``(fixed - strategy) / (fixed - oracle)``: at the nodes that read (watcher
excluded), and over the whole fleet with the watcher's pulls counted (they are requests at
the primary).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_traffic as rt  # the traces and their mapping

from synctune.sim import SimConfig, best_fixed_interval, simulate
from synctune.sim.elaborate.workload import NodeLoad, Workload

OUTAGE_S, LOSS = 600.0, 0.01
WIDE = (("api", 4), ("dashboard", 3), ("analyst", 3))


def widened(history: pd.DataFrame, spec: rt.TraceSpec) -> Workload:
    """The trace with its readers widened to 10 reading replicas (same patterns)."""
    wl = rt.build(history, spec)
    rng = np.random.default_rng([rt.SEED, int(spec.start), int(spec.speed), 10])
    nodes = {n: ld for n, ld in wl.nodes.items() if n.startswith("author")}
    for kind, k in WIDE:
        for j in range(1, k + 1):
            if kind == "analyst":
                reads = rt._sessions(spec, wl.duration, rng)
            else:
                reads = rt._thinned(0.5 if kind == "api" else 0.05, spec, wl.duration, rng)
            nodes[f"{kind}-{j}"] = NodeLoad(reads=reads)
    return Workload(nodes, wl.duration, primary_writes=wl.primary_writes)


def one(wl: Workload, strategy: str, d: float, **channel: object) -> dict[str, float]:
    """``strategy`` on ``wl``: syncs (all, at readers, the watcher's), reads > D, oracle."""
    cfg = SimConfig(strategy=strategy, freshness=d, seed=0, scenario="web",
                    duration=wl.duration, detail=True, **channel)  # type: ignore[arg-type]
    res = simulate(cfg, workload=wl)
    s, syncs = res.summary, res.syncs
    readers = [n for n, ld in wl.nodes.items() if ld.reads.size]
    ok = syncs[syncs["ok"]]
    return {"syncs": s.syncs, "reader_syncs": int(ok["node"].isin(readers).sum()),
            "watcher_syncs": s.watcher_syncs, "fallback_syncs": s.fallback_syncs,
            "announcements": s.announcements, "over": s.over_freshness_fraction,
            "oracle": s.oracle_syncs}


def gap(fixed: float, got: float, oracle: float) -> float:
    return (fixed - got) / (fixed - oracle) if fixed > oracle else float("nan")


def cells(data: Path, smoke: bool) -> list[tuple[rt.TraceSpec, pd.DataFrame]]:
    out = []
    for name in ("libsql", "polars"):
        h = rt.load_history(name, data)
        for label, start in rt.windows(h).items():
            for speed in rt.SPEEDS:
                out.append((rt.TraceSpec(name, label, start, rt.WINDOW_DAYS, speed), h))
    if smoke:
        out = [(dataclasses.replace(s, days=1), h) for s, h in out
               if s.label == "quiet" and s.speed == 60.0][:1]
    return out


def evaluate(data: Path, fixed_csv: Path, smoke: bool, targets: tuple[float, ...]
             ) -> pd.DataFrame:
    known = pd.read_csv(fixed_csv) if fixed_csv.exists() and not smoke else None
    rows = []
    for spec, h in cells(data, smoke):
        wl, wide = rt.build(h, spec), widened(h, spec)
        for d in targets:
            if known is not None:
                k = known[(known["trace"] == spec.name) & (known["freshness"] == d)].iloc[0]
                interval = float(k["best_interval_s"])
                fixed = {"syncs": int(k["fixed_syncs"]), "over": float(k["fixed_over"]),
                         "reader_syncs": int(k["fixed_reader_syncs"])}
            else:
                base = SimConfig(freshness=d, seed=0, detail=False, scenario="web",
                                 duration=wl.duration)
                interval = best_fixed_interval(base, rt.TARGET_SHARE, workload=wl, steps=8,
                                               longest=20 * d).interval
                fixed = one(wl, f"periodic:{interval:.6g}", d)
            poll = one(wl, "announced", d)
            held = one(wl, "announced", d, watcher_long_poll=True)
            mid = wl.duration / 2
            down = one(wl, "announced", d, announce_loss=LOSS,
                       announce_outages=[(mid, mid + OUTAGE_S)])
            wfixed = one(wide, f"periodic:{interval:.6g}", d)
            wpoll = one(wide, "announced", d)
            wheld = one(wide, "announced", d, watcher_long_poll=True)
            row = {"trace": spec.name, "freshness": d, "fixed_interval_s": interval,
                   "fixed_syncs": fixed["syncs"], "fixed_reader_syncs": fixed["reader_syncs"],
                   "fixed_over": fixed["over"], "oracle": poll["oracle"]}
            for tag, r in (("poll", poll), ("held", held), ("down", down)):
                row.update({f"{tag}_{k}": v for k, v in r.items()})
                row[f"{tag}_gap_readers"] = gap(fixed["reader_syncs"], r["reader_syncs"],
                                                r["oracle"])
                row[f"{tag}_gap_fleet"] = gap(fixed["syncs"], r["syncs"], r["oracle"])
            row.update({"wide_fixed_syncs": wfixed["syncs"], "wide_fixed_over": wfixed["over"],
                        "wide_oracle": wpoll["oracle"]})
            for tag, r in (("wide_poll", wpoll), ("wide_held", wheld)):
                row.update({f"{tag}_{k}": v for k, v in r.items()})
                row[f"{tag}_gap_readers"] = gap(wfixed["reader_syncs"], r["reader_syncs"],
                                                r["oracle"])
                row[f"{tag}_gap_fleet"] = gap(wfixed["syncs"], r["syncs"], r["oracle"])
            rows.append(row)
            print(f"{spec.name:<32} D={d:<3g} readers {row['poll_gap_readers']:.2f} "
                  f"fleet {row['poll_gap_fleet']:.2f}/{row['held_gap_fleet']:.2f} "
                  f"wide {row['wide_poll_gap_fleet']:.2f}/{row['wide_held_gap_fleet']:.2f} "
                  f">D {100 * poll['over']:.3f}% down {100 * down['over']:.3f}% "
                  f"fallback {down['fallback_syncs']}", flush=True)
    return pd.DataFrame(rows)


def scenarios(smoke: bool) -> pd.DataFrame:
    """The built-in scenarios (shortened: 2 h each), same columns where they apply."""
    rows = []
    for name in ("web", "serverless", "microservice"):
        d = 30.0
        base = SimConfig(scenario=name, freshness=d, seed=0, detail=False,
                         duration=600.0 if smoke else 7200.0)
        interval = best_fixed_interval(base, rt.TARGET_SHARE, steps=6 if smoke else 8,
                                       longest=20 * d).interval
        fixed = simulate(dataclasses.replace(base, strategy=f"periodic:{interval:.6g}")).summary
        row: dict[str, object] = {"scenario": name, "freshness": d, "fixed_interval_s": interval,
                                  "fixed_syncs": fixed.syncs, "fixed_over":
                                  fixed.over_freshness_fraction}
        for tag, extra in (("poll", {}), ("held", {"watcher_long_poll": True}),
                           ("down", {"announce_loss": LOSS, "announce_outages":
                                     [(base.duration / 2, base.duration / 2 + OUTAGE_S)]})):
            s = simulate(dataclasses.replace(base, strategy="announced", **extra)).summary
            row.update({f"{tag}_syncs": s.syncs, f"{tag}_watcher_syncs": s.watcher_syncs,
                        f"{tag}_over": s.over_freshness_fraction, "oracle": s.oracle_syncs,
                        f"{tag}_fallback_syncs": s.fallback_syncs,
                        f"{tag}_gap_fleet": gap(fixed.syncs, s.syncs, s.oracle_syncs)})
        rows.append(row)
        print(row, flush=True)
    return pd.DataFrame(rows)


def markdown(df: pd.DataFrame, sc: pd.DataFrame) -> str:
    pct = "{:.2f} %".format
    lines = [
        "`announced` with the realistic channel (1 ms median delay), D = 30 and 60 s. Gap "
        "closed from the best fixed interval (hindsight) to the oracle: at the nodes that read "
        "(watcher excluded) / over the fleet with the watcher's pulls counted. Widened: 10 "
        "reading replicas. Down: a 10-minute channel outage mid-run and 1 % loss (polling "
        "watcher); its fallback syncs. Target: <= 1 % of reads older than D.", "",
        "| trace | D (s) | reads > D | gap at readers | fleet, polling / long-poll | widened "
        "fleet, polling / long-poll | watcher pulls (polling / long-poll) | down: reads > D, "
        "fallback syncs, gap at readers |",
        "|---|---|---|---|---|---|---|---|"]
    for r in df.itertuples():
        lines.append(
            f"| {r.trace} | {r.freshness:g} | {pct(100 * r.poll_over)} | "
            f"{r.poll_gap_readers:.2f} | {r.poll_gap_fleet:.2f} / {r.held_gap_fleet:.2f} | "
            f"{r.wide_poll_gap_fleet:.2f} / {r.wide_held_gap_fleet:.2f} | "
            f"{r.poll_watcher_syncs:,} / {r.held_watcher_syncs:,} | "
            f"{pct(100 * r.down_over)}, {r.down_fallback_syncs:,}, "
            f"{r.down_gap_readers:.2f} |")
    lines += ["", "Scenarios (2 h each, D = 30 s): syncs with the watcher's, reads > D, gap "
              "closed over the fleet.", "",
              "| scenario | best fixed | polling watcher | long-poll watcher | down (outage + "
              "1 % loss): reads > D, fallback syncs | oracle |", "|---|---|---|---|---|---|"]
    for r in sc.itertuples():
        lines.append(
            f"| {r.scenario} | {r.fixed_interval_s:.3g} s: {r.fixed_syncs:,} | "
            f"{r.poll_syncs:,} ({r.poll_watcher_syncs:,} watcher), {pct(100 * r.poll_over)}, "
            f"{r.poll_gap_fleet:.2f} | {r.held_syncs:,} ({r.held_watcher_syncs:,}), "
            f"{pct(100 * r.held_over)}, {r.held_gap_fleet:.2f} | {pct(100 * r.down_over)}, "
            f"{r.down_fallback_syncs:,} | {r.oracle:,} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=rt.HISTORIES, help="commit histories")
    ap.add_argument("--out", type=Path, default=rt.ROOT / "simulations" / "results")
    ap.add_argument("--smoke", action="store_true", help="one short trace, for tests")
    ap.add_argument("--only-d", type=float, action="append", help="only these D (s)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    targets = tuple(args.only_d) if args.only_d else ((30.0,) if args.smoke else (30.0, 60.0))
    df = evaluate(args.data, args.out / "real_traffic.csv", args.smoke, targets)
    sc = scenarios(args.smoke)
    df.to_csv(args.out / "announced.csv", index=False, float_format="%.6g")
    sc.to_csv(args.out / "announced_scenarios.csv", index=False, float_format="%.6g")
    (args.out / "announced.md").write_text(markdown(df, sc))
    print(markdown(df, sc))


if __name__ == "__main__":
    main()
