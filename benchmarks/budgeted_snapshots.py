"""Decision snapshots of ``Budgeted``: replay seeded event scripts and print every decision.

Run the same scripts against two versions of the code and compare the outputs, e.g.::

    PYTHONPATH=/path/to/old/src python benchmarks/budgeted_snapshots.py > old.txt
    .venv/bin/python benchmarks/budgeted_snapshots.py > new.txt
    cmp old.txt new.txt && tail -n1 new.txt

Each line is one decision (due, interval, float.hex: bit for bit) or one estimate read after a
pull (interval, change rate, read rate, budget left, model bias). The scripts mix daily read
cycles, sparse and bursty changes, counting and yes/no pulls, own and shared budgets, failures,
pulls observed outside syncs and local writes; the last line is the count of decisions.
"""

from __future__ import annotations

import argparse
import random

from synctune.policy import Budgeted, FailureKind, SyncReport
from synctune.policy.stale_budget import StaleReadBudget


def _hex(x: float | None) -> str:
    return "None" if x is None else float(x).hex()


def _script(seed: int, out: list[str]) -> int:
    """One replay; appends its lines to ``out`` and returns the number of decisions."""
    rng = random.Random(seed)
    shared = seed % 3 == 0
    budget = StaleReadBudget(0.01, 3600.0) if shared else None
    yes_no = seed % 2 == 1  # a driver that reports pulls only as changed or not
    nodes = [Budgeted(rng.choice([5.0, 30.0, 60.0, 300.0]),
                      stale_share=rng.choice([0.01, 0.05]),
                      rng=random.Random(seed), budget=budget, bool_pulls=yes_no)
             for _ in range(3 if shared else 1)]
    day = 86_400.0
    peak_read = rng.choice([0.01, 0.4, 3.0])
    change = rng.choice([1e-4, 1e-3, 0.05])
    t, decisions = 0.0, 0
    for s in nodes:
        s.start(t)
    for _ in range(rng.randrange(2000, 4000)):
        t += rng.expovariate(1.0 / rng.choice([0.5, 5.0, 60.0, 600.0]))
        s = rng.choice(nodes)
        hour = (t % day) / day
        k = rng.random()
        if k < 0.6 * (0.1 + hour):
            s.on_read(t, rng.choice([1, 1, 1, 2, 5]) if rng.random() < peak_read else 1)
        elif k < 0.75:
            s.on_local_write(t, pushed=rng.random() < 0.5)
        elif k < 0.8:
            s.on_pull_observed(t, rng.randrange(0, 3))
        else:
            due = s.next_sync_due(t)
            if due is not None and due <= t + 30.0:
                t = max(t, due)
                s.on_sync_started(t)
                dur = rng.uniform(0.05, 2.0)
                t += dur
                if rng.random() < 0.05:
                    s.on_sync_failed(t, FailureKind.TIMEOUT if rng.random() < 0.5
                                     else FailureKind.NETWORK, dur)
                else:
                    burst = rng.random() < 0.02
                    n = rng.randrange(5, 60) if burst else (
                        1 if rng.random() < change * 60.0 else 0)
                    s.on_sync_finished(t, SyncReport(dur, pulled=min(n, 1) if yes_no else n))
                    out.append(f"e {_hex(s.interval)} {_hex(s.change_rate)} "
                               f"{_hex(s.read_rate)} {_hex(s.budget_left)} "
                               f"{_hex(s.model_bias)}")
        d = s.decide(t)
        out.append(f"d {_hex(d.due)} {_hex(d.interval)}")
        decisions += 1
    return decisions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scripts", type=int, default=120, help="seeded scripts to replay")
    args = ap.parse_args()
    lines: list[str] = []
    total = sum(_script(seed, lines) for seed in range(args.scripts))
    print("\n".join(lines))
    print(f"decisions {total}")


if __name__ == "__main__":
    main()
