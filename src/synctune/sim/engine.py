"""``simulate(config)``: run one strategy over a workload on the simulated clock (SimPy).

A run goes through three stages, as :func:`simulate` shows:

1. **elaborate** (:mod:`synctune.sim.elaborate.elaborate`): the workload, the links, the write
   plan and (delegated writes) the frozen commit log; per node, its app events and the oracle's
   plan;
2. **run** (:mod:`synctune.sim.run.runner`): each node's strategy and SimPy process;
3. **reduce** (:mod:`synctune.sim.reduce.reduce`, folded by :mod:`synctune.sim.reduce.fold`):
   each node, as soon as it is done, to its outcome, metric series, alerts and detail rows; then
   the summary.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from synctune.policy.errors import InvalidInput
from synctune.sim.config import SimConfig
from synctune.sim.elaborate import rng as streams
from synctune.sim.elaborate.elaborate import READ_BATCH_S, Elaboration, elaborate, read_batches
from synctune.sim.elaborate.scenarios import scenario
from synctune.sim.elaborate.trace import load_trace
from synctune.sim.elaborate.workload import Workload
from synctune.sim.reduce.detail import DetailFrames, DetailSink, DetailWriter
from synctune.sim.reduce.fold import Collector, Shard, finish, writes_table
from synctune.sim.result import SimResult
from synctune.sim.run import fleet_channel, strategies
from synctune.sim.run.runner import Runner
from synctune.sim.setting import Setting, resolve

__all__ = ["CHUNK_READS", "READ_BATCH_S", "Setting", "Shard", "build_workload", "finish",
           "node_chunks", "read_batches", "resolve", "simulate", "simulate_nodes"]

#: reads one process holds at a time when a run is split into chunks of nodes (8 bytes each;
#: each chunk builds the workload again, so not too few)
CHUNK_READS = 1 << 25


def build_workload(config: SimConfig, *, only: range | None = None) -> Workload:
    """The workload ``config`` names (trace or scenario), cut to its duration.

    Depends only on the workload fields and the seed, never on the strategy: every strategy
    run with the same seed sees the same workload. With ``only`` (node indices, generated
    scenarios) the other nodes come without reads; everything else is the same.
    """
    if config.trace is not None:
        wl = load_trace(config.trace)
        return wl.clipped(config.duration) if config.duration is not None else wl
    st = resolve(config)
    sc = scenario(config.scenario)
    return sc.build(st.duration, st.nodes, streams.generator(config.seed, "workload"),
                    only=only)


def node_chunks(config: SimConfig, reads: int) -> list[range]:
    """Ranges of nodes of a generated scenario, each with about ``reads`` reads.

    With delegated writes a run splits by nodes (each chunk builds the workload with only its
    nodes' reads); with local-first writes it runs in one piece.
    """
    if config.trace is not None:
        raise InvalidInput("a trace runs in one piece")
    st = resolve(config)
    whole = [range(st.nodes)]
    if st.write_model == "local-first":
        return whole
    read_rate, _ = scenario(config.scenario).rates(st.nodes)
    per_node = read_rate * st.duration / st.nodes
    size = max(1, int(reads // max(per_node, 1.0)))
    if size >= st.nodes:
        return whole
    return [range(a, min(a + size, st.nodes)) for a in range(0, st.nodes, size)]


def simulate(config: SimConfig, *, workload: Workload | None = None,
             progress: Callable[[int], object] | None = None) -> SimResult:
    """Run ``config.strategy`` over the workload; return tables and summary.

    Args:
        config: the run.
        workload: the workload to use instead of building it from ``config`` (lets a comparison
            build it once); must be the one ``config`` describes for results to mean anything.
        progress: called with 1 as each node is done (a progress bar, say).
    """
    if not isinstance(config, SimConfig):
        raise TypeError(f"config must be a SimConfig, got {config!r}")
    strategies.check_choice(config.strategy, config.freshness)
    if workload is not None and not isinstance(workload, Workload):
        raise TypeError(f"workload must be a Workload, got {workload!r}")
    chunks: list[range | None] = [None]
    if workload is None and config.trace is None:
        chunks = list(node_chunks(config, CHUNK_READS))
        if len(chunks) == 1 or _pooled(config):
            chunks = [None]  # a pooled budget's replicas run in one timeline
    detail_dir: Path | None = None
    frames: DetailFrames | None = None
    writer: DetailSink | None = None
    if config.detail and config.detail_dir is not None:
        detail_dir = Path(config.detail_dir)
        writer = DetailWriter(detail_dir)
    elif config.detail:
        # no directory: kept in memory (what a notebook looks at; no files left behind)
        writer = frames = DetailFrames()
    try:
        collector, runner = _run_chunks(config, chunks, workload, writer, progress)
        if writer is not None:
            assert runner.commits is not None and collector.slowest is not None
            writer.add("writes", writes_table(runner.elab.workload, runner.commits,
                                              runner.writes, collector.slowest))
            writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return collector.result(detail_dir, frames.tables if frames is not None else None)


def _pooled(config: SimConfig) -> bool:
    """Whether a factory's strategies pool one budget (a spec's never do)."""
    choice = config.strategy
    if isinstance(choice, str):
        return False
    return strategies.build(choice, config.freshness, streams.python_random(
        config.seed, "strategy", 0)).pooled


def _run_chunks(config: SimConfig, chunks: list[range | None], workload: Workload | None,
                writer: DetailSink | None, progress: Callable[[int], object] | None = None,
                ) -> tuple[Collector, Runner]:
    """Every chunk of nodes elaborated, run and reduced in turn (they share the write plan,
    the commit log and the announcement channel); the channel's counts in the collector."""
    setting, spec = resolve(config), strategies.name_of(config.strategy)
    collector: Collector | None = None
    runner: Runner | None = None
    for chunk in chunks:
        wl = workload if workload is not None else build_workload(config, only=chunk)
        elab = _elaborate(config, setting, wl, spec, runner.elab if runner else None)
        runner = Runner(elab, runner.channel if runner else fleet_channel.FleetChannel.of(config))
        collector = collector or Collector(elab, writer, progress)
        for ran in runner.ran(range(len(wl.names)) if chunk is None else chunk):
            collector.add(elab, ran)
    if collector is None or runner is None:
        raise InvalidInput("a run needs at least one chunk of nodes")
    collector.extra = runner.channel_counts()
    return collector, runner


