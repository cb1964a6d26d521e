"""Small workloads built by hand for the simulator tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synctune.sim import NodeLoad, SimConfig, Workload


def single_node(primary_writes, reads, duration: float, *, writes=(), syncs=()) -> Workload:
    """One node called ``a`` plus writes made on the primary."""
    return Workload({"a": NodeLoad(np.asarray(reads, dtype=float),
                                   np.asarray(writes, dtype=float),
                                   syncs=np.asarray(syncs, dtype=float))},
                    duration, np.asarray(primary_writes, dtype=float))


def instant(**kw) -> SimConfig:
    """A config whose syncs take no time (no round trip, unlimited bandwidth, free apply)."""
    base = dict(rtt_ms=0.0, bandwidth=None, apply_s_per_change=0.0, read_your_writes=False)
    base.update(kw)
    return SimConfig(**base)


def trace_file(tmp_path: Path, rows: str) -> str:
    """A trace CSV from rows ``"t,node,op / t,node,op / ..."``; returns its path."""
    path = tmp_path / "trace.csv"
    path.write_text("t,node,op\n" + rows.strip().replace(" / ", "\n") + "\n")
    return str(path)
