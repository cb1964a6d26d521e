"""``synctune sweep`` on a small task: the table, resuming through --out, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from synctune.cli.main import main
from synctune.sweep import ResultStore

TASK = ["--task", "sweep_tasks:noisy", "--workers", "1", "--no-progress"]


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["sweep", *TASK, *args])
    return result.exit_code, result.stdout, result.stderr


def test_table_with_confidence_intervals_and_resume(tmp_path: Path) -> None:
    out = tmp_path / "results"
    code, stdout, stderr = _run("--param", "x=1,2", "--seeds", "3", "--metrics", "value",
                                "--out", str(out))
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert lines[0].startswith("mean ± half-width of the 95% CI over 3 seed(s)")
    assert lines[1].split() == ["x", "value"]
    assert [ln.split()[0] for ln in lines[2:]] == ["1", "2"]
    assert all("±" in ln for ln in lines[2:])
    assert "6 runs (6 new, 0 from the store)" in stderr
    assert len(ResultStore(out)) == 6
    code, stdout2, stderr = _run("--param", "x=1,2", "--seeds", "3", "--metrics", "value",
                                 "--out", str(out))
    assert code == 0 and stdout2 == stdout
    assert "6 runs (0 new, 6 from the store)" in stderr


def test_json_summary_matches_stored_runs(tmp_path: Path) -> None:
    code, stdout, _ = _run("--param", "x=4", "--seeds", "4", "--metrics", "value", "--json",
                           "--confidence", "0.9", "--out", str(tmp_path))
    assert code == 0
    rows = json.loads(stdout)
    values = ResultStore(tmp_path).load()["value"]
    assert len(rows) == 1 and rows[0]["n"] == 4
    assert rows[0]["mean"] == pytest.approx(values.mean())
    assert rows[0]["ci_low"] < rows[0]["mean"] < rows[0]["ci_high"]


def test_sweep_file_with_overrides(tmp_path: Path) -> None:
    spec = tmp_path / "sweep.toml"
    spec.write_text('strategies = ["a", "b"]\nseeds = 2\nmetrics = ["value"]\n'
                    '[params]\nx = [1, 2, 3]\n')
    code, stdout, stderr = _run("--file", str(spec), "--seeds", "3")
    assert code == 0, stderr
    assert "over 3 seed(s)" in stdout
    assert len(stdout.splitlines()) == 2 + 6
    assert "18 runs" in stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--freshness", "10,abc"], "--freshness must be numbers, got 'abc'"),
    (["--freshness", "10,-1"], "freshness must be > 0, got -1.0"),
    (["--seeds", "0"], "seeds must be >= 1, got 0"),
    (["--strategies", "a,,b"], "--strategies must be a comma-separated list"),
    (["--param", "x"], "--param must look like NAME=V1,V2, got 'x'"),
    (["--param", "x=1,1"], "levels of x must be distinct"),
    (["--param", "seed=1,2"], "seed is set by its own option"),
    (["--confidence", "1.5"], "confidence must be < 1, got 1.5"),
    (["--workers", "0"], "workers must be >= 1, got 0"),
    (["--task", "nomodule"], "--task must look like MODULE:FUNCTION"),
    (["--task", "sweep_tasks:nothing"], "--task 'sweep_tasks:nothing' cannot be loaded"),
    (["--param", "x=1,3", "--task", "sweep_tasks:failing"], "failed: x must not be 3"),
    (["--param", "x=1", "--metrics", "nope"], "no metric 'nope' in the results"),
    (["--dask", "local", "--workers", "x"], "Invalid value for '--workers'"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    code, _, stderr = _run("--param", "x=1", *args) if "--param" not in args \
        else _run(*args)
    assert code == 2
    assert message in stderr
    assert "Traceback" not in stderr
    if "Invalid value" not in message:
        assert len(stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("text", "suffix", "message"), [
    ("seeds = 2\nbogus = 1\n", ".toml", "unknown setting 'bogus'"),
    ("seeds = [\n", ".toml", "is not valid"),
    ("{\"seeds\": 2,", ".json", "is not valid"),
    ("[1, 2]", ".json", "must hold a table of settings"),
    ("strategies = \"adaptive\"\n", ".toml", "strategies must be a list"),
])
def test_bad_sweep_files(tmp_path: Path, text: str, suffix: str, message: str) -> None:
    spec = tmp_path / f"sweep{suffix}"
    spec.write_text(text)
    code, _, stderr = _run("--file", str(spec))
    assert code == 2 and message in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_missing_sweep_file_is_a_runtime_failure(tmp_path: Path) -> None:
    code, _, stderr = _run("--file", str(tmp_path / "none.toml"))
    assert code == 1 and "none.toml" in stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr


def test_simulator_sweep(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [
        "sweep", "--scenarios", "microservice", "--strategies", "periodic:60,oracle",
        "--freshness", "30", "--seeds", "2", "--duration", "600", "--workers", "1",
        "--no-progress", "--metrics", "syncs,over_freshness_fraction", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["strategy", "syncs", "over_freshness_fraction"]
    assert [ln.split()[0] for ln in lines[2:]] == ["periodic:60", "oracle"]
    runs = ResultStore(tmp_path).load()
    assert len(runs) == 4 and set(runs["seed"]) == {0, 1}
    assert (runs["duration"] == 600).all() and (runs["scenario"] == "microservice").all()


@pytest.mark.parametrize(("args", "message"), [
    (["--strategies", "periodic:x"], "strategy 'periodic:x'"),
    (["--scenarios", "nowhere"], "scenario must be one of"),
    (["--param", "trace=/no/such/trace.csv"], "trace file not found"),
    (["--param", "rtt_msec=10"], "unknown simulator parameter 'rtt_msec'"),
    (["--param", "rtt_ms=-5"], "rtt_ms must be >= 0, got -5"),
    (["--duration", "0"], "duration must be > 0"),
])
def test_bad_simulator_parameters_fail_before_running(tmp_path: Path, args: list[str],
                                                     message: str) -> None:
    result = CliRunner().invoke(main, ["sweep", "--no-progress", "--out", str(tmp_path),
                                       *args])
    # a missing file is a runtime failure (1), not bad input (2); both are one line
    assert result.exit_code == (1 if "not found" in message else 2)
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert len(ResultStore(tmp_path)) == 0


def test_dask_local_cluster_from_the_command_line(tmp_path: Path) -> None:
    code, stdout, stderr = _run("--param", "x=1,2", "--seeds", "2", "--metrics", "value",
                                "--dask", "local", "--out", str(tmp_path))
    assert code == 0, stderr
    assert len(stdout.splitlines()) == 4  # title, header, one row per x
    assert "4 runs (4 new, 0 from the store)" in stderr
    runs = ResultStore(tmp_path).load()
    assert runs["run_worker"].nunique() == 1  # one LocalCluster worker process


def test_unknown_metric_is_refused_before_any_run(tmp_path) -> None:
    out = tmp_path / "store"
    result = subprocess.run(
        [sys.executable, "-m", "synctune", "sweep", "--scenarios", "microservice",
         "--strategies", "periodic:30", "--seeds", "1", "--duration", "60",
         "--metrics", "nope", "--out", str(out)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "'nope'" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())