def simulate_nodes(config: SimConfig, nodes: range) -> Shard:
    """Run only ``nodes`` (indices) of ``config``'s generated scenario, without detail: one
    shard of a run (see :mod:`synctune.sim.shards`). Delegated writes only."""
    st = resolve(config)
    if config.trace is not None or st.write_model != "delegated":
        raise InvalidInput("only a generated scenario with delegated writes runs in shards")
    if config.detail:
        raise InvalidInput("detail tables are written by an unsharded run only")
    if len(nodes) == 0:
        raise InvalidInput(f"nodes must be a non-empty range, got {nodes!r}")
    # chunks of the shard's nodes in turn, sharing the write plan (as an unsharded run does)
    size = len(node_chunks(config, CHUNK_READS)[0])
    chunks: list[range | None] = [range(a, min(a + size, nodes.stop))
                                  for a in range(nodes.start, nodes.stop, size)]
    collector, _ = _run_chunks(config, chunks, None, None)
    return collector.shard()


def _elaborate(config: SimConfig, st: Setting, wl: Workload, spec: str,
               prior: Elaboration | None) -> Elaboration:
    for outage in config.outages:
        if outage.node is not None and outage.node not in wl.nodes:
            raise InvalidInput(f"outage node must be one of {', '.join(wl.names)} or None, "
                             f"got {outage.node!r}")
    duration = float(config.duration) if config.duration is not None else wl.duration
    return elaborate(config, st, wl, duration, spec, prior)
