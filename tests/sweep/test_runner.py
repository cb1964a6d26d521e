"""The runner: storing as runs finish, skipping stored runs, errors, and any executor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
import sweep_tasks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synctune.sweep import Grid, ResultStore, SweepRunError, open_executor, run_key, run_sweep


def _expected(runs: list[dict[str, object]]) -> dict[str, float]:
    return {run_key(r): sweep_tasks.noisy(r)["value"] for r in runs}


def _check(frame: pd.DataFrame, runs: list[dict[str, object]]) -> None:
    assert list(frame["run_key"]) == [run_key(r) for r in runs]
    assert dict(zip(frame["run_key"], frame["value"], strict=True)) == _expected(runs)
    assert list(frame["seed"]) == [r["seed"] for r in runs]
    assert (frame["run_elapsed_s"] >= 0).all()


def test_in_memory_with_threads() -> None:
    runs = Grid({"x": [1, 2, 3]}, seeds=3).runs()
    with ThreadPoolExecutor(2) as pool:
        frame = run_sweep(runs, task=sweep_tasks.noisy, executor=pool, max_in_flight=2)
    _check(frame, runs)
    assert set(frame["label"]) == {"x=1", "x=2", "x=3"}


def test_process_pool_stores_every_run(tmp_path: Path) -> None:
    runs = Grid({"x": [1, 2]}, seeds=4).runs()
    with ProcessPoolExecutor(2) as pool:
        frame = run_sweep(runs, task=sweep_tasks.noisy, executor=pool, store=tmp_path)
    _check(frame, runs)
    assert frame["pid"].ne(os.getpid()).all()
    assert ResultStore(tmp_path).keys() == {run_key(r) for r in runs}


def test_default_executor_is_a_local_process_pool() -> None:
    runs = Grid({"x": [5]}, seeds=2).runs()
    frame = run_sweep(runs, task=sweep_tasks.noisy)
    _check(frame, runs)
    assert frame["pid"].ne(os.getpid()).all()


def test_dask_local_cluster_one_worker(tmp_path: Path) -> None:
    runs = Grid({"x": [1, 2]}, seeds=2).runs()
    with open_executor(dask="local", workers=1) as executor:
        frame = run_sweep(runs, task=sweep_tasks.noisy, executor=executor, store=tmp_path)
    _check(frame, runs)
    assert frame["pid"].nunique() == 1 and frame["pid"].ne(os.getpid()).all()


def test_stored_runs_are_not_redone(tmp_path: Path) -> None:
    log = tmp_path / "log"
    runs = Grid({"x": [1, 2, 3]}, seeds=2, fixed={"log": str(log), "sleep": 0.0}).runs()
    with ThreadPoolExecutor(2) as pool:
        run_sweep(runs[:4], task=sweep_tasks.logged, executor=pool, store=tmp_path / "s")
        frame = run_sweep(runs + runs[:1], task=sweep_tasks.logged, executor=pool,
                          store=tmp_path / "s")
    assert len(log.read_text().splitlines()) == len(runs)
    assert len(frame) == len(runs)
    assert list(frame["value"]) == [r["x"] * 10 + r["seed"] for r in runs]


def test_a_failing_run_keeps_the_stored_ones(tmp_path: Path) -> None:
    runs = [{"x": x, "seed": 0} for x in (1, 2, 3, 4)]
    with ThreadPoolExecutor(1) as pool, pytest.raises(SweepRunError, match="x must not be 3"):
        run_sweep(runs, task=sweep_tasks.failing, executor=pool, store=tmp_path,
                  max_in_flight=1)
    assert ResultStore(tmp_path).keys() == {run_key(r) for r in runs[:2]}


def test_task_must_return_a_mapping() -> None:
    with ThreadPoolExecutor(1) as pool, pytest.raises(SweepRunError, match="must return a map"):
        run_sweep([{"x": 1}], task=sweep_tasks.not_a_mapping, executor=pool)


def test_result_names_clashing_with_parameters_are_prefixed() -> None:
    with ThreadPoolExecutor(1) as pool:
        frame = run_sweep([{"label": "mine", "x": 1, "seed": 0}], task=sweep_tasks.noisy,
                          executor=pool)
    assert frame.loc[0, "label"] == "mine" and frame.loc[0, "result_label"] == "x=1"


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="reserved"):
        run_sweep([{"run_key": 1}], task=sweep_tasks.noisy)
    with pytest.raises(TypeError, match="must be a mapping"):
        run_sweep([1], task=sweep_tasks.noisy)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="max_in_flight must be"):
        run_sweep([{"x": 1, "seed": 0}], task=sweep_tasks.noisy, max_in_flight=0)
    with pytest.raises(ValueError, match="workers must be >= 1"), open_executor(workers=0):
        pass


SWEEP_SCRIPT = textwrap.dedent("""
    import sys
    from concurrent.futures import ProcessPoolExecutor
    import sweep_tasks
    from synctune.sweep import Grid, run_sweep
    store, log = sys.argv[1], sys.argv[2]
    runs = Grid({"x": list(range(10))}, seeds=4, fixed={"log": log, "sleep": 0.05}).runs()
    with ProcessPoolExecutor(2) as pool:
        frame = run_sweep(runs, task=sweep_tasks.logged, executor=pool, store=store,
                          max_in_flight=4)
    print(len(frame))
