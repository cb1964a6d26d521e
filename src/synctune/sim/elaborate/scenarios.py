"""The guide's deployment scenarios as workload generators with their default settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from synctune.policy.errors import InvalidInput
from synctune.sim.elaborate import generators as gen
from synctune.sim.elaborate.workload import NodeLoad, Workload


def _sizes(rng: np.random.Generator, n: int, median: float = 300.0) -> np.ndarray:
    return np.maximum(1, rng.lognormal(np.log(median), 0.6, n)).astype(np.int64)


_NO_READS = np.empty(0)


def _split(times: np.ndarray, nodes: int, rng: np.random.Generator) -> list[np.ndarray]:
    owner = rng.integers(0, nodes, times.size)
    # one stable sort by owner instead of a pass per node: each part keeps time order
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(nodes + 1))
    ordered = times[order]
    return [ordered[bounds[i]:bounds[i + 1]] for i in range(nodes)]


def _reads_of(i: int, only: range | None, reads: np.ndarray) -> np.ndarray:
    return reads if only is None or i in only else _NO_READS


def _web(duration: float, nodes: int, rng: np.random.Generator,
         only: range | None = None) -> Workload:
    # 1,000 users making 100 requests/s in all behind a load balancer, 2 % of them writes;
    # a back office writes straight to the primary
    requests = gen.diurnal(100.0, duration, rng)
    is_write = rng.uniform(size=requests.size) < 0.02
    reads = _split(requests[~is_write], nodes, rng)
    writes = _split(requests[is_write], nodes, rng)
    loads = {f"web-{i + 1}": NodeLoad(_reads_of(i, only, reads[i]), writes[i],
                                      _sizes(rng, writes[i].size))
             for i in range(nodes)}
    primary = gen.poisson(0.5, duration, rng)
    return Workload(loads, duration, primary, _sizes(rng, primary.size))


def _serverless(duration: float, nodes: int, rng: np.random.Generator,
                only: range | None = None, keep_warm: float = 900.0) -> Workload:
    # bursty invocations; each syncs manually at its start, then reads, sometimes writes;
    # an instance idle longer than keep_warm starts cold with a fresh replica file
    loads = {}
    for i in range(nodes):
        inv = gen.bursty(2.0, 0.02, 120.0, 900.0, duration, rng)
        gaps = np.diff(np.concatenate([[-np.inf], inv]))
        cold = inv[gaps > keep_warm]
        reads = np.sort(np.concatenate([inv + 0.002 * k for k in (1, 2, 3)]))
        writes = inv[rng.uniform(size=inv.size) < 0.2] + 0.004
        loads[f"fn-{i + 1}"] = NodeLoad(_reads_of(i, only, reads[reads < duration]),
                                        writes[writes < duration],
                                        _sizes(rng, int((writes < duration).sum())), inv, cold)
    primary = gen.poisson(0.2, duration, rng)
    return Workload(loads, duration, primary, _sizes(rng, primary.size))


def _microservice(duration: float, nodes: int, rng: np.random.Generator,
                  only: range | None = None) -> Workload:
    # several services, each with its own replica; the first one ingests in bursts
    loads = {}
    for i in range(nodes):
        # nodes outside ``only`` skip their reads' draws (the stream stays in step)
        if only is None or i in only:
            reads = gen.poisson(20.0, duration, rng)
        else:
            gen.skip_poisson(20.0, duration, rng)
            reads = _NO_READS
        if i == 0:
            writes = gen.bursty(5.0, 0.05, 30.0, 300.0, duration, rng)
        else:
            writes = gen.poisson(0.5, duration, rng)
        loads[f"svc-{i + 1}"] = NodeLoad(reads, writes, _sizes(rng, writes.size))
    return Workload(loads, duration)


@dataclass(frozen=True, slots=True)
class Scenario:
    """A built-in workload and the settings it runs with unless told otherwise.

    Attributes:
        name: key used by ``SimConfig.scenario`` and ``--scenario``.
        description: one line.
        duration: default simulated time (s).
        rtt_ms: default median round trip (ms).
        nodes: default number of replica nodes.
        write_model: default write model.
        base_db_bytes: replica size at start (bytes).
        strategy: the guide's strategy for it, as a spec.
        build: ``(duration, nodes, rng, only=None) -> Workload``; with ``only`` (a range of
            node indices) the other nodes get no reads (the random streams are drawn alike,
            so every node's load is the same as without ``only``).
        read_rate: reads per second per node (``per_node``) or in all, for cost estimates.
        write_rate: writes per second per node (``per_node``) or in all, with the primary's.
        per_node: whether the rates grow with the number of nodes.
    """

    name: str
    description: str
    duration: float
    rtt_ms: float
    nodes: int
    write_model: str
    base_db_bytes: int
    strategy: str
    build: Callable[..., Workload]
    read_rate: float
    write_rate: float
    per_node: bool

    def rates(self, nodes: int) -> tuple[float, float]:
        """Expected reads and writes per second in all, with ``nodes`` nodes."""
        k = nodes if self.per_node else 1
        return self.read_rate * k, self.write_rate * k


_ALL = (
    Scenario("web", "Web app: 1,000 users, 100 requests/s (2 % writes), local reads < 1 ms, "
             "4 app servers; the guide syncs every 60 s and on write.",
             86_400.0, 50.0, 4, "delegated", 50_000_000, "periodic:60+on-write", _web,
             read_rate=98.0, write_rate=2.5, per_node=False),
    Scenario("serverless", "Functions with bursty invocations and cold starts; client cached; "
             "manual sync at invocation start.",
             21_600.0, 80.0, 3, "delegated", 20_000_000, "manual", _serverless,
             read_rate=0.76, write_rate=0.06, per_node=True),
    Scenario("microservice", "Five services, each with its own replica; the guide syncs every "
             "30 s.", 7_200.0, 20.0, 5, "delegated", 100_000_000, "periodic:30", _microservice,
             read_rate=20.0, write_rate=0.5, per_node=True),
)

#: built-in scenarios by name, read-only
SCENARIOS: MappingProxyType[str, Scenario] = MappingProxyType({s.name: s for s in _ALL})


def scenario(name: str) -> Scenario:
    """The scenario called ``name``, or ``ValueError`` listing the known ones."""
    try:
        return SCENARIOS[name]
    except (KeyError, TypeError):
        raise InvalidInput(f"scenario must be one of {', '.join(SCENARIOS)}, "
                           f"got {name!r}") from None
