"""Trace files: validation names file, line and column; round trips keep the workload."""

from __future__ import annotations

import numpy as np
import pytest

from synctune.sim import SimConfig, TraceError, load_trace, save_trace, simulate


def _write(tmp_path, text: str, name: str = "t.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


GOOD = "t,node,op,bytes\n0.5,a,read,\n1.0,primary,write,100\n2.0,a,write,50\n3,b,sync,\n4,a,read,\n"


def test_good_trace_loads(tmp_path) -> None:
    wl = load_trace(_write(tmp_path, GOOD))
    assert wl.names == ("a", "b")
    assert wl.nodes["a"].reads.tolist() == [0.5, 4.0]
    assert wl.nodes["a"].write_bytes.tolist() == [50]
    assert wl.nodes["b"].syncs.tolist() == [3.0]
    assert wl.primary_writes.tolist() == [1.0] and wl.primary_bytes.tolist() == [100]
    assert wl.duration == 4.0


def test_bytes_column_is_optional(tmp_path) -> None:
    wl = load_trace(_write(tmp_path, "t,node,op\n0,a,write\n1,a,read\n"))
    assert wl.nodes["a"].write_bytes.tolist() == [256]


@pytest.mark.parametrize(("text", "line", "column", "words"), [
    ("t,node\n0,a\n", 1, "op", "missing column"),
    ("t,node,op\n0,a,read\n1,a,delete\n", 3, "op", "delete"),
    ("t,node,op\n0,a,read\n2,a,read\n1,a,read\n", 4, "t", "backwards"),
    ("t,node,op\n0,a,read\nnan,a,read\n", 3, "t", "nan"),
    ("t,node,op\n0,a,read\n,a,read\n", 3, "t", "seconds"),
    ("t,node,op\n0,a,read\nabc,a,read\n", 3, "t", "abc"),
    ("t,node,op\n0,a,read\n-1,a,read\n", 3, "t", "-1"),
    ("t,node,op\n0,,read\n", 2, "node", "empty"),
    ("t,node,op,bytes\n0,a,write,-5\n", 2, "bytes", "-5"),
    ("t,node,op,bytes\n0,a,write,1.5\n", 2, "bytes", "1.5"),
    ("t,node,op\n0,primary,read\n", 2, "op", "primary"),
])
def test_malformed_trace_names_file_line_and_column(tmp_path, text, line, column, words) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(TraceError) as exc:
        load_trace(p)
    msg = str(exc.value)
    assert "\n" not in msg
    assert str(p) in msg and f"line {line}" in msg and f"column {column!r}" in msg, msg
    assert words in msg


def test_missing_file_and_empty_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        load_trace(tmp_path / "nope.csv")
    with pytest.raises(TraceError, match="empty"):
        load_trace(_write(tmp_path, ""))


def test_round_trip_through_csv_keeps_the_workload(tmp_path) -> None:
    cfg = SimConfig(scenario="microservice", duration=300.0, seed=2)
    res = simulate(cfg)
    from synctune.sim import build_workload

    wl = build_workload(cfg)
    path = tmp_path / "w.csv"
    save_trace(wl, path)
    back = load_trace(path)
    assert back.names == wl.names
    for name in wl.names:
        assert np.allclose(back.nodes[name].reads, wl.nodes[name].reads)
        assert np.array_equal(back.nodes[name].write_bytes, wl.nodes[name].write_bytes)
    # the same run from the trace file gives the same sync count
    again = simulate(SimConfig(trace=str(path), strategy=cfg.strategy, duration=300.0,
                               rtt_ms=20.0, seed=2, base_db_bytes=100_000_000))
    for key in ("reads", "writes", "syncs", "ryw_pulls"):
        assert again.summary[key] == res.summary[key], key
    assert not list(tmp_path.glob(".w.csv.*"))


def test_parquet_round_trip(tmp_path) -> None:
    pytest.importorskip("pyarrow")
    wl = load_trace(_write(tmp_path, GOOD))
    path = tmp_path / "w.parquet"
    save_trace(wl, path)
    back = load_trace(path)
    assert back.nodes["a"].reads.tolist() == [0.5, 4.0]
    assert back.primary_bytes.tolist() == [100]


def test_binary_file_names_the_file(tmp_path) -> None:
    p = tmp_path / "bin.csv"
    p.write_bytes(b"t,node,op\n0,a,read\n\xff\xfe\x00garbage\n")
    with pytest.raises(TraceError) as exc:
        load_trace(p)
    assert str(p) in str(exc.value) and "UTF-8" in str(exc.value)
