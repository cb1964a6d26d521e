"""Decision snapshots of ``Announced``: replay seeded event scripts and print every decision.

Run the same scripts against two versions of the code and compare the outputs, e.g.::

    PYTHONPATH=/path/to/old/src python benchmarks/announced_snapshots.py > old.txt
    .venv/bin/python benchmarks/announced_snapshots.py > new.txt
    cmp old.txt new.txt && tail -n1 new.txt

The scripts mix heartbeats (now and then a channel down), hints (some "something may have
changed"), reads asked about first (``before_read``), local writes, app requests, pulls that
bring nothing or some changes, and failures, for ``announced``, ``announced+read-wait:1`` and
``announced+budgeted``. After every event the line is ``next_sync_due`` (float.hex: bit for
bit); after every seventh, also ``decide``'s due and reason. The last line is the count.
"""

from __future__ import annotations

import argparse
import random

from synctune.policy import FailureKind, SyncReport, SyncStrategy, strategy_from_spec

SPECS = ("announced", "announced+read-wait:1", "announced+budgeted")


def _hex(x: float | None) -> str:
    return "None" if x is None else float(x).hex()


def _event(s: SyncStrategy, rng: random.Random, t: float, out: list[str]) -> None:
    """One app or channel event at ``t`` (s)."""
    k = rng.random()
    if k < 0.35:
        s.on_channel(t, rng.random() > 0.02)
    elif k < 0.55:
        c = t - rng.random() * 40 if rng.random() > 0.05 else None
        s.on_announcement(t, c)
    elif k < 0.8:
        out.append(f"wait {_hex(s.before_read(t))}")
        s.on_read(t)
    elif k < 0.85:
        s.on_local_write(t)
    elif k < 0.87:
        s.on_sync_requested(t)


def _script(spec: str, seed: int, events: int, out: list[str]) -> int:
    """One replay; appends its lines to ``out`` and returns the number of decisions."""
    rng = random.Random(seed)
    s = strategy_from_spec(spec, 30.0, rng=random.Random(seed))
    s.start(0.0)
    t, flight, decisions = 0.0, None, 0
    for i in range(events):
        t += rng.expovariate(1.0) * rng.choice([0.01, 0.3, 3.0])
        _event(s, rng, t, out)
        due = s.next_sync_due(t)
        out.append(f"{spec} {seed} {i} {_hex(t)} due {_hex(due)}")
        decisions += 1
        if i % 7 == 0:
            d = s.decide(t)
            out.append(f"  {_hex(d.due)} {d.reason}")
            decisions += 1
        if flight is None and due is not None and due <= t:
            s.on_sync_started(t)
            flight = t
        elif flight is not None and t - flight > 0.2:
            if rng.random() < 0.1:
                s.on_sync_failed(t, FailureKind.NETWORK, t - flight)
            else:
                s.on_sync_finished(t, SyncReport(t - flight, pulled=rng.choice([0, 1, 3])))
            flight = None
    return decisions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="scripts per spec")
    ap.add_argument("--events", type=int, default=20_000, help="events per script")
    args = ap.parse_args()
    out: list[str] = []
    total = sum(_script(spec, seed, args.events, out)
                for spec in SPECS for seed in range(args.seeds))
    print("\n".join(out))
    print(f"{total} decisions")


if __name__ == "__main__":
    main()
