"""Each bad input found in the field: one line naming field and value, exit 2, nothing lost."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import synctune.sim
from synctune.cli.main import main
from synctune.live.ops.doctor import _HINTS, _token_check
from synctune.policy import FailureKind
from synctune.sim import TraceError, load_trace, save_trace


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stderr


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture
def no_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("simulated before checking the output directory")

    # the command imports the simulator's compare when it runs (not at import, for --help)
    monkeypatch.setattr(synctune.sim, "compare", forbidden)


@pytest.mark.usefixtures("no_simulation")
def test_compare_out_under_a_file_fails_before_simulating(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("keep me")
    code, err = _cli("compare", "--out", str(tmp_path / "file" / "sub"))
    assert code == 2
    assert "--out" in _one_line(err) and "a parent is a file" in err
    assert (tmp_path / "file").read_text() == "keep me"


@pytest.mark.usefixtures("no_simulation")
def test_compare_out_naming_a_file_fails_before_simulating(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("keep me")
    code, err = _cli("compare", "--out", str(tmp_path / "file"))
    assert code == 2 and "'--out'" in _one_line(err) and "is a file" in err
    assert (tmp_path / "file").read_text() == "keep me"


@pytest.mark.usefixtures("no_simulation")
def test_compare_out_where_nothing_can_be_written_fails_before_simulating() -> None:
    # /proc takes no new directories, even from root (unlike a chmod 0500 folder)
    code, err = _cli("compare", "--out", "/proc/self/synctune-out")
    assert code == 2 and "cannot write there" in _one_line(err)


def test_huge_duration_is_refused_by_name() -> None:
    code, err = _cli("compare", "--duration", "1e12")
    assert code == 2
    assert "duration must be <= 2.592e+06, got 1000000000000.0" in _one_line(err)


def _trace(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "trace.csv"
    path.write_text(text)
    return path


def test_trace_bytes_beyond_int64_are_refused_without_overflow(tmp_path: Path) -> None:
    path = _trace(tmp_path, "t,node,op,bytes\n0,a,read,\n1,a,write,9223372036854775808\n")
    with pytest.raises(TraceError) as info:
        load_trace(path)
    message = str(info.value)
    assert "line 3" in message and "'bytes'" in message and "9223372036854775808" in message
    assert "-9223372036854775808" not in message
    # the largest int64 is a valid (if absurd) size
    ok = load_trace(_trace(tmp_path, "t,node,op,bytes\n1,a,write,9223372036854774784\n"))
    assert int(ok.nodes["a"].write_bytes[0]) == 9223372036854774784


def test_null_node_in_parquet_is_named(tmp_path: Path) -> None:
    path = tmp_path / "trace.parquet"
    pd.DataFrame({"t": [0.0, 1.0, 2.0], "node": ["a", None, "a"],
                  "op": ["read", "write", "read"]}).to_parquet(path)
    with pytest.raises(TraceError, match=r"row 2, column 'node': missing value"):
        load_trace(path)


def test_non_utf8_sweep_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "sweep.toml"
    bad.write_bytes(b"seeds = 2\n# caf\xe9\n")
    code, err = _cli("sweep", "--file", str(bad), "--no-progress")
    assert code == 2
    assert "sweep.toml" in _one_line(err) and "not UTF-8" in err


@pytest.mark.parametrize("command", [
    ["run", "--db", "x.db", "--freshness", "5", "--url"],
    ["doctor", "--db", "x.db", "--url"],
])
@pytest.mark.parametrize(("url", "needle"), [
    ("http://alice:s3cret@127.0.0.1:9", "user:password@"),
    ("http://", "no host"),
    ("http://127.0.0.1:99999", "port must be a number in 1..65535"),
])
def test_bad_urls_exit_2_in_run_and_doctor_alike(tmp_path: Path, command: list[str], url: str,
                                                 needle: str) -> None:
    out = subprocess.run([sys.executable, "-m", "synctune", *command, url], capture_output=True,
                         text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert needle in _one_line(out.stderr)
    assert "s3cret" not in out.stderr
    assert list(tmp_path.iterdir()) == []  # no replica file was created


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def test_doctor_hint_for_a_refused_connection_is_the_network_one(closed_port: int) -> None:
    result = _token_check(f"http://127.0.0.1:{closed_port}", None, 2.0)
    assert not result.ok
    assert result.hint == _HINTS[FailureKind.NETWORK]
    assert "does not answer in time" not in result.hint


def test_trailing_blank_lines_in_a_csv_trace_are_accepted(tmp_path: Path) -> None:
    workload = load_trace(_trace(tmp_path, "t,node,op\n0,a,read\n1,a,write\n\n\n"))
    assert workload.nodes["a"].reads.size == 1 and workload.nodes["a"].writes.size == 1
    # a blank line between events is still an error, named by its line
    with pytest.raises(TraceError, match="line 3"):
        load_trace(_trace(tmp_path, "t,node,op\n0,a,read\n\n1,a,write\n"))


def test_duplicate_header_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match=r"line 1, column 't': the header names it twice"):
        load_trace(_trace(tmp_path, "t,t,node,op\n0,0,a,read\n"))


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_output_files_follow_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    workload = load_trace(_trace(tmp_path, "t,node,op\n0,a,read\n1,a,write\n"))
    old = os.umask(umask)
    try:
        save_trace(workload, tmp_path / "out.csv")
        code, err = _cli("compare", "--trace", str(tmp_path / "trace.csv"),
                         "--strategies", "periodic:10", "--out", str(tmp_path / "cmp"))
    finally:
        os.umask(old)
    assert code == 0, err
    assert stat.S_IMODE((tmp_path / "out.csv").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "cmp" / "compare.csv").stat().st_mode) == mode


@pytest.mark.parametrize(("spec", "needle"), [
    ("budgeted+read-wait", "'read-wait' needs the longest wait"),
    ("budgeted+read-wait:0", "max_read_wait must be > 0, got 0"),
    ("periodic:300+read-wait:soon", "needs a number after ':', got 'soon'"),
])
def test_bad_read_wait_specs_exit_2_in_run_and_compare(tmp_path: Path, spec: str,
                                                       needle: str) -> None:
    code, err = _cli("compare", "--strategies", f"budgeted,{spec}", "--duration", "60")
    assert code == 2 and needle in _one_line(err)
    code, err = _cli("run", "--db", str(tmp_path / "r.db"), "--url", "http://127.0.0.1:9",
                     "--freshness", "30", "--strategy", spec)
    assert code == 2 and needle in _one_line(err)
    assert list(tmp_path.iterdir()) == []  # no replica file was created


def test_compare_shows_the_read_wait_columns_only_when_reads_waited() -> None:
    args = ["compare", "--strategies", "periodic:600,periodic:600+read-wait:1",
            "--duration", "300"]
    table = CliRunner().invoke(main, args)
    assert table.exit_code == 0, table.output
    assert "wait p99 ms" in table.output
    rows = json.loads(CliRunner().invoke(main, [*args, "--json"]).output)
    assert rows[0]["read_waits"] == 0 and rows[1]["read_waits"] > 0
    assert 0 < rows[1]["read_wait_p99_ms"] <= 1000.0
    alone = CliRunner().invoke(main, ["compare", "--strategies", "periodic:600",
                                      "--duration", "300"])
    assert alone.exit_code == 0 and "wait p99 ms" not in alone.output
