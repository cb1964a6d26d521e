"""``synctune sweep``: a factorial simulator sweep with replications and confidence intervals."""

from __future__ import annotations

import dataclasses
import importlib
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from synctune.cli._errors import fail
from synctune.policy.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

    from synctune.sweep.runner import Task
    from synctune.sweep.spec import SweepSpec
    from synctune.sweep.store import ResultStore


def _names(option: str, text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    items = tuple(t.strip() for t in text.split(","))
    if not all(items):
        raise InvalidInput(f"{option} must be a comma-separated list, got {text!r}")
    return items


def _value(text: str) -> Any:
    """A command-line value: JSON scalar when it parses as one (``10``, ``true``, ``null``)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return value if isinstance(value, str | int | float | bool) or value is None else text


def _numbers(option: str, text: str | None) -> tuple[float, ...] | None:
    names = _names(option, text)
    if names is None:
        return None
    out = []
    for item in names:
        value = _value(item)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"{option} must be numbers, got {item!r}")
        out.append(float(value))
    return tuple(out)


def _params(items: tuple[str, ...]) -> dict[str, tuple[Any, ...]]:
    out: dict[str, tuple[Any, ...]] = {}
    for item in items:
        name, sep, levels = item.partition("=")
        if not sep or not name.strip() or not levels.strip():
            raise InvalidInput(f"--param must look like NAME=V1,V2, got {item!r}")
        out[name.strip()] = tuple(_value(v) for v in _names("--param", levels) or ())
    return out


def _load_task(spec: str) -> Callable[[dict[str, Any]], Mapping[str, Any]]:
    module, sep, name = spec.partition(":")
    if not sep or not module or not name:
        raise InvalidInput(f"--task must look like MODULE:FUNCTION, got {spec!r}")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise InvalidInput(f"--task {spec!r} cannot be loaded: {exc}") from exc
    if not callable(fn):
        raise InvalidInput(f"--task {spec!r} is not a function")
    return fn


def _check_sim_params(spec: SweepSpec) -> None:
    # catch misspelt fields and bad values here, before any run starts
    from synctune.sim import SimConfig

    known = {f.name for f in dataclasses.fields(SimConfig)}
    for name in [*spec.params, *spec.fixed]:
        if name not in known:
            raise InvalidInput(f"unknown simulator parameter {name!r} "
                             f"(SimConfig fields: {', '.join(sorted(known))})")
    from synctune.sim import scenario
    from synctune.sim.run.strategies import check_choice

    for params in spec.grid():
        if params["seed"] == 0:
            fields: dict[str, Any] = params
            config = SimConfig(**fields)
            check_choice(config.strategy, config.freshness)
            if config.trace is None:
                scenario(config.scenario)
            elif not Path(config.trace).is_file():
                raise FileNotFoundError(f"trace file not found: {config.trace}")


@click.command()
@click.option("--file", "sweep_file", type=click.Path(dir_okay=False),
              help="TOML or JSON sweep file; the options below override its settings.")
@click.option("--scenarios", help="Comma-separated scenarios, e.g. web,serverless [web].")
@click.option("--strategies",
              help="Comma-separated strategy specs, e.g. periodic:60,on-write,adaptive "
                   "[adaptive].")
@click.option("--freshness", help="Comma-separated freshness targets in s [30].")
@click.option("--seeds", type=int, help="Replications (seeds 0..N-1) per cell [5].")
@click.option("--param", "params", multiple=True, metavar="NAME=V1,V2",
              help="Another factor: a SimConfig field and its levels (repeatable).")
@click.option("--duration", type=float, help="Simulated time per run in s.")
@click.option("--metrics", help="Comma-separated summary figures to tabulate.")
@click.option("--confidence", type=float, help="Confidence level of the intervals [0.95].")
@click.option("--out", type=click.Path(file_okay=False),
              help="Results directory: each run is stored as it finishes; rerunning "
                   "with the same directory skips the stored runs.")
@click.option("--dask", metavar="ADDRESS",
              help="Run on a Dask scheduler at ADDRESS, or 'local' for a LocalCluster.")
@click.option("--workers", type=int, help="Local worker processes [CPU count].")
@click.option("--task", "task_spec", metavar="MODULE:FUNCTION",
              help="Run this function (params dict -> dict) instead of the simulator.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def sweep(sweep_file: str | None, scenarios: str | None, strategies: str | None,
          freshness: str | None, seeds: int | None, params: tuple[str, ...],
          duration: float | None, metrics: str | None, confidence: float | None,
          out: str | None, dask: str | None, workers: int | None, task_spec: str | None,
          as_json: bool, progress: bool) -> None:
    """Simulate a factorial design over seeds: each figure's mean and confidence interval.

    Every scenario x strategy x freshness (x --param) cell runs once per seed; the table gives
    each summary figure's mean with its t-based confidence interval across seeds.
    """
    # pandas, pyarrow and friends load only when a sweep actually runs
    from synctune.sweep.grid import run_key
    from synctune.sweep.store import ResultStore

    spec = _spec(sweep_file, scenarios, strategies, freshness, seeds, params, duration,
                 metrics, confidence)
    task = _task(spec, task_spec)
    runs = spec.grid().runs()
    store = ResultStore(out) if out else None
    stored = len(store.keys() & {run_key(r) for r in runs}) if store else 0
    started = time.perf_counter()
    results = _run(runs, task, store, dask, workers, progress)
    elapsed = time.perf_counter() - started
    new = len(results) - stored
    missing = [m for m in spec.metrics if m not in results.columns]
    if missing:
        fail(f"no metric {missing[0]!r} in the results "
             f"(have: {', '.join(c for c in results.columns if c not in spec.factors)})")
    _report(spec, results, as_json)
    where = f"; results in {Path(out)}" if out else ""
    click.echo(f"{len(results)} runs ({new} new, {len(results) - new} from the store) "
               f"in {elapsed:.1f} s{where}", err=True)


def _spec(sweep_file: str | None, scenarios: str | None, strategies: str | None,
          freshness: str | None, seeds: int | None, params: tuple[str, ...],
          duration: float | None, metrics: str | None, confidence: float | None) -> SweepSpec:
    """The sweep file's design (or the default one) with the flags' overrides."""
    from synctune.sweep.spec import SweepSpec

    spec = SweepSpec.from_file(sweep_file) if sweep_file else SweepSpec()
    extra = _params(params)
    fixed = dict(spec.fixed)
    if duration is not None:
        fixed["duration"] = duration
    return spec.updated(
        scenarios=_names("--scenarios", scenarios), strategies=_names("--strategies", strategies),
        freshness=_numbers("--freshness", freshness), seeds=seeds,
        metrics=_names("--metrics", metrics), confidence=confidence,
        params={**spec.params, **extra} if extra else None, fixed=fixed)


def _task(spec: SweepSpec, task_spec: str | None) -> Task:
    """What each run calls: the simulator (its parameters and figures checked first) or the
    user's function."""
    if task_spec is not None:
        return _load_task(task_spec)
    from synctune.sweep.task import simulate_summary

    _check_sim_params(spec)
    # a misspelt figure is caught before any run, not after the whole sweep
    from synctune.sim import SUMMARY_FIELDS

    unknown = [m for m in spec.metrics if m not in SUMMARY_FIELDS]
    if unknown:
        raise InvalidInput(f"--metrics: no summary figure {unknown[0]!r} "
                         f"(have: {', '.join(SUMMARY_FIELDS)})")
    return simulate_summary


def _run(runs: list[dict[str, Any]], task: Task, store: ResultStore | None, dask: str | None,
         workers: int | None, progress: bool) -> pd.DataFrame:
    """Every run not in the store, on the executor the flags name; all results."""
    from synctune.sweep.executors import open_executor
    from synctune.sweep.runner import SweepRunError, run_sweep

    try:
        with open_executor(dask, workers) as executor:
            return run_sweep(runs, task=task, store=store, executor=executor, progress=progress)
    except SweepRunError as exc:
        fail(str(exc).splitlines()[0])
    except OSError as exc:
        if dask and dask != "local":
            fail(f"cannot use the Dask scheduler at {dask}: {exc}")
        raise


def _report(spec: SweepSpec, results: pd.DataFrame, as_json: bool) -> None:
    """Each figure's mean and confidence interval per cell, as a table or JSON."""
    from synctune.sweep.stats import ci_table, summarize

    by = spec.varying() or ["scenario", "strategy"]
    summary = summarize(results, by, spec.metrics, spec.confidence)
    if as_json:
        click.echo(summary.to_json(orient="records", indent=2))
    else:
        table = ci_table(summary, by)
        click.echo(f"mean ± half-width of the {spec.confidence:.0%} CI over "
                   f"{spec.seeds} seed(s):")
        click.echo(table.to_string(index=False))
