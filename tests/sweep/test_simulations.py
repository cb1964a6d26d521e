"""The headline script in smoke mode: every output, and figures that agree with the simulator."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from synctune.sim import SimConfig, best_fixed_interval, simulate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def headline() -> ModuleType:
    spec = importlib.util.spec_from_file_location("headline", ROOT / "simulations" / "headline.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["headline"] = mod  # dataclasses look their module up by name
    spec.loader.exec_module(mod)
    return mod


def test_smoke_run_writes_table_and_figures(headline: ModuleType, tmp_path: Path) -> None:
    plan = headline.smoke_plan()
    table = headline.run(tmp_path, plan, workers=2, progress=False,
                         store=tmp_path / "store")
    for name in ("results.csv", "results.md", "headline.md", "staleness_cdf.png", "pareto.png",
                 "adaptive_interval.png", "data_at_risk.png"):
        assert (tmp_path / name).stat().st_size > 0, name
        if name.endswith(".png"):
            assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    csv = pd.read_csv(tmp_path / "results.csv")
    cells = len(plan.workloads) * len(plan.strategies) * len(plan.freshness)
    assert len(csv) == len(table) == cells
    assert (csv["n"] == plan.seeds).all()
    assert set(csv["workload"]) == set(plan.workloads)
    oracle = csv[csv["strategy"] == "oracle"]
    assert np.allclose(oracle["syncs_per_oracle"], 1.0)
    md = (tmp_path / "results.md").read_text().splitlines()
    assert sum(ln.startswith("| ") for ln in md) == 1 + cells  # header + one row per cell

    # one cell recomputed from scratch: the mean of the seeds' summaries
    fixed = plan.workloads["microservice"]
    direct = [simulate(SimConfig(strategy="adaptive", freshness=30.0, seed=s, **fixed)).summary
              for s in range(plan.seeds)]
    row = csv[(csv["workload"] == "microservice") & (csv["strategy"] == "adaptive")].iloc[0]
    assert row["syncs"] == pytest.approx(np.mean([d["syncs"] for d in direct]))
    assert row["staleness_p99_s"] == pytest.approx(
        np.mean([d["staleness_p99_s"] for d in direct]), rel=1e-5)


@given(st.lists(st.tuples(st.floats(0, 100), st.one_of(st.floats(0, 50), st.none())),
                max_size=30),
       st.lists(st.floats(0, 160), min_size=1, max_size=20))
def test_data_at_risk_counts_pending_writes(headline: ModuleType,
                                            writes: list[tuple[float, float | None]],
                                            times: list[float]) -> None:
    frame = pd.DataFrame({
        "node": ["n1"] * len(writes) + ["primary"],
        "t": [t for t, _ in writes] + [5.0],
        "commit_t": [t + d if d is not None else np.nan for t, d in writes] + [5.0],
    })
    grid = np.asarray(sorted(times))
    expected = [sum(1 for t, d in writes if t <= g and (d is None or g < t + d)) for g in grid]
    assert list(headline.at_risk(frame, grid)) == expected


def test_front_keeps_only_non_dominated_points(headline: ModuleType) -> None:
    x = np.array([10.0, 20.0, 5.0, 40.0, 20.0])
    y = np.array([0.5, 0.1, 0.9, 0.0, 0.3])
    assert list(headline._front(x, y)) == [2, 0, 1, 3]


def test_hindsight_table_uses_the_library_search(headline: ModuleType,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # the fixture makes `headline` importable for the script; real_traffic comes from the path
    monkeypatch.syspath_prepend(str(ROOT / "simulations"))
    spec = importlib.util.spec_from_file_location("hindsight",
                                                  ROOT / "simulations" / "hindsight.py")
    assert spec and spec.loader
    hindsight = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hindsight)
    fixed = {"scenario": "microservice", "duration": 900.0}
    df = hindsight.table({"m": fixed}, (30.0,))
    found = best_fixed_interval(SimConfig(freshness=30.0, **fixed), hindsight.TARGET_SHARE)
    assert df["best_interval_s"].iloc[0] == found.interval
    assert df["best_fixed_syncs"].iloc[0] == found.syncs
    md = hindsight.markdown(df)
    assert "| m | 30 |" in md
    # the read-aware tuners ran on the same workload, with their gap to the oracle
    assert "`budgeted-pooled`" in md and df["budgeted_syncs"].iloc[0] > 0
    assert df["best_fixed_reader_syncs"].iloc[0] <= df["best_fixed_syncs"].iloc[0]
