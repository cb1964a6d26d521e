"""``compare(config, strategies)``: every strategy over the same workload and faults."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path

import pandas as pd

from synctune.policy.errors import InvalidInput, InvalidType
from synctune.sim.config import SimConfig
from synctune.sim.engine import CHUNK_READS, build_workload, node_chunks, simulate
from synctune.sim.run import strategies as _strategies
from synctune.sim.run.strategies import StrategyChoice
from synctune.sim.shards import shardable, simulate_sharded


def compare(config: SimConfig, strategies: Sequence[StrategyChoice], *,
            on_run: Callable[[StrategyChoice], object] | None = None,
            executor: Executor | None = None, workers: int = 1,
            on_nodes: Callable[[int], object] | None = None,
            detail_dir: str | None = None) -> pd.DataFrame:
    """One summary row per strategy (spec, subclass or factory, as :class:`SimConfig` takes),
    all run on ``config``'s workload, network and faults (same seed, so common random
    numbers). A workload small enough to hold is built once; a larger one is streamed.

    Args:
        config: the run (its ``strategy`` is replaced by each of ``strategies``).
        strategies: the strategies to compare.
        on_run: called with each strategy after its run (a progress bar, say).
        executor: run each strategy in shards of nodes on it (see
            :mod:`synctune.sim.shards`); runs that cannot be sharded run here.
        workers: the executor's workers (to size the shards).
        on_nodes: called with the number of nodes done, as they are done.
        detail_dir: write each strategy's detail tables to ``detail_dir/<k>-<strategy>``
            (runs unsharded); ``None`` keeps none.
    """
    if not isinstance(config, SimConfig):
        raise InvalidType(f"config must be a SimConfig, got {config!r}")
    if isinstance(strategies, str) or not strategies:
        raise InvalidInput(f"strategies must be a non-empty list of specs, got {strategies!r}")
    for spec in strategies:
        _strategies.check_choice(spec, config.freshness)
    streamed = executor is not None or (
        config.trace is None and len(node_chunks(config, CHUNK_READS)) > 1)
    workload = None if streamed else build_workload(config)
    rows = []
    for k, spec in enumerate(strategies):
        run = dataclasses.replace(config, strategy=spec, detail=False)
        if detail_dir is not None:
            run = dataclasses.replace(run, detail=True, detail_dir=str(
                Path(detail_dir) / f"{k + 1}-{_safe(_strategies.name_of(spec))}"))
        if executor is not None and shardable(run) is None:
            res = simulate_sharded(run, executor, workers=workers, progress=on_nodes)
        else:
            res = simulate(run, workload=workload, progress=on_nodes)
        rows.append(res.summary.as_dict())
        if on_run is not None:
            on_run(spec)
    return pd.DataFrame(rows)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+_-]+", "_", name)[:60] or "strategy"
