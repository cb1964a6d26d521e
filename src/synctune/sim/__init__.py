"""The simulator: replay workloads against sync strategies on a simulated clock (SimPy).

``simulate(SimConfig(...))`` runs one strategy; ``compare(config, specs)`` runs several on the
same workload and faults. Workloads come from trace files (:func:`load_trace`) or generators.
"""

from synctune.sim import _requires  # noqa: F401  (first: a missing extra is one clear line)
from synctune.sim.advice import Advice, advise
from synctune.sim.compare import compare
from synctune.sim.config import WRITE_MODELS, Outage, SimConfig
from synctune.sim.engine import build_workload, simulate
from synctune.sim.generators import bursty, diurnal, flash_crowd, poisson, thinned
from synctune.sim.hindsight import FixedInterval, best_fixed_interval
from synctune.sim.oracle import Oracle, oracle_pulls
from synctune.sim.result import SUMMARY_FIELDS, RunSummary, SimResult
from synctune.sim.scenarios import SCENARIOS, Scenario, scenario
from synctune.sim.strategies import StrategyChoice, StrategyFactory
from synctune.sim.trace import TraceError, load_trace, save_trace, trace_frame
from synctune.sim.workload import PRIMARY, NodeLoad, Workload

__all__ = [
    "PRIMARY",
    "SCENARIOS",
    "SUMMARY_FIELDS",
    "WRITE_MODELS",
    "Advice",
    "FixedInterval",
    "NodeLoad",
    "Oracle",
    "Outage",
    "RunSummary",
    "Scenario",
    "SimConfig",
    "SimResult",
    "StrategyChoice",
    "StrategyFactory",
    "TraceError",
    "Workload",
    "advise",
    "best_fixed_interval",
    "build_workload",
    "bursty",
    "compare",
    "diurnal",
    "flash_crowd",
    "load_trace",
    "oracle_pulls",
    "poisson",
    "save_trace",
    "scenario",
    "simulate",
    "thinned",
    "trace_frame",
]
