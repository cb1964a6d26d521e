"""The ``synctune`` command group; each subcommand lives in its own module."""

from __future__ import annotations

import signal
import sys

import click

from synctune import __version__
from synctune.cli.compare import compare
from synctune.cli.doctor import doctor
from synctune.cli.recommend import recommend
from synctune.cli.run import run
from synctune.cli.sweep import sweep


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="synctune")
def main() -> None:
    """Keep embedded database replicas fresh at the least cost."""


main.add_command(recommend)
main.add_command(sweep)
main.add_command(run)
main.add_command(doctor)
main.add_command(compare)


def entry() -> None:
    """The ``synctune`` program: :func:`main`, with Ctrl-C ending it quietly (exit 130)."""
    try:
        main(prog_name="synctune")
    except KeyboardInterrupt:
        click.echo("synctune: interrupted", err=True)
        sys.exit(130)
    finally:  # a Ctrl-C while the interpreter shuts down must not print a traceback either
        signal.signal(signal.SIGINT, signal.SIG_IGN)
