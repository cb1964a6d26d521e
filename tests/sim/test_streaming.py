"""Streaming results: the summary comes from per-node tallies; detail stays in memory or goes
to parquet files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synctune.sim import SUMMARY_FIELDS, RunSummary, SimConfig, simulate

CFG = SimConfig(scenario="microservice", duration=900.0, nodes=4, strategy="adaptive", seed=3)


def test_detail_tables_are_parquet_files_that_agree_with_the_summary(tmp_path: Path) -> None:
    res = simulate(dataclasses.replace(CFG, detail_dir=str(tmp_path / "detail")))
    files = sorted(p.name for p in (tmp_path / "detail").iterdir())
    assert files == ["reads.parquet", "syncs.parquet", "writes.parquet"]
    s, reads = res.summary, res.reads
    stale = reads["staleness_s"].to_numpy()
    assert len(reads) == s.reads and np.all(np.diff(reads["t"].to_numpy()) >= 0)
    assert s.stale_read_fraction == pytest.approx((stale > 0).mean())
    assert s.staleness_p99_s == np.percentile(stale, 99)  # exact below the sketch's limit
    assert s.staleness_mean_s == pytest.approx(stale.mean())
    syncs = res.syncs
    assert int(syncs["ok"].sum()) == s.syncs and int((~syncs["ok"]).sum()) == s.sync_failures
    writes = res.writes
    assert len(writes) == s.writes
    assert s.write_latency_p99_ms == pytest.approx(
        np.percentile(writes["latency_ms"].dropna().to_numpy(), 99))


def test_summary_is_the_same_with_or_without_detail() -> None:
    with_detail = simulate(CFG)
    without = simulate(dataclasses.replace(CFG, detail=False))
    assert without.summary.as_dict() == pytest.approx(with_detail.summary.as_dict())
    assert without.reads.empty and without.syncs.empty and without.writes.empty
    pd.testing.assert_frame_equal(without.metrics, with_detail.metrics)


def test_detail_without_a_directory_stays_in_memory_and_equals_the_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", None)
    held = simulate(CFG)
    assert held.detail_dir is None
    assert list(scratch.iterdir()) == []  # no temporary directory, no files
    files = simulate(dataclasses.replace(CFG, detail_dir=str(tmp_path / "detail")))
    for table in ("reads", "writes", "syncs"):
        pd.testing.assert_frame_equal(getattr(held, table), getattr(files, table))
    assert len(held.reads) == held.summary.reads


def test_summary_fields_are_documented_by_the_dataclass() -> None:
    assert list(SUMMARY_FIELDS) == list(RunSummary.__dataclass_fields__)
    assert all(doc for doc in SUMMARY_FIELDS.values())
    s = simulate(dataclasses.replace(CFG, detail=False)).summary
    assert dict(s) == s.as_dict() and s["syncs"] == s.syncs
    with pytest.raises(KeyError):
        s["no_such_figure"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.syncs = 0  # type: ignore[misc]


def test_metric_series_is_thinned_to_its_row_budget() -> None:
    full = simulate(dataclasses.replace(CFG, detail=False))
    thin = simulate(dataclasses.replace(CFG, detail=False, max_metric_rows=100))
    assert len(full.metrics) == 4 * 90 and len(thin.metrics) <= 100 + 4
    # the last sample (the end of the run) is kept, and cumulative figures agree there
    last = thin.metrics.groupby("node")["t"].max()
    assert (last == 900.0).all()
    end_full = full.metrics[full.metrics["t"] == 900.0].set_index("node")
    end_thin = thin.metrics[thin.metrics["t"] == 900.0].set_index("node")
    pd.testing.assert_series_equal(end_full["sync_bandwidth"], end_thin["sync_bandwidth"])
    # alerts are evaluated on the full grid either way
    pd.testing.assert_frame_equal(full.alerts, thin.alerts)
    assert full.summary.as_dict() == thin.summary.as_dict()


def test_a_failed_run_leaves_no_detail_files(tmp_path: Path) -> None:
    cfg = dataclasses.replace(CFG, detail_dir=str(tmp_path), strategy=_broken)
    with pytest.raises(RuntimeError, match="broken on purpose"):
        simulate(cfg)
    assert list(tmp_path.iterdir()) == []


def _broken(freshness: float, rng: object) -> object:
    from synctune.policy import Periodic

    class Broken(Periodic):
        def on_sync_finished(self, now: float, report: object) -> None:  # type: ignore[override]
            raise RuntimeError("broken on purpose")

    return Broken(10.0)
