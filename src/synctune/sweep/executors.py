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
from typing import Any

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
    from distributed import Client
    if dask == "local":
        with local_cluster(workers or os.cpu_count() or 1) as cluster, \
                Client(cluster) as client:
            yield client.get_executor(pure=False)
        return
    if workers is not None:
        raise InvalidInput(f"workers is set by the Dask cluster at {dask}, not here "
                           f"(got {workers})")
    with Client(dask, timeout=10) as client:
        yield client.get_executor(pure=False)


#: Dask's nannies start workers with ``MALLOC_TRIM_THRESHOLD_=65536``. Setting it turns off
#: glibc's sliding mmap threshold, so every array over 128 KiB is mapped afresh and faulted in
#: page by page: a simulation shard (numpy temporaries per node) then took 1.4-3x the CPU of a
#: plain process, in the kernel. Left unset, a shard costs 1.1x (benchmarks/bench_fleet.py).
_LOCAL_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


def local_cluster(workers: int, **options: Any) -> Any:
    """A Dask LocalCluster of ``workers`` single-threaded processes for simulation shards,
    without the malloc trim setting that costs them CPU (``options`` go to LocalCluster)."""
    import dask
    from distributed import LocalCluster
    with dask.config.set(_LOCAL_CONFIG):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                            dashboard_address=None, silence_logs=logging.ERROR, **options)
