"""The one atomic-write helper: whole file or nothing, permissions from the umask."""

from __future__ import annotations

import os
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from synctune._files import write_atomically, write_text_atomically
from synctune.sweep import ResultStore, run_key, run_sweep


def test_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    write_text_atomically(target, "new,text\n")
    assert target.read_text() == "new,text\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_failed_writer_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")

    def half(tmp: str) -> None:
        Path(tmp).write_text("half a fi")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, half)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_mode_comes_from_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_text_atomically(tmp_path / "a", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o640
    assert os.umask(old) == old  # and the process's umask is left as it was


def _square(params: dict[str, int]) -> dict[str, int]:
    return {"y": params["x"] ** 2}


def test_sweep_clears_dead_temporaries_and_keeps_live_ones(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    dead = tmp_path / f".{run_key({'x': 9})}.parquet.abc.tmp"
    live = tmp_path / f".{run_key({'x': 8})}.parquet.def.tmp"
    dead.write_bytes(b"PAR1 half")
    live.write_bytes(b"PAR1 half")
    hour_ago = time.time() - 3600
    os.utime(dead, (hour_ago, hour_ago))
    with ThreadPoolExecutor(1) as pool:
        rows = run_sweep([{"x": 1}, {"x": 2}], task=_square, store=store, executor=pool)
    assert sorted(rows["y"]) == [1, 4]
    assert not dead.exists() and live.exists()
    assert len(store) == 2
