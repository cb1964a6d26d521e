"""The ``synctune`` command group; each subcommand lives in its own module, loaded on use."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

import click

from synctune._version import __version__
from synctune.cli._lazy import LazyGroup

#: name -> (module:command, the help line ``synctune --help`` shows without importing it)
COMMANDS = {
    "compare": ("synctune.cli.compare:compare",
                "Compare sync strategies on one workload: syncs, bytes, staleness, alerts."),
    "doctor": ("synctune.cli.doctor:doctor",
               "Check environment, URL, token, reachability, integrity, sync state and a manual "
               "sync."),
    "recommend": ("synctune.cli.recommend:recommend",
                  "Settings from the guide's presets and its adjustSyncInterval rule, or from your "
                  "traffic."),
    "run": ("synctune.cli.run:run",
            "Keep the replica at --db fresh against --url until Ctrl-C or SIGTERM."),
    "sweep": ("synctune.cli.sweep:sweep",
              "Simulate a factorial design over seeds: each figure's mean and confidence "
              "interval."),
    "watch": ("synctune.cli.watch:watch",
              "Pull the primary at --url into --db on the fleet's cadence and announce each "
              "change."),
}


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="synctune")
def main() -> None:
    """Keep embedded database replicas fresh at the least cost."""


def entry() -> None:
    """The ``synctune`` program: :func:`main`, with Ctrl-C ending it quietly (exit 130)."""
    code: int | str | None = 0
    try:
        main(prog_name="synctune")
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:
        click.echo("synctune: interrupted", err=True)
        code = 130
    finally:  # a Ctrl-C while the interpreter shuts down must not print a traceback either
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if any(t.name in _NETWORK_THREADS and t.is_alive() for t in threading.enumerate()):
        # `run` abandoned a sync (or an open) the network holds: its result is already
        # reported. Tearing the interpreter down around that thread takes ~0.5 s more; the
        # engine never confirmed what it was sending, so skipping the teardown leaves the file
        # as a kill would, which the next start handles (tests/live/test_cli_live.py).
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 1)
    sys.exit(code)


#: threads that may be left inside a network call when `run` exits (see synctune.cli.run)
_NETWORK_THREADS = ("synctune-sync", "synctune-open")
