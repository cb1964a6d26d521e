"""The executors' settings: a LocalCluster's workers run simulation shards at a plain process's
cost."""

from __future__ import annotations

import os

import pytest

from synctune.sweep import open_executor


def test_local_cluster_workers_keep_the_dynamic_mmap_threshold(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_, which pins glibc's mmap threshold at 128 KiB:
    # every large numpy temporary is then mapped afresh and faulted in (a shard took 1.4-3x
    # the CPU); the workers must start without it
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    with open_executor(dask="local", workers=1) as executor:
        env = executor.submit(os.environ.get, "MALLOC_TRIM_THRESHOLD_").result()
        pid = executor.submit(os.getpid).result()
    assert pid != os.getpid()
    assert env is None
    assert "MALLOC_TRIM_THRESHOLD_" not in os.environ  # nor set in this process
