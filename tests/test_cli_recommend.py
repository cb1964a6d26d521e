"""``synctune recommend`` and the CLI's error contract, through a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from synctune.policy import PRESETS


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
