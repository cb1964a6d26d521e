"""``compare(config, strategies)``: every strategy over the same workload and faults."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pandas as pd

from synctune.sim import strategies as _strategies
from synctune.sim.config import SimConfig
from synctune.sim.engine import build_workload, simulate
from synctune.sim.strategies import StrategyChoice


def compare(config: SimConfig, strategies: Sequence[StrategyChoice]) -> pd.DataFrame:
    """One summary row per strategy (spec, subclass or factory, as :class:`SimConfig` takes),
    all run on ``config``'s workload, network and faults (built once; same seed, so common
    random numbers).

    Per-read, per-write and per-sync tables are not kept (``detail`` is turned off).
    """
    if not isinstance(config, SimConfig):
        raise TypeError(f"config must be a SimConfig, got {config!r}")
    if isinstance(strategies, str) or not strategies:
        raise ValueError(f"strategies must be a non-empty list of specs, got {strategies!r}")
    for spec in strategies:
        _strategies.check_choice(spec, config.freshness)
    workload = build_workload(config)
    rows = []
    for spec in strategies:
        run = dataclasses.replace(config, strategy=spec, detail=False)
        rows.append(simulate(run, workload=workload).summary.as_dict())
    return pd.DataFrame(rows)
