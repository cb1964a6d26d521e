"""Recorded pulls in a trace: replayed as the primary's writes when the trace has none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synctune.sim import TraceError, load_trace


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.csv"
    path.write_text(text)
    return path


def test_pulled_changes_become_primary_writes_spread_since_the_previous_pull(tmp_path):
    path = _write(tmp_path, "t,node,op,bytes,changes\n"
                            "1,app,read,0,0\n"
                            "2,app,pull,0,2\n"
                            "3,app,write,0,0\n"
                            "6,app,pull,0,1\n"
                            "7,app,pull,0,0\n")
    wl = load_trace(path)
    # 2 changes in (0, 2]: at 0.5 and 1.5; 1 change in (2, 6]: at 4
    assert wl.primary_writes.tolist() == [0.5, 1.5, 4.0]
    assert wl.nodes["app"].reads.tolist() == [1.0]
    assert wl.nodes["app"].writes.tolist() == [3.0]


def test_with_primary_rows_the_pulls_are_ignored(tmp_path):
    path = _write(tmp_path, "t,node,op,bytes,changes\n"
                            "1,primary,write,10,\n"
                            "2,app,pull,0,5\n"
                            "3,app,read,0,0\n")
    assert load_trace(path).primary_writes.tolist() == [1.0]


def test_the_node_that_pulled_most_stands_for_the_primary(tmp_path):
    path = _write(tmp_path, "t,node,op,bytes,changes\n"
                            "2,a,pull,0,1\n"
                            "4,b,pull,0,3\n"
                            "5,a,read,0,0\n")
    assert np.allclose(load_trace(path).primary_writes, [2 / 3, 2.0, 10 / 3])


@pytest.mark.parametrize(("text", "needle"), [
    ("t,node,op\n1,app,pull\n", "column 'changes'"),
    ("t,node,op,changes\n1,app,pull,-1\n", "line 2, column 'changes'"),
    ("t,node,op,changes\n1,app,read,0\n2,app,pull,x\n", "line 3, column 'changes'"),
])
def test_bad_pull_rows_name_line_and_column(tmp_path, text, needle):
    with pytest.raises(TraceError, match=needle):
        load_trace(_write(tmp_path, text))