""")


def test_resume_after_a_real_kill(tmp_path: Path) -> None:
    store, log = tmp_path / "store", tmp_path / "log"
    total = 40
    script = tmp_path / "sweep.py"
    script.write_text(SWEEP_SCRIPT)
    env = {**os.environ, "SWEEP_PHASE": "first"}
    proc = subprocess.Popen([sys.executable, str(script), str(store), str(log)], env=env,
                            start_new_session=True, stdout=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(ResultStore(store).keys()) < 6 and time.monotonic() < deadline:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its pool's workers
        proc.wait()
    stored_at_kill = ResultStore(store).keys()
    assert 6 <= len(stored_at_kill) < total

    env["SWEEP_PHASE"] = "second"
    out = subprocess.run([sys.executable, str(script), str(store), str(log)], env=env,
                         capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == str(total)

    runs = Grid({"x": list(range(10))}, seeds=4, fixed={"log": str(log), "sleep": 0.05}).runs()
    by_line = {f"{r['x']} {r['seed']}": run_key(r) for r in runs}
    second = [by_line[line.split(" ", 1)[1]] for line in log.read_text().splitlines()
              if line.startswith("second ")]
    assert len(second) == len(set(second)), "a run was done twice in the resumed sweep"
    assert set(second) == set(by_line.values()) - stored_at_kill, "a stored run was redone"
    frame = ResultStore(store).load()
    assert len(frame) == total
    assert sorted(frame["value"]) == sorted(r["x"] * 10 + r["seed"] for r in runs)


def test_default_task_is_the_simulators_summary() -> None:
    from synctune.sim import SimConfig, simulate

    runs = Grid({"strategy": ["periodic:60", "oracle"]}, seeds=2,
                fixed={"scenario": "microservice", "duration": 600.0}).runs()
    with ThreadPoolExecutor(2) as pool:
        frame = run_sweep(runs, executor=pool)
    for params, (_, row) in zip(runs, frame.iterrows(), strict=True):
        summary = simulate(SimConfig(**params)).summary
        assert row["syncs"] == summary["syncs"]
        assert row["bytes"] == summary["bytes"]
        assert row["result_strategy"] == summary["strategy"]
        assert row["result_seed"] == row["seed"] == params["seed"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 12), stored=st.sets(st.integers(0, 11)), dup=st.integers(0, 3))
def test_resume_runs_exactly_the_missing_runs(tmp_path_factory: pytest.TempPathFactory, n: int,
                                               stored: set[int], dup: int) -> None:
    tmp = tmp_path_factory.mktemp("resume")
    log = tmp / "log"
    runs = Grid({"x": list(range(n))}, fixed={"log": str(log), "sleep": 0.0}).runs()
    store = ResultStore(tmp / "store")
    before = {i for i in stored if i < n}
    for i in before:
        row = {**runs[i], "value": -1, "run_key": run_key(runs[i])}
        store.write(run_key(runs[i]), row)
    with ThreadPoolExecutor(2) as pool:
        frame = run_sweep(runs + runs[:dup], task=sweep_tasks.logged, executor=pool,
                          store=store, max_in_flight=3)
    done = sorted(int(line.split()[1]) for line in log.read_text().splitlines()) \
        if log.exists() else []
    assert done == sorted(set(range(n)) - before)
    assert list(frame["x"]) == list(range(n))
    assert [v == -1 for v in frame["value"]] == [i in before for i in range(n)]
