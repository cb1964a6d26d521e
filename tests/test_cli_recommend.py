"""``synctune recommend`` and the CLI's error contract, through a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from synctune.policy import PRESETS
from synctune.sim import SimConfig, simulate


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "synctune", *args],
                          capture_output=True, text=True, timeout=60)


def test_default_table_lists_every_preset() -> None:
    out = _run("recommend")
    assert out.returncode == 0, out.stderr
    for name in PRESETS:
        assert name in out.stdout


def test_rule_for_a_given_workload_as_json() -> None:
    out = _run("recommend", "--write-frequency", "2", "--network-latency", "50",
               "--freshness", "20", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert rows == [{"kind": "workload", "name": "given", "write_frequency_per_min": 2.0,
                     "network_latency_ms": 50.0, "data_freshness_s": 20.0,
                     "settings": "60 s, on-write, read-your-writes"}]


@pytest.mark.parametrize(("args", "needle"), [
    (("--write-frequency", "1", "--network-latency", "5", "--freshness", "nan"), "data_freshness"),
    (("--write-frequency", "-1", "--network-latency", "5", "--freshness", "3"), "write_frequency"),
    (("--write-frequency", "1"), "go together"),
    (("--bogus",), "--bogus"),
])
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], needle: str) -> None:
    out = _run("recommend", *args)
    assert out.returncode == 2
    assert needle in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr


TRACE = str(Path(__file__).resolve().parents[1] / "data" / "flash-crowd.csv")


def test_trace_advice_as_json_names_interval_and_predicted_share() -> None:
    out = _run("recommend", "--trace", TRACE, "--freshness", "60", "--stale-share", "0.02",
               "--json")
    assert out.returncode == 0, out.stderr
    advice = json.loads(out.stdout)
    cfg = SimConfig(trace=TRACE, freshness=60.0, strategy=f"periodic:{advice['sync_interval']:g}",
                    detail=False)
    again = simulate(cfg).summary
    assert advice["over_freshness_fraction"] == again["over_freshness_fraction"]
    assert advice["syncs"] == again["syncs"]
    assert advice["meets_target"] == (advice["over_freshness_fraction"] <= 0.02)
    assert {"seed-rule", "adaptive", "budgeted", "preset:production"} <= set(
        advice["alternatives"])
    assert advice["alternatives"]["budgeted"]["spec"] == "budgeted:0.02"
    # the tuner named meets the target with the fewest syncs of the two
    meeting = {n: advice["alternatives"][n]["syncs"] for n in ("adaptive", "budgeted")
               if advice["alternatives"][n]["meets_target"]}
    assert advice["tuner"] == (min(meeting, key=lambda n: meeting[n]) if meeting else None)
    assert f"syncInterval: {advice['sync_interval']:g}," in advice["settings"]["typescript"]


def test_trace_advice_table_has_paste_ready_settings() -> None:
    out = _run("recommend", "--trace", TRACE, "--freshness", "60")
    assert out.returncode == 0, out.stderr
    assert "Fixed sync_interval:" in out.stdout
    assert "sync_interval=" in out.stdout and "syncInterval:" in out.stdout
    assert "readYourWrites:" in out.stdout
    assert "e+0" not in out.stdout  # bytes and counts in plain figures
    assert "  budgeted  " in out.stdout and "  adaptive  " in out.stdout
    tuner_line = [ln for ln in out.stdout.splitlines() if ln.startswith("Tuner")]
    assert len(tuner_line) == 1
    assert ("--strategy budgeted:0.01" in tuner_line[0]
            or "--strategy adaptive:0.01" in tuner_line[0] or "neither" in tuner_line[0])


def test_without_a_trace_both_tuners_are_shown_with_when_to_run_each() -> None:
    out = _run("recommend")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    for name in ("budgeted", "adaptive"):
        assert any(ln.startswith(f"  {name}") and f"--strategy {name}:0.01" in ln
                   for ln in lines), out.stdout
    rows = json.loads(_run("recommend", "--json").stdout)
    tuners = {r["name"]: r for r in rows if r["kind"] == "tuner"}
    assert set(tuners) == {"adaptive", "budgeted"}
    assert all(r["when"] and r["spec"] == f"{n}:0.01" for n, r in tuners.items())


@pytest.mark.parametrize(("args", "needle"), [
    (("--trace", TRACE), "--freshness"),
    (("--trace", TRACE, "--freshness", "30", "--write-frequency", "2"), "--trace replaces"),
    (("--trace", TRACE, "--freshness", "30", "--network-latency", "-5"), "rtt_ms"),
    (("--trace", TRACE, "--freshness", "30", "--stale-share", "1.5"), "stale_share"),
    (("--trace", "no-such-trace.csv", "--freshness", "30"), "no-such-trace.csv"),
])
def test_trace_advice_bad_input_is_one_line_and_exit_2(args: tuple[str, ...],
                                                        needle: str) -> None:
    out = _run("recommend", *args)
    # a missing file is a runtime failure (exit 1), bad input exits 2: one line either way
    assert out.returncode == (1 if needle == "no-such-trace.csv" else 2)
    assert needle in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
