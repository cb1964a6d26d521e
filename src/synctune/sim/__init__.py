"""The simulator: replay workloads against sync strategies on a simulated clock (SimPy).

``simulate(SimConfig(...))`` runs one strategy; ``compare(config, specs)`` runs several on the
same workload and faults. Workloads come from trace files (:func:`load_trace`) or generators.

The names below load on first use (PEP 562), so a caller that needs only a constant (the CLI's
``--help``: scenario names, write models) does not pay for numpy, pandas and SimPy.
"""

import sys
from types import ModuleType
from typing import TYPE_CHECKING

from synctune._lazy_names import lazy_names
from synctune.sim import _requires  # noqa: F401  (first: a missing extra is one clear line)

if TYPE_CHECKING:
    # what the lazy names below are, for type checkers and IDEs (never imported at run time)
    from synctune.sim.advice import Advice, advise
    from synctune.sim.choices import WRITE_MODELS
    from synctune.sim.compare import compare
    from synctune.sim.config import Outage, SimConfig
    from synctune.sim.elaborate.generators import bursty, diurnal, flash_crowd, poisson, thinned
    from synctune.sim.elaborate.oracle import Oracle, oracle_pulls
    from synctune.sim.elaborate.scenarios import SCENARIOS, Scenario, scenario
    from synctune.sim.elaborate.trace import TraceError, load_trace, save_trace, trace_frame
    from synctune.sim.elaborate.workload import PRIMARY, NodeLoad, Workload
    from synctune.sim.engine import build_workload, simulate
    from synctune.sim.hindsight import FixedInterval, best_fixed_interval
    from synctune.sim.result import SUMMARY_FIELDS, RunSummary, SimResult
    from synctune.sim.run.strategies import StrategyChoice, StrategyFactory

# module -> the public names it defines, imported on first access
_SOURCES = {
    "advice": ("Advice", "advise"),
    "choices": ("WRITE_MODELS",),
    "compare": ("compare",),
    "config": ("Outage", "SimConfig"),
    "engine": ("build_workload", "simulate"),
    "elaborate.generators": ("bursty", "diurnal", "flash_crowd", "poisson", "thinned"),
    "hindsight": ("FixedInterval", "best_fixed_interval"),
    "elaborate.oracle": ("Oracle", "oracle_pulls"),
    "result": ("SUMMARY_FIELDS", "RunSummary", "SimResult"),
    "elaborate.scenarios": ("SCENARIOS", "Scenario", "scenario"),
    "run.strategies": ("StrategyChoice", "StrategyFactory"),
    "elaborate.trace": ("TraceError", "load_trace", "save_trace", "trace_frame"),
    "elaborate.workload": ("PRIMARY", "NodeLoad", "Workload"),
}


class _Package(ModuleType):
    """This package, with ``compare`` always the function, never its submodule.

    Loading the submodule ``synctune.sim.compare`` binds it here under the same name (after it
    has run); the eager imports used to overwrite that with the function, and this keeps it so.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name == "compare" and isinstance(value, ModuleType):
            value = value.compare
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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

__getattr__, __dir__ = lazy_names(__name__, _SOURCES, globals(), __all__)
