"""Start-up time of ``synctune --help`` and every ``synctune <command> --help`` against
``python -c "import click"``.

Run: ``.venv/bin/python benchmarks/bench_cli.py [--runs N]``

Every command starts a fresh interpreter; they are run interleaved, N times each, and the
medians of their wall times are compared with the median of ``import click`` from the same run.
Goal: each within 2.5x of importing click. A help text needs click and the command's options,
not the simulator's numpy and pandas nor the live adapters: those load when the command runs.
The subcommands are read from the command table, so a new one is measured without an edit here.
"""

from __future__ import annotations

import argparse
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


def _once(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command")
    args = parser.parse_args()
    for argv in COMMANDS.values():  # warm the file cache and bytecode
        _once(argv)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, argv in COMMANDS.items():
            times[name].append(_once(argv))
    median = {name: statistics.median(t) for name, t in times.items()}
    base = median[BASELINE]
    width = max(map(len, COMMANDS))
    misses = []
    for name, m in median.items():
        ratio = m / base
        mark = "" if name == BASELINE or ratio <= GOAL else "  MISSES"
        print(f"{name:<{width}} median {m * 1000:7.1f} ms  ({ratio:4.2f}x {BASELINE}){mark}")
        if mark:
            misses.append(name)
    verdict = f"all meet the goal <= {GOAL}x" if not misses else f"{len(misses)} miss the goal"
    print(f"{len(COMMANDS) - 1} help texts against {BASELINE}: {verdict}")


if __name__ == "__main__":
    main()
