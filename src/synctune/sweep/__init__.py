"""Sweeps: factorial designs over scenarios, strategies and parameters, replicated over seeds.

Runs go to any ``concurrent.futures.Executor`` (local processes, Dask), each finished run is stored
at once in a parquet results store, a killed sweep resumes where it stopped, and
:func:`summarize` gives t-based confidence intervals across seeds.
"""

from synctune.sweep import _requires  # noqa: F401  (first: a missing extra is one clear line)
from synctune.sweep.executors import open_executor
from synctune.sweep.grid import Grid, run_key
from synctune.sweep.runner import SweepRunError, load_results, run_sweep
from synctune.sweep.stats import MeanCI, ci_table, mean_ci, summarize, t_quantile
from synctune.sweep.store import ResultStore
from synctune.sweep.task import simulate_summary

__all__ = [
    "Grid", "MeanCI", "ResultStore", "SweepRunError", "ci_table", "load_results", "mean_ci",
    "open_executor", "run_key", "run_sweep", "simulate_summary", "summarize", "t_quantile",
]
