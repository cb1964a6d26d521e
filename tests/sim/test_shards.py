"""One run in shards of nodes: the same seed gives the same figures as the unsharded run."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synctune.sim import SCENARIOS, SimConfig, engine, simulate
from synctune.sim.reduce import sketch, visibility
from synctune.sim.shards import shard_ranges, shardable, simulate_sharded

CFG = SimConfig(scenario="microservice", nodes=7, duration=1200.0, strategy="adaptive",
                seed=4, detail=False)
COUNTS = ("nodes", "syncs", "sync_failures", "oracle_syncs", "ryw_pulls", "bytes", "reads",
          "writes", "write_errors", "visibility_censored", "unsynced_writes_max",
          "unsynced_writes_end", "cold_starts", "alerts_high_sync_lag", "alerts_sync_failure",
          "alerts_replica_stale")
QUANTILES = ("staleness_p99_s", "visibility_p99_s", "write_latency_p99_ms",
             "read_latency_p99_ms")


def _agree(whole: dict[str, object], sharded: dict[str, object]) -> None:
    for key in COUNTS:
        assert sharded[key] == whole[key], key
    for key in QUANTILES:
        w, s = float(whole[key]), float(sharded[key])  # type: ignore[arg-type]
        assert abs(s - w) <= sketch.RELATIVE_ERROR * w, key
    for key in ("stale_read_fraction", "over_freshness_fraction", "staleness_max_s",
                "visibility_max_s"):
        assert sharded[key] == whole[key], key
    for key in ("staleness_mean_s", "visibility_mean_s"):
        assert sharded[key] == pytest.approx(whole[key], rel=1e-12), key


def test_sharded_over_processes_agrees_with_the_whole_run() -> None:
    whole = simulate(CFG)
    with ProcessPoolExecutor(2) as pool:
        sharded = simulate_sharded(CFG, pool, workers=2)
    assert len(shard_ranges(CFG, 2)) == 4
    _agree(whole.summary.as_dict(), sharded.summary.as_dict())
    pd.testing.assert_frame_equal(whole.metrics, sharded.metrics)
    pd.testing.assert_frame_equal(whole.alerts, sharded.alerts)


@pytest.mark.parametrize("spec", ["periodic:30", "on-write", "oracle"])
def test_bucketed_sketches_merge_across_shards(monkeypatch: pytest.MonkeyPatch,
                                               spec: str) -> None:
    # a tiny exact limit puts every sketch in its bucketed form
    monkeypatch.setattr(sketch, "EXACT_LIMIT", 1000)
    cfg = dataclasses.replace(CFG, strategy=spec, failure_prob=0.05)
    whole = simulate(cfg).summary.as_dict()
    with ThreadPoolExecutor(3) as pool:
        sharded = simulate_sharded(cfg, pool, workers=3).summary.as_dict()
    _agree(whole, sharded)


def test_sampled_visibility_merges_across_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    # a fleet-sized log bins a sample of its commits: every shard must draw the same one
    unsampled = simulate(CFG).summary.visibility_p99_s
    monkeypatch.setattr(visibility, "SAMPLE_SIZE", 300)
    whole = simulate(CFG).summary.as_dict()
    with ThreadPoolExecutor(3) as pool:
        sharded = simulate_sharded(CFG, pool, workers=3).summary.as_dict()
    _agree(whole, sharded)
    assert whole["visibility_p99_s"] == sharded["visibility_p99_s"] != unsampled


def test_chunks_in_one_process_give_the_same_tables(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    cfg = dataclasses.replace(CFG, detail=True)
    whole = simulate(dataclasses.replace(cfg, detail_dir=str(tmp_path / "whole")))
    monkeypatch.setattr(engine, "CHUNK_READS", 30_000)
    assert len(engine.node_chunks(cfg, engine.CHUNK_READS)) == 7
    chunked = simulate(dataclasses.replace(cfg, detail_dir=str(tmp_path / "chunked")))
    assert chunked.summary == whole.summary  # nodes fold in the same order
    for table in ("reads", "writes", "syncs", "metrics", "alerts"):
        pd.testing.assert_frame_equal(getattr(whole, table), getattr(chunked, table))


def test_what_cannot_be_sharded_says_why() -> None:
    lf = dataclasses.replace(CFG, write_model="local-first")
    assert "local-first" in (shardable(lf) or "")
    assert "detail" in (shardable(dataclasses.replace(CFG, detail=True)) or "")
    with ThreadPoolExecutor(1) as pool, pytest.raises(ValueError, match="local-first"):
        simulate_sharded(lf, pool, workers=1)
    assert shardable(CFG) is None


@pytest.mark.parametrize("name", sorted(SCENARIOS))
@pytest.mark.parametrize("seed", [0, 11])
def test_a_workload_built_for_some_nodes_is_the_same_for_them(name: str, seed: int) -> None:
    sc = SCENARIOS[name]
    full = sc.build(1800.0, 6, np.random.default_rng(seed))
    part = sc.build(1800.0, 6, np.random.default_rng(seed), only=range(2, 4))
    for i, (node, load) in enumerate(full.nodes.items()):
        got = part.nodes[node]
        for field in ("writes", "write_bytes", "syncs", "cold_starts"):
            assert np.array_equal(getattr(load, field), getattr(got, field)), (node, field)
        assert np.array_equal(got.reads, load.reads if i in (2, 3) else np.empty(0))
    assert np.array_equal(full.primary_writes, part.primary_writes)
    assert np.array_equal(full.primary_bytes, part.primary_bytes)


def test_the_cost_estimate_follows_the_workload() -> None:
    from synctune.sim.cost import estimate

    small = estimate(CFG)
    actual = simulate(CFG).summary
    assert 0.8 < small.reads / actual.reads < 1.25
    assert 0.5 < small.writes / actual.writes < 2.0
    big = estimate(dataclasses.replace(CFG, nodes=70))
    assert big.reads == pytest.approx(10 * small.reads, rel=0.01)
    assert big.memory_bytes > small.memory_bytes and big.seconds > 10 * small.seconds
    assert small.sharded and not estimate(dataclasses.replace(CFG, detail=True)).sharded
    assert not estimate(dataclasses.replace(CFG, write_model="local-first")).sharded
