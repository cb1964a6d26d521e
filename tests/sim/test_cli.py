"""``synctune compare``: output, exit codes, one-line errors, atomic output files."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from synctune.cli.main import main

FAST = ["--scenario", "microservice", "--duration", "300"]


def _run(*args: str):
    return CliRunner().invoke(main, ["compare", *args])


def test_table_lists_every_strategy() -> None:
    r = _run(*FAST, "--strategies", "periodic:30,on-write,oracle")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert any(line.startswith("strategy") and "oracle" in line for line in lines)
    for spec in ("periodic:30", "on-write", "oracle"):
        assert any(line.startswith(spec + " ") for line in lines), r.output


def test_json_has_the_promised_fields() -> None:
    r = _run(*FAST, "--strategies", "periodic:30,adaptive", "--json", "--freshness", "10")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert [row["strategy"] for row in rows] == ["periodic:30", "adaptive"]
    for row in rows:
        for key in ("strategy", "syncs", "sync_failures", "bytes", "reads",
                    "stale_read_fraction", "staleness_mean_s", "staleness_p99_s",
                    "staleness_max_s", "visibility_p99_s", "write_latency_p99_ms",
                    "unsynced_writes_max", "alerts", "oracle_syncs"):
            assert key in row, key
        assert set(row["alerts"]) == {"high_sync_lag", "sync_failure", "replica_stale"}
        assert row["syncs"] >= row["oracle_syncs"]


def test_zero_rtt_is_accepted_and_makes_syncs_instant(tmp_path) -> None:
    trace = tmp_path / "t.csv"
    trace.write_text("t,node,op\n1,primary,write\n2,a,read\n40,a,read\n70,a,read\n")
    r = _run("--trace", str(trace), "--strategies", "periodic:30", "--rtt-ms", "0", "--json")
    assert r.exit_code == 0, r.output
    row = json.loads(r.output)[0]
    # syncs at 30 and 60 s; the write at 1 s is seen from 30 s on
    assert row["syncs"] == 2 and row["staleness_max_s"] == pytest.approx(1.0)


def test_out_writes_the_table_atomically(tmp_path) -> None:
    out = tmp_path / "res"
    r = _run(*FAST, "--strategies", "periodic:30", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert [p.name for p in out.iterdir()] == ["compare.csv"]
    text = (out / "compare.csv").read_text().splitlines()
    assert text[0].startswith("strategy,") and text[1].startswith("periodic:30,")


@pytest.mark.parametrize("args", [
    ["--strategies", "bogus"],
    ["--strategies", "periodic:x"],
    ["--strategies", "periodic:60,,oracle"],
    ["--rtt-ms", "-1"],
    ["--duration", "abc"],
    ["--duration", "0"],
    ["--freshness", "0"],
    ["--seed", "-3"],
    ["--failure-prob", "2"],
    ["--no-such-option"],
    ["--scenario", "nope"],
    ["--trace", "x.csv", "--scenario", "web"],
])
def test_bad_options_exit_2_with_one_line(args) -> None:
    r = _run(*FAST[2:], *args) if "--scenario" in args else _run(*FAST, *args)
    assert r.exit_code == 2, r.output
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "error" in lines[0].lower(), r.output
    assert "Traceback" not in r.output


def test_malformed_trace_exits_2_and_writes_nothing(tmp_path) -> None:
    trace = tmp_path / "bad.csv"
    trace.write_text("t,node,op\n0,a,read\n1,a,frobnicate\n")
    out = tmp_path / "res"
    r = _run("--trace", str(trace), "--out", str(out))
    assert r.exit_code == 2
    assert "bad.csv" in r.output and "line 3" in r.output and "'op'" in r.output
    assert len(r.output.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_missing_trace_file_is_a_runtime_failure(tmp_path) -> None:
    r = _run("--trace", str(tmp_path / "none.csv"))
    assert r.exit_code == 1 and "none.csv" in r.output
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output


def test_simconfig_rejects_an_unknown_strategy_at_construction() -> None:
    from synctune.sim import SimConfig

    with pytest.raises(ValueError, match="strategy"):
        SimConfig(strategy="sometimes")
