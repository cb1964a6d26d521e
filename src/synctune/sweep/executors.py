"""Where runs execute: local processes by default, or a Dask cluster.

Everything the runner needs is a :class:`concurrent.futures.Executor`; this module only builds
one from the CLI's ``--dask ADDRESS`` / ``--dask local`` / ``--workers N`` options.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor

from synctune._extras import require
from synctune.policy import _check
from synctune.policy.errors import InvalidInput


def _check_workers(workers: int | None) -> int | None:
    if workers is None:
        return None
    return _check.count("workers", workers, minimum=1)


@contextlib.contextmanager
def open_executor(dask: str | None = None, workers: int | None = None) -> Iterator[Executor]:
    """An executor for a sweep, shut down (and its cluster closed) on exit.

    Args:
        dask: ``None`` for a local process pool; ``"local"`` for a Dask LocalCluster on this
            machine; otherwise the address of a running Dask scheduler (``tcp://host:8786``).
        workers: worker processes for the local pool or LocalCluster (default: CPU count).
            Not allowed with a scheduler address: that cluster's size is set where it runs.
    """
    workers = _check_workers(workers)
    if dask is None:
        with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            yield pool
        return
    if not isinstance(dask, str) or not dask.strip():
        raise InvalidInput(f"dask must be 'local' or a scheduler address, got {dask!r}")
    require("--dask", "dask", "distributed")
    from distributed import Client, LocalCluster
    if dask == "local":
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
        with cluster, Client(cluster) as client:
            yield client.get_executor(pure=False)
        return
    if workers is not None:
        raise InvalidInput(f"workers is set by the Dask cluster at {dask}, not here "
                           f"(got {workers})")
    with Client(dask, timeout=10) as client:
        yield client.get_executor(pure=False)
