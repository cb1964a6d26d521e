"""``compare(config, strategies)``: every strategy over the same workload and faults."""

from __future__ import annotations

import dataclasses

import pandas as pd

from synctune.sim import strategies as _strategies
from synctune.sim.config import SimConfig
from synctune.sim.engine import build_workload, simulate


def compare(config: SimConfig, strategies: list[str]) -> pd.DataFrame:
    """One summary row per strategy spec, all run on ``config``'s workload, network and faults
    (built once; same seed, so common random numbers).

    Per-read and per-write tables are not kept (``detail`` is turned off) to save memory.
    """
    if not isinstance(config, SimConfig):
        raise TypeError(f"config must be a SimConfig, got {config!r}")
    if isinstance(strategies, str) or not strategies:
        raise ValueError(f"strategies must be a non-empty list of specs, got {strategies!r}")
    for spec in strategies:
        if not isinstance(spec, str):
            raise TypeError(f"strategies must be spec strings, got {spec!r}")
        _strategies.check_spec(spec, config.freshness)
    workload = build_workload(config)
    rows = []
    for spec in strategies:
        run = dataclasses.replace(config, strategy=spec, detail=False)
        rows.append(simulate(run, workload=workload).summary)
    return pd.DataFrame(rows)
