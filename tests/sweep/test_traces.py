"""The sample-trace generator: same seed, same bytes; the committed data/ is its output."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from synctune.sim.elaborate.trace import load_trace

ROOT = Path(__file__).resolve().parents[2]


def _module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_traces",
                                                  ROOT / "simulations" / "make_traces.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    make = _module()
    make.make_traces(tmp_path / "a", seed=5)
    make.make_traces(tmp_path / "b", seed=5)
    make.make_traces(tmp_path / "c", seed=6)
    a, b, c = (_bytes(tmp_path / d) for d in "abc")
    assert a == b
    assert set(a) == set(c) == {f"{n}.csv" for n in make.TRACES} | {"traces.json"}
    assert all(a[f"{n}.csv"] != c[f"{n}.csv"] for n in make.TRACES)


def test_committed_sample_traces_are_the_generators_output(tmp_path: Path) -> None:
    make = _module()
    manifest = make.make_traces(tmp_path, seed=make.SEED)
    committed = json.loads((ROOT / "data" / "traces.json").read_text())
    assert committed == manifest, "data/ is stale: run python simulations/make_traces.py"
    for name, info in manifest.items():
        data = (ROOT / "data" / str(info["file"])).read_bytes()
        assert data == (tmp_path / str(info["file"])).read_bytes(), name
        assert len(data) < 1_000_000


@pytest.mark.parametrize("name", ["diurnal-day", "bursty-ingest", "flash-crowd"])
def test_sample_traces_load_and_match_their_description(name: str) -> None:
    workload = load_trace(ROOT / "data" / f"{name}.csv")
    info = json.loads((ROOT / "data" / "traces.json").read_text())[name]
    ops = sum(ld.reads.size + ld.writes.size + ld.syncs.size for ld in workload.nodes.values())
    assert ops + workload.primary_writes.size == info["rows"]
    assert workload.primary_writes.size > 0 and len(workload.nodes) == 2
