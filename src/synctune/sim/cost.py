"""What a run will cost, known before it starts: events, memory and time, from the workload.

The figures are estimates from the scenario's rates (or a trace's size) and per-unit costs
measured with ``benchmarks/bench_fleet.py`` on a 2-core machine (see docs/simulator.md). They
are meant to tell a minute from an hour and a run that fits in memory from one that does not,
not to be exact.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from synctune.sim.config import SimConfig
from synctune.sim.elaborate.scenarios import scenario
from synctune.sim.engine import CHUNK_READS, resolve
from synctune.sim.reduce import sketch, visibility

# measured per-unit costs (one process, 2-core machine; benchmarks/bench_fleet.py)
_S_PER_READ = 0.45e-6  # evaluation of one read (staleness, latency, oracle, batches)
_S_PER_WRITE = 6e-6  # one delegated write: its plan, read-your-writes pull, strategy call
_S_PER_PAIR = 13e-9  # one (commit, other node) visibility pair binned
_S_PER_SAMPLE = 15e-6  # one node's metrics and alerts at one sample time
_BYTES_BASE = 250 << 20  # interpreter, numpy, pandas, simpy
_BYTES_PER_WRITE = 110  # the workload's write, its plan, the commit log and its order
_BYTES_PER_HELD_READ = 8  # a read of the workload (held a chunk of nodes at a time)
_BYTES_PER_NODE_READ = 90  # one node's read while it is reduced (staleness, latency, batches)
_BYTES_PER_TRACE_ROW = 250  # parsing a trace (strings) before it is arrays
_BYTES_PER_SAMPLE = 110  # one row of the metric series


@dataclass(frozen=True, slots=True)
class RunCost:
    """Estimated size of one run of one strategy.

    Attributes:
        nodes: replica nodes.
        reads: reads in all.
        writes: writes in all (nodes and primary).
        visibility_pairs: (commit, other node) pairs whose visibility is measured.
        events: reads + writes + sample points, the work that grows with the workload.
        memory_bytes: peak memory of the process running it (bytes).
        seconds: wall time on one process (s).
        sharded: whether it can run in shards (``--workers``, ``--dask``).
    """

    nodes: int
    reads: int
    writes: int
    visibility_pairs: int
    events: int
    memory_bytes: int
    seconds: float
    sharded: bool

    def seconds_on(self, workers: int) -> float:
        """Wall time on ``workers`` workers (s): shards split the nodes' work."""
        return self.seconds / max(1, workers) if self.sharded else self.seconds


def estimate(config: SimConfig) -> RunCost:
    """The cost of running ``config`` (one strategy), from its workload's size."""
    if not isinstance(config, SimConfig):
        raise TypeError(f"config must be a SimConfig, got {config!r}")
    st = resolve(config)
    samples_per_node = st.duration / config.sample_interval
    if config.trace is not None:
        rows = _trace_rows(config.trace)
        nodes, reads, writes = 1, rows, rows // 20
        held = reads
        parse = rows * _BYTES_PER_TRACE_ROW
        local_first = st.write_model == "local-first"
    else:
        read_rate, write_rate = scenario(config.scenario).rates(st.nodes)
        nodes = st.nodes
        reads, writes = int(read_rate * st.duration), int(write_rate * st.duration)
        local_first = st.write_model == "local-first"
        # delegated runs hold one chunk of nodes' reads at a time; local-first holds them all
        held = reads if local_first else min(reads, CHUNK_READS)
        parse = 0
    node_reads = reads // max(nodes, 1)
    pairs = writes * max(nodes - 1, 1)
    # past SAMPLE_SIZE commits only a sample's delays are binned (local-first: every pair)
    binned = pairs if local_first else min(writes, visibility.SAMPLE_SIZE) * max(nodes - 1, 1)
    samples = int(nodes * samples_per_node)
    seconds = (reads * _S_PER_READ + writes * _S_PER_WRITE + binned * _S_PER_PAIR
               + samples * _S_PER_SAMPLE)
    metric_rows = min(samples, config.max_metric_rows)
    # sketches keep values until their exact limit (staleness, read latency, visibility)
    limit = sketch.EXACT_LIMIT
    kept = 2 * min(reads, limit) + min(pairs, limit) + min(writes, limit)
    memory = (_BYTES_BASE + writes * _BYTES_PER_WRITE + held * _BYTES_PER_HELD_READ + parse
              + node_reads * _BYTES_PER_NODE_READ + metric_rows * _BYTES_PER_SAMPLE + 8 * kept)
    return RunCost(nodes=nodes, reads=reads, writes=writes, visibility_pairs=pairs,
                   events=reads + writes + samples, memory_bytes=int(memory),
                   seconds=seconds,
                   sharded=config.trace is None and not local_first and not config.detail)


def available_memory() -> int:
    """Bytes of memory available to a new process now (``MemAvailable``), or 0 if unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def _trace_rows(path: str) -> int:
    # about 30 bytes a CSV row; parquet is denser (about 10)
    size = Path(path).stat().st_size if Path(path).is_file() else 0
    per_row = 10 if path.lower().endswith((".parquet", ".pq")) else 30
    return max(1, size // per_row)
