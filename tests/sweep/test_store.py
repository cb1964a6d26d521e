"""Parquet results store: round trip, atomic writes, leftovers of killed writers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from synctune.sweep import ResultStore, run_key


def test_round_trip_keeps_types_and_values(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "results")
    params = {"scenario": "web", "freshness": 30.0, "seed": 3, "trace": None, "flag": True}
    row = {**params, "syncs": np.int64(12), "stale": np.float64(0.25), "nan": math.nan,
           "run_key": run_key(params)}
    path = store.write(run_key(params), row)
    assert path.name == f"{run_key(params)}.parquet"
    back = store.read(run_key(params))
    assert back["scenario"] == "web" and back["seed"] == 3 and back["trace"] is None
    assert back["flag"] is True and back["syncs"] == 12 and back["stale"] == 0.25
    assert isinstance(back["syncs"], int)
    assert math.isnan(back["nan"])
    frame = ResultStore(tmp_path / "results").load()
    assert len(frame) == 1 and frame.loc[0, "freshness"] == 30.0
    assert run_key(params) in store and len(store) == 1


def test_load_subset_and_empty(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    assert store.load().empty
    keys = [run_key({"x": i}) for i in range(5)]
    for i, k in enumerate(keys):
        store.write(k, {"x": i, "run_key": k})
    assert store.keys() == set(keys)
    assert sorted(store.load(keys[:2])["x"]) == [0, 1]


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ResultStore(tmp_path)
    key = run_key({"x": 1})

    def half_write(table: object, where: object, **kw: object) -> None:
        Path(str(where)).write_bytes(b"PAR1 partial")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", half_write)
    with pytest.raises(OSError, match="disk full"):
        store.write(key, {"x": 1})
    assert key not in store
    assert list(tmp_path.iterdir()) == []


def test_temp_file_of_a_killed_writer_is_ignored(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    key = run_key({"x": 1})
    (tmp_path / f".{key}.abc123.tmp").write_bytes(b"PAR1 half a file")
    assert store.keys() == set() and store.load().empty
    store.write(key, {"x": 1})
    assert store.keys() == {key}
    assert store.clean_temporary() == 1
    assert [p.name for p in tmp_path.iterdir()] == [f"{key}.parquet"]


def test_overwrite_replaces_whole_file(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    key = run_key({"x": 1})
    store.write(key, {"x": 1, "value": 1.0})
    store.write(key, {"x": 1, "value": 2.0})
    assert store.read(key)["value"] == 2.0


def test_bad_store_paths(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="must be a directory"):
        ResultStore(f)
    with pytest.raises(ValueError, match="run key must be lower-case hex"):
        ResultStore(tmp_path / "d").path("../evil")
