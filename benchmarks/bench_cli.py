"""Start-up time of ``synctune --help`` and every ``synctune <command> --help`` against
``python -c "import click"``.

Run: ``.venv/bin/python benchmarks/bench_cli.py [--runs N]``

Every command starts a fresh interpreter; they are run interleaved, N times each, and the
medians of their wall times are compared with the median of ``import click`` from the same run.
The CPU time (user + system) of each child is shown beside: on a loaded machine it varies less
than the wall time, which waits for a core.
Goal: each within 2.5x of importing click. A help text needs click and the command's options,
not the simulator's numpy and pandas nor the live adapters: those load when the command runs.
The subcommands are read from the command table, so a new one is measured without an edit here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from synctune.cli.main import COMMANDS as SUBCOMMANDS

GOAL = 2.5
BASELINE = "import click"

COMMANDS = {
    BASELINE: [sys.executable, "-c", "import click"],
    "synctune --help": [sys.executable, "-m", "synctune", "--help"],
    **{
        f"synctune {name} --help": [sys.executable, "-m", "synctune", name, "--help"]
        for name in sorted(SUBCOMMANDS)
    },
}


def _once(argv: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) in seconds of one run of ``argv``."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise subprocess.CalledProcessError(child.returncode, argv)
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command")
    args = parser.parse_args()
    for argv in COMMANDS.values():  # warm the file cache and bytecode
        _once(argv)
    wall: dict[str, list[float]] = {name: [] for name in COMMANDS}
    cpu: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, argv in COMMANDS.items():
            w, c = _once(argv)
            wall[name].append(w)
            cpu[name].append(c)
    _report(wall, cpu)


def _report(wall: dict[str, list[float]], cpu: dict[str, list[float]]) -> None:
    median_wall = {name: statistics.median(t) for name, t in wall.items()}
    median_cpu = {name: statistics.median(t) for name, t in cpu.items()}
    width = max(map(len, COMMANDS))
    misses = []
    for name in COMMANDS:
        ratio = median_wall[name] / median_wall[BASELINE]
        cpu_ratio = median_cpu[name] / median_cpu[BASELINE]
        mark = "" if name == BASELINE or ratio <= GOAL else "  MISSES"
        print(f"{name:<{width}} wall {median_wall[name] * 1000:6.1f} ms ({ratio:4.2f}x)  "
              f"cpu {median_cpu[name] * 1000:6.1f} ms ({cpu_ratio:4.2f}x){mark}")
        if mark:
            misses.append(name)
    verdict = f"all meet the goal <= {GOAL}x" if not misses else f"{len(misses)} miss the goal"
    print(f"{len(COMMANDS) - 1} help texts against {BASELINE} (medians, wall time): {verdict}")

if __name__ == "__main__":
    main()
