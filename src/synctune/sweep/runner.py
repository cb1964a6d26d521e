"""Run a sweep on any executor, storing each run as it finishes and skipping stored runs.

The runner submits every run not yet in the results store, and as each one completes writes
its row at once (atomically). A sweep that is killed therefore loses at most the runs in
flight; running it again with the same store redoes nothing that was stored.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from pathlib import Path
from typing import Any

import pandas as pd

from synctune._progress import progress_bar
from synctune.policy import _check
from synctune.policy.errors import InvalidInput, InvalidType
from synctune.sweep.executors import open_executor
from synctune.sweep.grid import run_key
from synctune.sweep.store import ResultStore
from synctune.sweep.task import simulate_summary

Task = Callable[[dict[str, Any]], Mapping[str, Any]]

#: a results-store temporary file untouched this long (s) belongs to a killed writer
STALE_TEMPORARY_S = 600.0

#: bookkeeping columns added to every run's row
RUN_COLUMNS = ("run_key", "run_elapsed_s", "run_worker")


class SweepRunError(RuntimeError):
    """A run raised; the runs stored before it are kept."""


def timed_run(task: Task, params: dict[str, Any]) -> tuple[dict[str, Any], float, str]:
    """Call ``task(params)`` in the worker; return its result, wall time (s) and worker id."""
    start = time.perf_counter()
    result = task(params)
    elapsed = time.perf_counter() - start
    if not isinstance(result, Mapping):
        raise InvalidType(f"sweep task must return a mapping, got {type(result).__name__}")
    return dict(result), elapsed, f"{socket.gethostname()}:{os.getpid()}"


def make_row(params: Mapping[str, Any], result: Mapping[str, Any], key: str, elapsed: float,
             worker: str) -> dict[str, Any]:
    """One stored row: parameters, then results (``result_`` prefixed on a name clash)."""
    row: dict[str, Any] = dict(params)
    for name, value in result.items():
        row[f"result_{name}" if name in params or name in RUN_COLUMNS else name] = value
    row.update(run_key=key, run_elapsed_s=elapsed, run_worker=worker)
    return row


def _unique(runs: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for params in runs:
        if not isinstance(params, Mapping):
            raise InvalidType(f"each run must be a mapping of parameters, got {params!r}")
        for name in params:
            if name in RUN_COLUMNS:
                raise InvalidInput(f"parameter name {name!r} is reserved for run bookkeeping")
        out.setdefault(run_key(params), dict(params))
    return out


def run_sweep(runs: Iterable[Mapping[str, Any]], *, task: Task = simulate_summary,
              store: ResultStore | str | os.PathLike[str] | None = None,
              executor: Executor | None = None, progress: bool = False,
              max_in_flight: int | None = None) -> pd.DataFrame:
    """Run every run's ``task(params)`` and return one row per run (stored or new).

    Args:
        runs: parameter dicts (e.g. a :class:`~synctune.sweep.grid.Grid`); duplicates run once.
        task: picklable top-level function ``params -> dict`` (default: one simulator run's
            summary).
        store: results directory (or store); runs already in it are skipped, new ones are
            written as they finish. ``None`` keeps results in memory only.
        executor: any ``concurrent.futures.Executor`` (thread or process pool, Dask's
            ``client.get_executor()``); default a local process pool, shut down afterwards.
        progress: show a tqdm bar on stderr.
        max_in_flight: most runs submitted at once (default 64, or 4 per local CPU if more),
            which bounds memory on big sweeps while keeping every worker busy.

    Raises:
        SweepRunError: a run raised; other runs in flight are cancelled, stored runs are kept.
    """
    todo = _unique(runs)
    if not isinstance(store, ResultStore | None):
        store = ResultStore(store)
    if store is not None:
        # a sweep killed mid-write leaves a hidden temporary file; one that old is dead
        store.clean_temporary(older_than=STALE_TEMPORARY_S)
    if max_in_flight is None:
        max_in_flight = max(64, 4 * (os.cpu_count() or 1))
    _check.count("max_in_flight", max_in_flight, minimum=1)
    done = store.keys() & todo.keys() if store is not None else set()
    pending = [(k, p) for k, p in todo.items() if k not in done]
    rows: dict[str, dict[str, Any]] = {}
    if pending:
        if executor is None:
            with open_executor() as pool:
                _execute(pool, task, pending, store, rows, max_in_flight,
                         progress_bar(len(todo), done=len(done), enabled=progress))
        else:
            _execute(executor, task, pending, store, rows, max_in_flight,
                     progress_bar(len(todo), done=len(done), enabled=progress))
    if store is not None:
        return _ordered(store.load(todo.keys()), list(todo))
    return _ordered(pd.DataFrame.from_records(list(rows.values())), list(todo))


def _ordered(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if frame.empty:
        return frame
    order = {k: i for i, k in enumerate(keys)}
    return frame.sort_values("run_key", key=lambda s: s.map(order)).reset_index(drop=True)


def _execute(executor: Executor, task: Task, pending: list[tuple[str, dict[str, Any]]],
             store: ResultStore | None, rows: dict[str, dict[str, Any]], max_in_flight: int,
             bar: Any) -> None:
    queue = iter(pending)
    in_flight: dict[Future[Any], tuple[str, dict[str, Any]]] = {}

    def submit_more() -> None:
        while len(in_flight) < max_in_flight:
            nxt = next(queue, None)
            if nxt is None:
                return
            in_flight[executor.submit(timed_run, task, nxt[1])] = nxt

    try:
        submit_more()
        while in_flight:
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for fut in finished:
                key, params = in_flight.pop(fut)
                try:
                    result, elapsed, worker = fut.result()
                except Exception as exc:
                    raise SweepRunError(f"run {params} failed: {exc}") from exc
                row = make_row(params, result, key, elapsed, worker)
                if store is not None:
                    store.write(key, row)
                rows[key] = row
                bar.update(1)
            submit_more()
    finally:
        for fut in in_flight:
            fut.cancel()
        bar.close()


def load_results(directory: str | Path) -> pd.DataFrame:
    """Every run stored in ``directory``."""
    return ResultStore(directory).load()
