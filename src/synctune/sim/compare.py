"""``compare(config, strategies)``: every strategy over the same workload and faults."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import pandas as pd

from synctune.policy.errors import InvalidInput, InvalidType
from synctune.sim import strategies as _strategies
from synctune.sim.config import SimConfig
from synctune.sim.engine import build_workload, simulate
from synctune.sim.strategies import StrategyChoice


def compare(config: SimConfig, strategies: Sequence[StrategyChoice], *,
            on_run: Callable[[StrategyChoice], object] | None = None) -> pd.DataFrame:
    """One summary row per strategy (spec, subclass or factory, as :class:`SimConfig` takes),
    all run on ``config``'s workload, network and faults (built once; same seed, so common
    random numbers).

    Per-read, per-write and per-sync tables are not kept (``detail`` is turned off).
    ``on_run(spec)`` is called after each strategy's run (a progress bar, say).
    """
    if not isinstance(config, SimConfig):
        raise InvalidType(f"config must be a SimConfig, got {config!r}")
    if isinstance(strategies, str) or not strategies:
        raise InvalidInput(f"strategies must be a non-empty list of specs, got {strategies!r}")
    for spec in strategies:
        _strategies.check_choice(spec, config.freshness)
    workload = build_workload(config)
    rows = []
    for spec in strategies:
        run = dataclasses.replace(config, strategy=spec, detail=False)
        rows.append(simulate(run, workload=workload).summary.as_dict())
        if on_run is not None:
            on_run(spec)
    return pd.DataFrame(rows)
