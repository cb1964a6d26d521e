"""Start-up time of ``synctune --help`` against ``python -c "import click"``.

Run: ``.venv/bin/python benchmarks/bench_cli.py [--runs N]``

Both commands start a fresh interpreter; they are run interleaved, N times each, and the medians
of their wall times are compared. Goal: ``synctune --help`` within 2.5x of importing click (it
should load click and the command table, not the simulator's numpy and pandas). Also shows
``synctune compare --help``, which loads the simulator, for scale.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

GOAL = 2.5

COMMANDS = {
    "import click": [sys.executable, "-c", "import click"],
    "synctune --help": [sys.executable, "-m", "synctune", "--help"],
    "synctune compare --help": [sys.executable, "-m", "synctune", "compare", "--help"],
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
    base = median["import click"]
    for name, m in median.items():
        print(f"{name:<25} median {m * 1000:7.1f} ms  ({m / base:4.2f}x import click)")
    ratio = median["synctune --help"] / base
    verdict = "meets" if ratio <= GOAL else "MISSES"
    print(f"synctune --help / import click = {ratio:.2f} ({verdict} the goal <= {GOAL})")


if __name__ == "__main__":
    main()
