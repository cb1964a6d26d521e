"""simulations/sparse_traffic.py: the sparse family's shape, its seeding, and the table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "simulations" / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def _neighbour(name: str) -> ModuleType:
    """A script of ``simulations/`` that imports its neighbours."""
    sys.path.insert(0, str(ROOT / "simulations"))
    try:
        return _load(name)
    finally:
        sys.path.remove(str(ROOT / "simulations"))


@pytest.fixture(scope="module")
def sp() -> ModuleType:
    sys.path.insert(0, str(ROOT / "simulations"))  # the script imports its neighbours
    try:
        _load("real_traffic")
        return _load("sparse_traffic")
    finally:
        sys.path.remove(str(ROOT / "simulations"))


def test_same_seed_same_trace_and_seeds_differ(sp: ModuleType) -> None:
    a, b, c = sp.sparse_trace(1, days=1), sp.sparse_trace(1, days=1), sp.sparse_trace(2, days=1)
    for name in a.nodes:
        assert np.array_equal(a.nodes[name].reads, b.nodes[name].reads)
        assert np.array_equal(a.nodes[name].writes, b.nodes[name].writes)
    assert not np.array_equal(a.nodes["reader-1"].reads, c.nodes["reader-1"].reads)


def test_readers_follow_the_day_commits_are_sparse_and_writers_rarely_read(
        sp: ModuleType) -> None:
    wl = sp.sparse_trace(0, days=3)
    day = sp.DAY
    reads = np.concatenate([wl.nodes[f"reader-{i}"].reads for i in range(1, 5)])
    hour = (reads % day) // 3600
    # per reader and second: about 0.01 at night (02:00-05:00), about 0.4 at 14:00-16:00
    night = np.isin(hour, (2, 3, 4)).sum() / (4 * 3 * 3 * 3600.0)
    peak = np.isin(hour, (14, 15)).sum() / (4 * 3 * 2 * 3600.0)
    assert 0.005 < night < 0.02
    assert 0.3 < peak < 0.45
    commits = np.concatenate([wl.primary_writes]
                             + [ld.writes for ld in wl.nodes.values()])
    assert 0 < commits.size < 40 * 3  # a few sessions a day
    assert np.all((commits % day) >= 9 * 3600)  # work sessions start after 09:00
    for w in range(1, 4):
        ld = wl.nodes[f"writer-{w}"]
        assert ld.reads.size < 3 * 24  # about one read an hour of the working day
        assert ld.reads.size > 0


def test_read_rate_bounds(sp: ModuleType) -> None:
    t = np.arange(0.0, sp.DAY, 60.0)
    r = sp.read_rate(t)
    assert r.min() == pytest.approx(sp.NIGHT_READS, abs=1e-3)
    assert r.max() == pytest.approx(sp.PEAK_READS)
    assert np.argmax(r) * 60.0 == pytest.approx(15 * 3600.0)


@pytest.mark.slow
def test_table_on_one_short_trace(sp: ModuleType) -> None:
    df = sp.evaluate([0], 1, (30.0,), ("budgeted",))
    row = df.iloc[0]
    assert row["strategy"] == "budgeted"
    assert row["fixed_over"] <= sp.TARGET_SHARE
    assert row["oracle_syncs"] <= row["syncs"]
    text = sp.markdown(df)
    assert "`budgeted`" in text and "x best fixed" in text


def test_the_reliability_table_counts_the_traces_over_the_target(sp: ModuleType) -> None:
    rel = _neighbour("sparse_reliability")
    import pandas as pd

    rows = [{"trace": k, "freshness": 30.0, "strategy": s, "syncs": n, "over": o}
            for s, n, overs in (("budgeted", 100, (0.004, 0.011, 0.009)),
                                ("periodic:90", 300, (0.002, 0.003, 0.0101)))
            for k, o in enumerate(overs)]
    s = rel.summary(pd.DataFrame(rows)).set_index("strategy")
    assert s.loc["budgeted", "missed"] == 1 and s.loc["periodic:90", "missed"] == 1
    assert s.loc["budgeted", "worst_over"] == pytest.approx(0.011)
    assert s.loc["periodic:90", "x_budgeted"] == pytest.approx(3.0)
    assert "| 30 | `budgeted` | 1 of 3 | 0.80 % / 1.10 % | 300 | 1.00 |" in rel.markdown(
        s.reset_index())


def test_a_replica_alone_keeps_its_reads_and_every_commit(sp: ModuleType) -> None:
    pr = _neighbour("per_replica")
    import pandas as pd

    wl = sp.sparse_trace(1, days=1)
    one = pr.alone(wl, "reader-2")
    assert list(one.nodes) == ["reader-2"]
    assert np.array_equal(one.nodes["reader-2"].reads, wl.nodes["reader-2"].reads)
    every = np.concatenate([wl.primary_writes] + [ld.writes for ld in wl.nodes.values()])
    assert np.array_equal(one.primary_writes, np.sort(every))
    df = pd.DataFrame([{"trace": "t", "freshness": 30.0, "replica": "api", "reads": 4000,
                        "syncs": 9, "over": 0.0115},
                       {"trace": "t", "freshness": 30.0, "replica": "analyst", "reads": 16,
                        "syncs": 9, "over": 0.1875}])
    text = pr.markdown(df)
    assert "at least 500 reads: 1 of 2, 1 over 1 %, at most 1.15 %" in text
    assert "| t | 30 | analyst | 16 (few reads) | 9 | **18.75 %** |" in text
