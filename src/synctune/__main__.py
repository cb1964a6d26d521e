"""``python -m synctune`` runs the CLI."""

from synctune.cli.main import main

main(prog_name="synctune")
