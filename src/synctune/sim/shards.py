"""One large run sharded by nodes over worker processes or a Dask cluster.

With delegated writes the primary's commit log does not depend on any node's strategy: every
write's commit time is planned before the run from the workload and the write round trips.
Given the log, nodes never meet, so shards of nodes run independently and their tallies merge:
the same seed gives the same counts as the unsharded run, and the quantiles come from the same
merged sketch (see :mod:`synctune.sim.reduce.sketch`), so they are the same figures too; only
float sums (the means) may differ in their last bits.

Local-first writes are not sharded: a node's pushes feed the log every other node pulls from,
so nodes depend on each other's strategies. Such runs (and traces, and runs with ``detail``) go
through :func:`synctune.sim.simulate` in one process.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, as_completed

from synctune.policy.errors import InvalidInput, InvalidType
from synctune.sim.config import SimConfig
from synctune.sim.engine import simulate_nodes
from synctune.sim.reduce.fold import Shard, finish
from synctune.sim.result import SimResult
from synctune.sim.run import strategies
from synctune.sim.setting import resolve


def shardable(config: SimConfig) -> str | None:
    """``None`` when ``config`` can run in shards, else the reason it cannot (one line)."""
    if config.trace is not None:
        return "a trace run is not sharded (every worker would load the whole trace)"
    if resolve(config).write_model != "delegated":
        return ("local-first writes are not sharded: pushes feed the log that other nodes "
                "pull from")
    if config.detail:
        return "detail tables are written by an unsharded run only"
    return None


def shard_ranges(config: SimConfig, workers: int) -> list[range]:
    """Node ranges for ``workers`` workers: two per worker, so a slow one does not hold the
    rest up (each shard runs its nodes in chunks whose reads fit in memory)."""
    nodes = resolve(config).nodes
    size = max(1, -(-nodes // (2 * workers)))
    return [range(a, min(a + size, nodes)) for a in range(0, nodes, size)]


def simulate_sharded(config: SimConfig, executor: Executor, *, workers: int,
                     progress: Callable[[int], object] | None = None) -> SimResult:
    """Run ``config`` in shards of nodes on ``executor`` and merge them.

    Args:
        config: a generated scenario with delegated writes and ``detail=False``.
        executor: any :class:`concurrent.futures.Executor` (a process pool, or a Dask client's
            ``get_executor()``).
        workers: how many workers the executor has (to size the shards).
        progress: called with the number of nodes each finished shard ran.
    """
    if not isinstance(config, SimConfig):
        raise InvalidType(f"config must be a SimConfig, got {config!r}")
    why = shardable(config)
    if why is not None:
        raise InvalidInput(why)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidInput(f"workers must be an integer >= 1, got {workers!r}")
    strategies.check_choice(config.strategy, config.freshness)
    ranges = shard_ranges(config, workers)
    futures: dict[Future[Shard], int] = {
        executor.submit(simulate_nodes, config, r): k for k, r in enumerate(ranges)}
    done: dict[int, Shard] = {}
    try:
        for fut in as_completed(futures):
            k = futures[fut]
            done[k] = fut.result()
            if progress is not None:
                progress(len(ranges[k]))
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    return finish(config, strategies.name_of(config.strategy), resolve(config).write_model,
                  [done[k] for k in range(len(ranges))])
