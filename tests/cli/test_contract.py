"""The command line's contract: lazy subcommands, one error handler, progress on terminals."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from synctune import InvalidInput, InvalidType
from synctune.cli._lazy import LazyGroup
from synctune.cli.main import COMMANDS, main


def test_help_lists_every_command_without_importing_any() -> None:
    code = ("import sys\nfrom synctune.cli.main import main\n"
            "try:\n    main(['--help'], prog_name='synctune')\nexcept SystemExit as e:\n"
            "    assert e.code == 0, e.code\n"
            "print('LOADED', ','.join(sorted(m for m in sys.modules if m.startswith("
            "('synctune.cli.compare', 'synctune.cli.sweep', 'synctune.cli.run', "
            "'synctune.sim', 'synctune.sweep', 'numpy', 'pandas')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    for name in COMMANDS:
        assert f"  {name} " in out.stdout
    assert out.stdout.strip().endswith("LOADED")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_stored_help_line_is_the_commands_own(name: str) -> None:
    command = main.get_command(click.Context(main), name)
    assert command is not None
    assert command.get_short_help_str(limit=500) == COMMANDS[name][1]


def _group(exc: BaseException) -> click.Group:
    @click.command()
    def boom() -> None:
        raise exc

    group = LazyGroup(name="synctune", lazy={})
    group.add_command(boom)
    return group


@pytest.mark.parametrize(("exc", "code", "line"), [
    (InvalidInput("freshness must be > 0, got -1"), 2, "freshness must be > 0, got -1"),
    (InvalidType("nodes must be an integer,\n got 'x'"), 2, "nodes must be an integer, got 'x'"),
    (click.UsageError("--a and --b go together"), 2, "--a and --b go together"),
    (FileNotFoundError(2, "No such file or directory", "t.csv"), 1,
     "t.csv: No such file or directory"),
    (ConnectionRefusedError("connection refused"), 1, "connection refused"),
])
def test_bad_input_and_runtime_failures_are_one_line(exc: BaseException, code: int,
                                                     line: str) -> None:
    result = CliRunner().invoke(_group(exc), ["boom"])
    assert result.exit_code == code
    assert result.stderr == f"synctune: error: {line}\n"


@pytest.mark.parametrize("exc", [TypeError("unsupported operand"), ValueError("a bug"),
                                 KeyError("k")])
def test_a_bug_keeps_its_traceback(exc: BaseException) -> None:
    result = CliRunner().invoke(_group(exc), ["boom"])
    assert result.exception is exc  # not turned into a quiet exit 2


def test_click_parse_errors_are_one_line_too() -> None:
    result = CliRunner().invoke(main, ["compare", "--freshness", "abc"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "'--freshness'" in result.stderr


def test_output_to_a_closed_pipe_stops_quietly() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "synctune", "recommend"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert err == ""


def test_bare_compare_is_quick_and_says_what_it_runs() -> None:
    result = CliRunner().invoke(main, ["compare", "--strategies", "periodic:60"])
    assert result.exit_code == 0, result.stderr
    assert "web scenario, 1 h simulated (the quick default" in result.stderr
    assert result.stdout.startswith("web: ") and ", 3600 s," in result.stdout.splitlines()[0]


def _on_a_terminal(*args: str, timeout: float = 120) -> tuple[int, str]:
    """Run ``synctune ARGS`` with stderr on a pseudo-terminal; return its code and stderr."""
    leader, follower = pty.openpty()
    # a real terminal has a size (a fresh pty says 0 columns, too narrow for any bar)
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "synctune", *args], stdout=subprocess.PIPE,
                            stderr=follower, stdin=subprocess.DEVNULL)
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    return proc.wait(timeout=10), seen.decode(errors="replace")


def test_compare_shows_a_bar_on_a_terminal_and_nothing_in_a_pipe() -> None:
    args = ("compare", "--duration", "120", "--strategies", "periodic:30,periodic:60")
    code, terminal = _on_a_terminal(*args)
    assert code == 0
    # the bar counts nodes: web's 4 nodes for each of the 2 strategies
    assert "compare" in terminal and "8/8" in terminal
    piped = CliRunner().invoke(main, list(args))
    assert piped.exit_code == 0 and piped.stderr == ""


def test_sweep_bar_is_silent_in_a_pipe(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sweep", "--scenarios", "microservice", "--strategies",
                                       "periodic:30", "--seeds", "2", "--duration", "60",
                                       "--workers", "1"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("2 runs")
    assert "it/s" not in result.stderr and "run/s" not in result.stderr
